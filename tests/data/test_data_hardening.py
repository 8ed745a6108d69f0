"""Gold-standard ARFFs that would give wrong labels are refused, naming the file and line."""
from __future__ import annotations

import pytest

from tinyemo.data import read_avec2016

from tests.data.test_data_errors import HEADER, arff, rows
from tests.data.test_data_errors import avec  # noqa: F401  (a fixture: a valid 2 s corpus)


def _corpus(root, arff_of_dev: str):
    """``root`` (the ``avec`` fixture) with dev_1's arousal ARFF replaced by ``arff_of_dev``."""
    bad = arff(root)
    bad.write_text(arff_of_dev)
    return bad


def test_rows_naming_another_recording_are_refused(avec):
    other = "".join(f"dev_2,{0.04 * j:.2f},0.1\n" for j in range(20, 51))
    bad = _corpus(avec, HEADER + "@data\n" + rows("dev_1", 20) + other)
    line = 4 + 1 + 20 + 1                      # the header, @data, dev_1's rows, then dev_2
    with pytest.raises(ValueError) as err:
        read_avec2016(avec)
    assert str(err.value) == (f"{bad}, line {line}: Instance_name 'dev_2' is another recording "
                              "than this file's 'dev_1'")


def test_an_arff_without_attributes_is_named_as_such(avec):
    bad = _corpus(avec, "@relation GoldStandard\n@data\n" + rows("dev_1", 51))
    with pytest.raises(ValueError, match=rf"^{bad}, line 2: no @attribute lines before @data"):
        read_avec2016(avec)
