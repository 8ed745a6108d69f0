"""predict, evaluate and predict --stream refuse what would give wrong answers (NaN weights,
audio at a wrong scale, a misspelt partition), check every file before writing any, and say
what to do (a folder given as audio, a full temporary folder, 8 kHz audio in a stream)."""
from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.helpers import SPEECH as _SPEECH_DIR
from tests.helpers.cli import tiny  # noqa: F401  (fixture)
from tests.helpers.modelfolder import make_model_folder
from tinyemo.cli import main
from tinyemo.data import load_corpus
from tinyemo.data.examples import load_examples
from tinyemo.frontend import read_audio
from tinyemo.serve import longform

SPEECH = _SPEECH_DIR / "arctic_a0007.wav"


class _Stdin:
    def __init__(self, data: bytes):
        self.buffer = io.BytesIO(data)


def _poison(folder):
    best = folder / "arousal" / "seed0" / "best.npz"
    with np.load(best) as data:
        arrays = {k: data[k] for k in data.files}
    name = next(k for k in arrays if k.startswith("param/"))
    arrays[name] = arrays[name].copy()
    arrays[name].flat[0] = np.nan
    np.savez(best, **arrays)
    return best


def test_nan_weights_are_refused_by_predict_and_evaluate(tmp_path, capsys, tiny):
    folder = make_model_folder(tmp_path / "m", "dilated", seeds=(0,))
    best = _poison(folder)
    out = tmp_path / "pred"
    assert main(["predict", "--model", str(folder), str(SPEECH), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {best}: weight ") and "NaN" in err and "\n" not in err
    assert not out.exists()
    assert main(["evaluate", "--model", str(folder), "--data", str(tiny)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {best}: weight ") and "NaN" in err


def test_audio_at_a_wrong_scale_is_named(tmp_path, capsys, monkeypatch):
    folder = make_model_folder(tmp_path / "m", "dilated", seeds=(0,))
    wave, rate = read_audio(SPEECH)
    loud = tmp_path / "loud.wav"
    sf.write(loud, wave / 32768 * 1e25, rate, subtype="FLOAT")
    out = tmp_path / "pred"
    assert main(["predict", "--model", str(folder), str(loud), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    peak = np.abs(wave).max() / 32768 * 1e25
    assert err.strip() == (f"error: {loud}: samples reach {peak:.3g} times full scale (written "
                           "at the wrong scale?): rescale the audio to ±1 (float) or int16")
    assert not out.exists()
    # the same for a raw float stream
    raw = (wave / 32768 * 1e25).astype("<f4").tobytes()
    monkeypatch.setattr(sys, "stdin", _Stdin(raw))
    assert main(["predict", "--stream", "--running", "--model", str(folder), "--format",
                 "f32le", "--rate", str(rate), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: stdin: samples reach ")


def test_a_folder_given_as_audio_is_named_as_a_folder(tmp_path, capsys):
    folder = make_model_folder(tmp_path / "m", "dilated", seeds=(0,))
    message = (f"error: {tmp_path}: is a folder, not an audio file; give the files in it "
               f"(e.g. {tmp_path}/*.wav)")
    assert main(["predict", "--model", str(folder), str(tmp_path), "--out",
                 str(tmp_path / "p")]) == 2
    assert capsys.readouterr().err.strip() == message
    assert main(["profile", "--model", str(folder), str(tmp_path), "--out",
                 str(tmp_path / "p.npz")]) == 2
    assert capsys.readouterr().err.strip() == message


def test_a_broken_flac_among_others_writes_nothing(tmp_path, capsys):
    folder = make_model_folder(tmp_path / "m", "dilated", seeds=(0,))
    wave, rate = read_audio(SPEECH)
    files = []
    for i in range(3):
        path = tmp_path / f"f{i}.flac"
        sf.write(path, wave.astype(np.int16), rate, subtype="PCM_16")
        files.append(path)
    data = files[1].read_bytes()
    files[1].write_bytes(data[:len(data) // 2])           # cut off in the middle
    out = tmp_path / "pred"
    assert main(["predict", "--model", str(folder), *map(str, files), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {files[1]}: ") and "\n" not in err
    assert not out.exists() or not any(out.iterdir())


def test_a_full_temporary_folder_says_where_and_what_to_do(tmp_path, capsys, monkeypatch):
    folder = make_model_folder(tmp_path / "m", "dilated", seeds=(0,))
    monkeypatch.setattr(longform.tempfile, "TemporaryFile",
                        lambda **kw: open("/dev/full", "w+b"))
    assert main(["predict", "--model", str(folder), str(SPEECH), "--out",
                 str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err.strip()
    assert "requested and" not in err
    assert err.startswith(f"error: {SPEECH}: cannot write its frames to the temporary folder ")
    assert "TMPDIR" in err


def test_8khz_stream_warns_that_the_upper_band_is_missing(tmp_path, capsys, monkeypatch):
    folder = make_model_folder(tmp_path / "m", "dilated", seeds=(0,))
    wave, rate = read_audio(SPEECH, sample_rate=8000)
    raw = wave.astype("<i2").tobytes()
    monkeypatch.setattr(sys, "stdin", _Stdin(raw))
    assert main(["predict", "--stream", "--running", "--model", str(folder), "--format",
                 "s16le", "--rate", "8000", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "warning: stdin (8000 Hz): recorded below the front end's 16000 Hz, so the band " \
           "above 4000 Hz is missing" in err


def test_evaluate_refuses_a_misspelt_partition(tmp_path, capsys, tiny):
    corpus = load_corpus(tiny)
    lines = ["audio,speaker,partition,arousal"]
    for rec in corpus:
        labels = tmp_path / f"{rec.id}.csv"
        track = rec.labels["arousal"]
        labels.write_text("time,value\n" + "".join(f"{0.04 * j:.2f},{v}\n"
                                                   for j, v in enumerate(track)))
        part = "devel" if rec.id == "dev_2" else rec.partition
        lines.append(f"{rec.audio},{rec.speaker},{part},{labels}")
    manifest = tmp_path / "m.csv"
    manifest.write_text("\n".join(lines) + "\n")
    folder = make_model_folder(tmp_path / "m", "dilated", seeds=(0,), targets=("arousal",))
    assert main(["evaluate", "--model", str(folder), "--data", str(manifest)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "dev_2 ('devel')" in err


def test_a_one_frame_profile_warns_where_it_is_made_and_used(tmp_path, capsys, monkeypatch):
    folder = make_model_folder(tmp_path / "m", "dilated", seeds=(0,))
    wave, rate = read_audio(SPEECH)
    short = tmp_path / "short.wav"
    sf.write(short, wave[:400].astype(np.int16), rate, subtype="PCM_16")   # one 25-ms frame
    profile = tmp_path / "p.npz"
    assert main(["profile", "--model", str(folder), str(short), "--out", str(profile)]) == 0
    warning = (f"{profile}: a speaker profile of only 1 frame(s) (0.01 s): its statistics are "
               "unreliable (a dimension that did not vary gets std 1); enrol with at least 5 s "
               "of the speaker")
    assert f"warning: {warning}" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", _Stdin(wave.astype("<i2").tobytes()))
    assert main(["predict", "--stream", "--profile", str(profile), "--model", str(folder),
                 "--format", "s16le", "--quiet"]) == 0
    assert f"warning: {warning}" in capsys.readouterr().err
    # 8 s of speech: enough, no warning
    long = tmp_path / "long.wav"
    sf.write(long, np.tile(wave, 2).astype(np.int16), rate, subtype="PCM_16")
    assert main(["profile", "--model", str(folder), str(long), "--out", str(profile)]) == 0
    assert "warning" not in capsys.readouterr().err


def test_profile_out_folder_and_from_training_elsewhere(tmp_path, capsys, monkeypatch, tiny):
    folder = make_model_folder(tmp_path / "m", "dilated", seeds=(0,))
    assert main(["profile", "--model", str(folder), str(SPEECH), "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {tmp_path}: is a folder; give the path of the profile file (.npz) to write")
    # a corpus given by a relative path is recorded resolved: --from-training works anywhere
    monkeypatch.chdir(tiny.parent)
    _, info = load_examples(Path(tiny.name))
    assert info["root"] == str(tiny.resolve())


def test_a_sweep_folder_given_as_model_names_its_run_folders(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    for target, trial in (("arousal", 3), ("valence", 7)):
        make_model_folder(sweep / f"final-{target}-trial{trial}", "dilated", seeds=(0,),
                          targets=(target,))
    assert main(["predict", "--model", str(sweep), str(SPEECH), "--out",
                 str(tmp_path / "p")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {sweep}: a sweep folder, not a run folder; give one of the run folders it "
        f"holds: {sweep / 'final-arousal-trial3'}, {sweep / 'final-valence-trial7'}")
