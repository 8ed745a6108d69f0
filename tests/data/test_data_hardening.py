"""Gold-standard ARFFs that would give wrong labels are refused, naming the file and line."""
from __future__ import annotations

import pytest

from tinyemo.data import read_avec2016

from tests.data.test_data_errors import HEADER, rows, write_wav


def _corpus(tmp_path, arff_of_dev: str):
    for name in ("train_1", "dev_1"):
        write_wav(tmp_path / "recordings_audio" / f"{name}.wav", 2.0)
        for target in ("arousal", "valence"):
            p = tmp_path / "ratings_gold_standard" / target / f"{name}.arff"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(HEADER + "@data\n" + rows(name, 51))
    bad = tmp_path / "ratings_gold_standard" / "arousal" / "dev_1.arff"
    bad.write_text(arff_of_dev)
    return bad


def test_rows_naming_another_recording_are_refused(tmp_path):
    other = "".join(f"dev_2,{0.04 * j:.2f},0.1\n" for j in range(20, 51))
    bad = _corpus(tmp_path, HEADER + "@data\n" + rows("dev_1", 20) + other)
    line = 4 + 1 + 20 + 1                      # the header, @data, dev_1's rows, then dev_2
    with pytest.raises(ValueError) as err:
        read_avec2016(tmp_path)
    assert str(err.value) == (f"{bad}, line {line}: Instance_name 'dev_2' is another recording "
                              "than this file's 'dev_1'")


def test_an_arff_without_attributes_is_named_as_such(tmp_path):
    bad = _corpus(tmp_path, "@relation GoldStandard\n@data\n" + rows("dev_1", 51))
    with pytest.raises(ValueError, match=rf"^{bad}, line 2: no @attribute lines before @data"):
        read_avec2016(tmp_path)
