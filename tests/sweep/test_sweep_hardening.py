"""A sweep checks what ``tinyemo train`` checks, before its folder is made: byte-identical audio
in two partitions (a warning naming both), settings whose memory cannot fit (every fixed value,
and the largest value of each searched size, refused naming the setting), the corpus root stored
resolved; and its folder lock is train's (``util.fileio.folder_lock``)."""
from __future__ import annotations

import dataclasses
import os

import pytest

from tinyemo.sweep import SweepConfig, read_space, run_sweep
from tinyemo.sweep.checks import check_memory
from tinyemo.sweep.features import describe
from tinyemo.util.fileio import LOCK_FILE, folder_lock
from tinyemo.util.notices import TinyemoWarning

from tests.helpers.cli import tiny  # noqa: F401  (fixture)
from tests.helpers.sweep import examples, space_file

QUIET = dict(say=lambda s: None)
SMALL = dict(trials=1, sampler="random", seeds_per_trial=1, runs=0, targets=("arousal",))


def _config(tmp_path, text, **kw):
    return SweepConfig(read_space(space_file(tmp_path, text)), **{**SMALL, **kw})


@pytest.mark.parametrize("text, message", [
    # a fixed width no memory holds; the smallest of a searched one fits
    ('arch = "downup"\ndepth = 2\nwidth = 100000000\n',
     r"space.toml: width: width 100000000: training \(arousal\) would need about .* GB of memory"),
    # the largest value of a searched size cannot fit, however small the others are
    ('arch = "downup"\ndepth = 2\nwidth = [4, 100000000]\n',
     r"space.toml: width: the largest value 100000000 cannot be trained: width 100000000: "
     r"training \(arousal\) would need about"),
    ('arch = "single"\nfilter_length = { low = 8, high = 2000000000 }\n',
     r"space.toml: filter_length: the largest value 2000000000 cannot be trained: a filter of "
     r"2000000000 frames"),
    ('arch = "downup"\ndepth = [1, 24]\nwidth = [4, 8]\n',
     r"space.toml: depth: the largest value 24 cannot be trained: depth 24 pads every recording "
     r"to a multiple of 3\^24"),
])
def test_a_size_that_cannot_fit_is_refused_naming_it_before_the_folder(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        run_sweep(examples(), _config(tmp_path, text), tmp_path / "out", **QUIET)
    assert not (tmp_path / "out").exists()


def test_the_largest_size_only_has_to_fit_with_the_others_smallest(tmp_path):
    """depth 12 fits at width 4, width 4096 at depth 1 (each is checked with the others at
    their smallest): no refusal. depth 12 pads 162 frames to 3^12: one warning, not one per
    check."""
    config = _config(tmp_path, 'arch = "downup"\ndepth = [1, 12]\nwidth = [4, 4096]\n'
                               'epochs = 1\n')
    with pytest.warns(TinyemoWarning) as said:
        check_memory(config.space, ("arousal", "valence"), [162] * 8, 6)
    padding = [str(w.message) for w in said if "pads every recording" in str(w.message)]
    assert len(padding) == 2 and all("3^12 = 531441 frames" in m for m in padding)   # per target
    # an architecture of the space that can run the largest value is enough (as check_space)
    config = _config(tmp_path, 'arch = ["dilated", "downup"]\ndepth = [1, 24]\n')
    check_memory(config.space, ("arousal",), [162] * 8, 6)
    config = _config(tmp_path, 'arch = "downup"\ndepth = [1, 24]\n')
    with pytest.raises(ValueError, match="depth: the largest value 24"):
        check_memory(config.space, ("arousal",), [162] * 8, 6)


def test_byte_identical_audio_is_warned_and_the_lock_is_trains(tmp_path):
    data = examples()
    for rid in ("train_0", "dev_4"):
        (tmp_path / f"{rid}.wav").write_bytes(b"RIFF same bytes")
        rec = dataclasses.replace(data[rid].recording, audio=tmp_path / f"{rid}.wav")
        data[rid] = dataclasses.replace(data[rid], recording=rec)
    config = _config(tmp_path, 'arch = "downup"\ndepth = 2\nwidth = [4, 8]\nepochs = 1\n')
    out = tmp_path / "out"
    with pytest.warns(TinyemoWarning, match=rf"byte-identical audio in two partitions: train_0 "
                                            rf"\(train, {tmp_path / 'train_0.wav'}\) and dev_4 "
                                            rf"\(dev, {tmp_path / 'dev_4.wav'}\)"):
        run_sweep(data, config, out, **QUIET)
    assert (out / LOCK_FILE).is_file()
    # while a process holds the folder's lock (train's mechanism), a resume is refused
    with folder_lock(out, "busy"):
        with pytest.raises(ValueError, match=rf"^{out}: another sweep is running in this folder$"):
            run_sweep(data, config, out, resume=True, **QUIET)
    # freed: the resume runs, and a lock Optuna's journal left behind is stale and goes
    (out / "optuna.journal.lock").write_text("")
    run_sweep(data, config, out, resume=True, **QUIET)
    assert not (out / "optuna.journal.lock").exists()


def test_the_corpus_root_is_stored_resolved(tiny, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.chdir(tiny.parent)
    _, info = describe(type(tiny)(tiny.name))             # relative to the working directory
    assert info["root"] == str(tiny.resolve()) and os.path.isabs(info["root"])
