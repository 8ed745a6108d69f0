"""Training refuses, before it creates anything, the settings that cannot work (memory beyond
the machine, an input average spanning every recording, an option reported under another
name), warns where it carries on (padding that multiplies the work, the same audio in two
partitions), leaves nothing when it diverges with nothing saved, and lets one process at a
time train in a folder."""
from __future__ import annotations

import shutil

import pytest

from tests.helpers.cli import SMALL, tiny  # noqa: F401  (fixture)
from tinyemo.cli import main
from tinyemo.models.config import ModelConfig
from tinyemo.models.memory import check_trainable, parameter_count, training_bytes
from tinyemo.models.nets import build_model
from tinyemo.util.fileio import folder_lock
from tinyemo.util.notices import TinyemoWarning
from tinyemo.util.settings import SettingError

GB = 10 ** 9
NO_NET = [a for i, a in enumerate(SMALL) if a not in ("--arch", "--width", "--depth")
          and SMALL[i - 1] not in ("--arch", "--width", "--depth")]   # SMALL without its net


@pytest.mark.parametrize("arch, kw", [
    ("single", {}), ("single", {"filter_length": 64}), ("dilated", {}),
    ("dilated", {"kernel_size": [2, 3] * 5}), ("downup", {}),
    ("downup", {"up_kernel_size": 5, "kernel_size": [3, 5, 3, 3, 7]}),
    ("downup", {"depth": 2, "pool": 2, "width": 8}), ("blstm", {"width": 8, "depth": 3})])
def test_parameter_count_is_that_of_the_built_model(arch, kw):
    cfg = ModelConfig.for_arch(arch, **kw)
    assert parameter_count(cfg) == sum(p.data.size for p in build_model(cfg).parameters())


@pytest.mark.parametrize("arch, kw, field", [
    ("downup", {"depth": 16}, "depth"), ("dilated", {"width": 100000}, "width"),
    ("single", {"filter_length": 100_000_000}, "filter_length"),
    ("dilated", {"kernel_size": 2_000_000, "depth": 2}, "kernel_size")])
def test_settings_that_cannot_fit_are_refused_naming_the_option(arch, kw, field):
    cfg = ModelConfig.for_arch(arch, **kw)
    with pytest.raises(SettingError) as err:
        check_trainable(cfg, [7501] * 9, available=64 * GB)
    assert err.value.field == field and "more than the 64 GB available" in err.value.problem
    # what the paper trains fits easily
    for arch in ("dilated", "downup", "single", "blstm"):
        check_trainable(ModelConfig.for_arch(arch), [7501] * 9, available=1 * GB)


def test_a_deep_down_up_net_warns_of_its_padding():
    cfg = ModelConfig.for_arch("downup", depth=12)
    paper = ModelConfig.for_arch("downup")
    assert training_bytes(cfg, 7501)[1] > 50 * training_bytes(paper, 7501)[1]
    with pytest.warns(TinyemoWarning, match=r"down/up depth 12 pads every recording to a "
                      r"multiple of 3\^12 = 531441 frames: 71× the frames"):
        check_trainable(cfg, [7501] * 9, available=64 * GB)


def test_an_input_average_spanning_every_recording_is_refused():
    cfg = ModelConfig.for_arch("dilated", input_average=40.0)
    with pytest.raises(SettingError) as err:
        check_trainable(cfg, [751, 500], available=64 * GB)
    assert err.value.field == "input_average"
    assert "as long as the longest recording (30 s)" in err.value.problem
    check_trainable(ModelConfig.for_arch("dilated", input_average=20.0), [750, 500])


@pytest.mark.parametrize("args, message", [
    (["--arch", "downup", "--width", "4", "--depth", "16"],
     "error: --depth: depth 16 pads every recording "),
    (["--arch", "single", "--filter-length", "100000000"], "error: --filter-length: a filter "),
    (["--arch", "single", "--filter-length", "0"], "error: --filter-length: must be >= 1, got 0"),
    (["--arch", "dilated", "--input-average", "40"],
     "error: --input-average: 40 s is as long as the longest recording (30 s)")])
