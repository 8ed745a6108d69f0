"""``features`` in a sweep space: a fixed setting of the whole sweep (its trials share one set
of examples), refused as a searched one; the trials and the final runs read those features."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.cli import tiny  # noqa: F401  (a fixture)
from tinyemo.cli import main
from tinyemo.sweep.space import read_space, split_settings


def _space(tmp_path, text):
    path = tmp_path / "space.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text", ['features = "fbank+lld"\n', 'features = { value = "lld" }\n'])
def test_features_is_a_fixed_setting(tmp_path, text):
    space = read_space(_space(tmp_path, text + "width = [4, 8]\n"))
    assert space.fixed()["features"] in ("fbank+lld", "lld")
    assert space.varying == ["width"]
    arch, model, train = split_settings({**space.fixed(), "width": 4})
    assert "features" not in model and "features" not in train


@pytest.mark.parametrize("text", ['features = ["fbank", "lld"]\n',
                                  'features = { choices = ["fbank", "lld"] }\n',
                                  'features = "mfcc"\n'])
def test_searching_features_is_refused_naming_why(tmp_path, text):
    with pytest.raises(ValueError, match=r"space.toml: features: a fixed value of fbank, lld, "
                                         r"fbank\+lld \(one sweep per feature setting"):
        read_space(_space(tmp_path, text))


@pytest.mark.slow
def test_a_sweep_on_descriptors_trains_and_records_them(tiny, tmp_path, capsys):
    space = _space(tmp_path, 'features = "lld"\narch = "dilated"\ndepth = 2\nwidth = 4\n'
                             'epochs = 2\npatience = 2\nlr = [1e-3, 3e-3]\n')
    out = tmp_path / "sweep"
    rc = main(["sweep", str(space), "--preset", "tiny", "--target", "arousal", "--trials", "2",
               "--sampler", "grid", "--seeds-per-trial", "1", "--runs", "1", "--threads", "1",
               "--out", str(out)])
    assert rc == 0, capsys.readouterr()
    final = Path(json.loads((out / "best.json").read_text())["arousal"]["final"]["folder"])
    config = json.loads((final / "config.json").read_text())
    assert config["features"] == config["data"]["features"] == "lld"
    assert config["models"]["arousal"]["in_channels"] == 100