def test_cli_refuses_before_creating_the_folder(tmp_path, capsys, tiny, args, message):
    out = tmp_path / "run"
    assert main(["train", *NO_NET, *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(message), err
    assert not out.exists()


def test_divergence_with_nothing_saved_leaves_nothing(tmp_path, capsys, tiny):
    out = tmp_path / "run"
    assert main(["train", *SMALL, "--lr", "1e30", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "training diverged" in err and "nothing was saved" in err
    assert not out.exists()
    out.mkdir()                      # an empty folder given: left empty
    assert main(["train", *SMALL, "--lr", "1e30", "--out", str(out)]) == 2
    assert out.is_dir() and not any(out.iterdir())


def test_one_training_at_a_time_in_a_folder(tmp_path, capsys, tiny):
    out = tmp_path / "run"
    assert main(["train", *SMALL, "--out", str(out)]) == 0
    before = (out / "results.json").read_bytes()
    with folder_lock(out, "held by this test"):
        assert main(["train", *SMALL, "--resume", "--out", str(out)]) == 2
        assert capsys.readouterr().err.strip().endswith(
            f"error: {out}: another tinyemo train is running in this folder; wait for it to "
            "finish or train into another --out folder")
    assert (out / "results.json").read_bytes() == before
    assert main(["train", *SMALL, "--resume", "--out", str(out)]) == 0   # free again


def test_the_same_audio_in_train_and_test_is_named(tmp_path, capsys, tiny):
    corpus = tmp_path / "corpus"
    shutil.copytree(tiny, corpus)
    audio = corpus / "recordings_audio"
    shutil.copyfile(audio / "train_2.wav", audio / "test_1.wav")
    assert main(["train", *SMALL, "--data", str(corpus), "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    assert (f"warning: byte-identical audio in two partitions: train_2 (train, "
            f"{audio / 'train_2.wav'}) and test_1 (test, {audio / 'test_1.wav'})") in err


@pytest.mark.parametrize("rate", ["100", "10000000"])
def test_sample_rates_out_of_bounds_are_refused(tmp_path, capsys, tiny, rate):
    out = tmp_path / "run"
    assert main(["train", *SMALL, "--sample-rate", rate, "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: --sample-rate: must be 4000 … 192000 Hz (the front end's rate; audio at other "
        f"rates is resampled to it), got {rate}")
    assert not out.exists()


def test_a_rate_above_every_recording_is_warned_coherently(tiny):
    from tinyemo.data import load_corpus
    from tinyemo.data.examples import corpus_rate, warn_resampling
    corpus = load_corpus(tiny)
    with pytest.warns(TinyemoWarning) as seen:
        assert corpus_rate(corpus, 48000) == 48000
        warn_resampling({"a": 16000}, 48000, training=True)
    # training: no "a model trained on audio with that band" (the model is trained on them)
    assert [str(w.message) for w in seen] == [
        "--sample-rate 48000 Hz is above the rate of every recording (at most 16000 Hz): the "
        "band above 8000 Hz is empty in all of them, so 16000 Hz gives the same information 3× "
        "faster",
        "resampling 1 of 1 recording(s) to 48000 Hz, the front end's rate: a (16000 Hz)"]
    # training on a corpus that mixes rates: the lower ones lack a band the others have
    with pytest.warns(TinyemoWarning) as seen:
        warn_resampling({"a": 16000, "b": 48000}, 48000, training=True)
    assert str(seen[-1].message) == (
        "a (16000 Hz): recorded below the front end's 48000 Hz, so the band above 8000 Hz is "
        "missing in them but not in the other recordings: the model learns from a band they lack")
    # predicting with a model trained at 48 kHz: the model saw that band, this audio lacks it
    with pytest.warns(TinyemoWarning) as seen:
        warn_resampling({"a": 16000}, 48000)
    assert str(seen[-1].message) == (
        "a (16000 Hz): recorded below the front end's 48000 Hz, so the band above 8000 Hz is "
        "missing; a model trained on audio with that band may predict them poorly")


def test_train_at_a_rate_above_every_recording_warns_without_contradiction(tmp_path, capsys,
                                                                           tiny):
    """End to end: the two warnings above, and not the predict-side one, which spoke of "a
    model trained on audio with that band" while training one on audio without it."""
    out = tmp_path / "run"
    assert main(["train", *SMALL, "--sample-rate", "32000", "--out", str(out)]) == 0
    warnings_ = [l for l in capsys.readouterr().err.splitlines() if l.startswith("warning:")]
    assert len(warnings_) == 2, warnings_
    assert warnings_[0].startswith("warning: --sample-rate 32000 Hz is above the rate of every "
                                   "recording (at most 16000 Hz)")
    assert warnings_[1].startswith("warning: resampling 12 of 12 recording(s) to 32000 Hz")
