"""Bad input and faults at the command line: every one is a single ``error:`` line that names
the option or the file and the cause (never a traceback), is caught before anything is
created, and loses nothing already saved."""
from __future__ import annotations

import dataclasses
import errno
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.helpers.cli import SMALL, files_of, test_cache, tiny  # noqa: F401  (tiny: a fixture)
from tinyemo.cli.predict import evaluate_main, predict_main
from tinyemo.cli import main
from tinyemo.cli.plot import plot_main
from tinyemo.cli.train import train_main, train_parser
from tinyemo.util.runtime import available_cores


def error_line(capsys) -> str:
    """The one stderr line a failed command printed (asserting it is one line, no traceback)."""
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("warning: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


# ------------------------------------------------------------------ settings

INVALID = [
    (["--width", "0"], "--width: must be >= 1"),
    (["--kernel-size", "0"], "--kernel-size: must be >= 1"),
    (["--depth", "0"], "--depth: must be >= 1"),
    (["--seed", "-1"], "--seed/--runs: need distinct seeds >= 0"),
    (["--runs", "0"], "--seed/--runs: no seeds"),
    (["--lr", "nan"], "--lr: must be a finite number, got nan"),
    (["--lr", "inf"], "--lr: must be a finite number"),
    (["--lr", "0"], "--lr: must be > 0"),
    (["--l2", "-1"], "--l2: must be >= 0"),
    (["--epochs", "0"], "--epochs: must be >= 1"),
    (["--patience", "0"], "--patience: must be >= 1"),
    (["--threads", str(available_cores() + 1)], "--threads: thread count must be between 1 and"),
    (["--threads", "0"], "--threads: thread count must be between 1 and"),
    (["--filter-length", "8"], "--filter-length: the dilated architecture does not use it"),
    (["--arch", "single", "--width", "4"], "--width: the single architecture does not use it"),
    (["--arch", "downup", "--up-kernel-size", "2"], "--up-kernel-size: must be >= 3, the up-sampling stride"),
    (["--arch", "downup", "--up-kernel-size", "0"], "--up-kernel-size: must be >= 1"),
    (["--sample-rate", "0"], "--sample-rate: must be 4000 … 192000 Hz"),
    (["--preset", "huge"], "--preset: unknown preset 'huge'"),
    (["--data-seed", "-1"], "--data-seed: must be >= 0"),
    (["--data", "/nonexistent/corpus"], "--data: /nonexistent/corpus: no such corpus"),
    (["--manifest", "/nonexistent/m.csv"], "--manifest: /nonexistent/m.csv: no such file"),
    (["--data", ".", "--manifest", "m.csv"], "--data: give --data or --manifest, not both"),
]


@pytest.mark.parametrize("bad, message", INVALID, ids=[" ".join(b) for b, _ in INVALID])
def test_invalid_settings_are_refused_before_anything_is_created(bad, message, tmp_path,
                                                                  monkeypatch, capsys):
    cache = tmp_path / "cache"
    monkeypatch.setenv("TINYEMO_CACHE", str(cache))
    args = [a for a in SMALL if a not in ("--width", "4", "--depth", "2")]
    assert train_main([*args, *bad, "--out", str(tmp_path / "out")]) == 2
    assert error_line(capsys).startswith(f"error: {message}")
    assert not (tmp_path / "out").exists() and not cache.exists()


def test_settings_check_every_field_by_its_type_and_the_cli_names_the_option():
    from tinyemo.models.config import ModelConfig
    from tinyemo.train.loop import TrainConfig
    from tinyemo.util.settings import SettingError, at_least, check_fields

    @dataclasses.dataclass(frozen=True)
    class Later:                      # fields a later change might add, with no rules at all
        dropout: float = 0.0
        layers: int = 2
        schedule: tuple[int, ...] = (10, 20)
        activation: str | None = None

        def __post_init__(self):
            check_fields(self, layers=at_least(1))

    for kwargs, field in [({"dropout": float("nan")}, "dropout"), ({"layers": 1.5}, "layers"),
                          ({"layers": True}, "layers"), ({"layers": 0}, "layers"),
                          ({"schedule": (1, "x")}, "schedule"), ({"activation": 3}, "activation")]:
        with pytest.raises(SettingError) as info:
            Later(**kwargs)
        assert info.value.field == field
    Later(activation="tanh", schedule=[5])      # a list read back from JSON is a sequence too
    with pytest.raises(SettingError) as info:
        TrainConfig(l2=float("inf"))
    assert info.value.field == "l2"
    # every settings field that has an option is reported under that option's name
    from tinyemo.cli.boundary import option_of as _option
    parser = train_parser()
    options = {o for a in parser._actions for o in a.option_strings}
    for cls in (TrainConfig, ModelConfig):
        for f in dataclasses.fields(cls):
            flag = "--" + f.name.replace("_", "-")
            if flag in options:
                assert _option(parser, f.name) == flag


# ------------------------------------------------------------------ the output folder

def test_out_folder_that_is_a_file_or_someone_elses_folder_is_refused(tmp_path, monkeypatch,
                                                                       capsys):
    monkeypatch.setenv("TINYEMO_CACHE", str(tmp_path / "cache"))
    a_file = tmp_path / "results.txt"
    a_file.write_text("mine")
    assert train_main([*SMALL, "--out", str(a_file)]) == 2
    assert error_line(capsys) == f"error: --out: {a_file}: exists and is not a folder"
    users = tmp_path / "paper"
    users.mkdir()
    (users / "results.json").write_text('{"mine": 1}')
    (users / "results.md").write_text("my table")
    before = files_of(users)
    assert train_main([*SMALL, "--out", str(users)]) == 2
    line = error_line(capsys)
    assert f"--out: {users}: folder is not empty and holds no tinyemo run" in line
    assert "results.json, results.md" in line
    assert files_of(users) == before and a_file.read_text() == "mine"
    assert train_main([*SMALL, "--out", str(tmp_path / "new"), "--resume"]) == 2
    assert "nothing to resume" in error_line(capsys)
    assert train_main([*SMALL, "--out", str(a_file / "sub")]) == 2
    assert f"{a_file} is not a folder" in error_line(capsys)
    # a folder the user may not write in (as root, permissions do not stop writes: ask the OS
    # check the way a normal user's would answer)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == tmp_path
                        else real_access(p, mode))
    assert train_main([*SMALL, "--out", str(tmp_path / "x")]) == 2
    assert error_line(capsys) == (f"error: --out: {tmp_path / 'x'}: cannot write in {tmp_path} "
                                  f"(permission denied)")
    assert not (tmp_path / "x").exists() and not (tmp_path / "cache").exists()


def test_a_full_disk_is_one_line_and_the_run_resumes(tiny, tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    checkpoints = []
    real_fsync = os.fsync

    def full_after_three(fd):           # the disk fills up when epoch 2 saves its checkpoint
        if Path(os.readlink(f"/proc/self/fd/{fd}")).name.startswith(".checkpoint.npz."):
            checkpoints.append(fd)
            if len(checkpoints) == 2:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)
    monkeypatch.setattr(os, "fsync", full_after_three)
    args = [*SMALL, "--epochs", "3", "--patience", "3", "--out", str(out)]
    assert train_main(args) == 2
    assert error_line(capsys) == (f"error: {out / 'arousal' / 'seed0' / 'checkpoint.npz'}: No "
                                  f"space left on device")
    assert not list(out.rglob("*.tmp"))                       # no temporary file left behind
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert train_main([*args, "--resume"]) == 0
    log = (out / "arousal" / "seed0" / "log.csv").read_text().splitlines()
    assert len(log) == 4


def test_a_write_refused_by_the_os_names_the_file(tiny, tmp_path, monkeypatch, capsys):
    import tempfile

    real = tempfile.mkstemp

    def refuse_checkpoints(*args, **kwargs):
        if kwargs.get("prefix", "").startswith(".checkpoint.npz"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), kwargs["dir"])
        return real(*args, **kwargs)
    monkeypatch.setattr(tempfile, "mkstemp", refuse_checkpoints)
    out = tmp_path / "run"
    assert train_main([*SMALL, "--out", str(out)]) == 2
    checkpoint = out / "arousal" / "seed0" / "checkpoint.npz"     # the file, not a temporary
    assert error_line(capsys) == f"error: {checkpoint}: Permission denied"


def test_an_unwritable_feature_cache_warns_and_computes_without_it(tmp_path, monkeypatch,
                                                                   capsys):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "features").write_text("a file where the cache folder should be")
    monkeypatch.setenv("TINYEMO_CACHE", str(cache))
    corpus = _small_avec(tmp_path / "corpus")
    assert train_main([*SMALL, "--data", str(corpus), "--out", str(tmp_path / "run")]) == 0
    warnings = [w for w in capsys.readouterr().err.splitlines() if w.startswith("warning: ")]
    assert len(warnings) == 1
    assert f"feature cache {cache / 'features'} cannot be written" in warnings[0]
    assert "computing features without it" in warnings[0]
    assert (tmp_path / "run" / "results.json").is_file()


def test_model_or_out_that_is_a_file_and_missing_audio(tmp_path, capsys):
    a_file = tmp_path / "model.npz"
    a_file.write_bytes(b"x")
    assert predict_main(["--model", str(a_file), str(a_file), "--out", str(tmp_path / "p")]) == 2
    assert error_line(capsys) == (f"error: {a_file}: not a tinyemo run folder (it is a file; "
                                  f"expected the folder that tinyemo train wrote)")
    assert evaluate_main(["--model", str(a_file), "--data", str(tmp_path)]) == 2
    assert "not a tinyemo run folder" in error_line(capsys)


# ------------------------------------------------------------------ a trained run

@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """dilated, width 4, both targets, 2 epochs, on the tiny corpus."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TINYEMO_CACHE", str(test_cache()))
    out = tmp_path_factory.mktemp("run") / "dilated"
    args = [a for a in SMALL if a not in ("--target", "arousal")]
    assert train_main([*args, "--epochs", "2", "--out", str(out)]) == 0
    from tinyemo.data.cached import synthetic_corpus
    yield out, synthetic_corpus("tiny", 0)
    mp.undo()


def test_predict_out_that_is_a_file(run, tmp_path, capsys):
    out, corpus = run
    a_file = tmp_path / "f"
    a_file.write_text("")
    wav = corpus / "recordings_audio" / "dev_1.wav"
    assert predict_main(["--model", str(out), str(wav), "--out", str(a_file)]) == 2
    assert error_line(capsys) == f"error: --out: {a_file} exists and is not a folder"
    assert predict_main(["--model", str(out), str(tmp_path / "no.wav"), "--out", str(tmp_path)]) == 2
    assert error_line(capsys) == f"error: {tmp_path / 'no.wav'}: no such audio file"


@pytest.mark.parametrize("edit, message", [
    (lambda c: "{" + c[:40], "corrupt JSON: "),
    (lambda c: c.replace('"width": 4', '"width": "wide"', 1),
     "key 'models.arousal.width': must be an integer, got 'wide'"),
    (lambda c: c.replace('"lr"', '"lrr"', 1), "key 'train.lrr': unknown setting"),
    (lambda c: c.replace('"l2": 0.0001', '"l2": -1', 1),
     "key 'train.l2': must be >= 0, got -1"),
    (lambda c: c.replace('"seeds"', '"seed"', 1), "key 'seeds': missing"),
], ids=["truncated", "width-string", "unknown-key", "negative", "missing-key"])
def test_a_corrupt_or_hand_edited_config_names_the_file_and_key(run, edit, message, tmp_path,
                                                                 capsys):
    out, corpus = run
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    cfg = copy / "config.json"
    cfg.write_text(edit(cfg.read_text()))
    wav = corpus / "recordings_audio" / "dev_1.wav"
    assert predict_main(["--model", str(copy), str(wav), "--out", str(tmp_path / "p")]) == 2
    line = error_line(capsys)
    assert line.startswith(f"error: {cfg}: ") and message in line
    args = [a for a in SMALL if a not in ("--target", "arousal")]
    assert train_main([*args, "--epochs", "2", "--out", str(copy), "--resume"]) == 2
    assert message in error_line(capsys)


def test_evaluate_target_and_per_recording_ccc(run, capsys):
    from tinyemo.util.metrics import ccc
    out, corpus = run
    assert evaluate_main(["--model", str(out), "--data", str(corpus), "--partition", "dev",
                          "--target", "arousal", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "**arousal**" in text and "valence" not in text
    assert "Dev CCC" in text and "Test" not in text and "Train" not in text
    # per-recording CCC beside the concatenated one: the dev prediction CSVs are the same
    # ensemble's predictions, scored here independently
    per = [ccc(t[:, 1], t[:, 2]) for t in (np.loadtxt(p, delimiter=",", skiprows=1)
                                           for p in sorted((out / "predictions/dev").glob("*.csv")))]
    assert "per-recording CCC over the 3 dev recordings" in text
    assert f"arousal {np.mean(per):.3f} ± {np.std(per):.3f}" in text
    assert evaluate_main(["--model", str(out), "--data", str(corpus), "--target", "dominance"]) == 2
    assert "no dominance model here (it has arousal, valence)" in error_line(capsys)
    assert evaluate_main(["--model", str(out), "--data", str(corpus), "--partition", "tset"]) == 2
    assert "no recordings in partition 'tset'; it has train (6), dev (3), test (3)" in error_line(capsys)


def test_plot_two_recordings_of_one_run_each_against_its_own_gold(run, tmp_path, capsys):
    from tinyemo.report.plot import plot_layout
    out, _ = run
    csvs = [out / "predictions/dev/dev_1.csv", out / "predictions/dev/dev_2.csv"]
    panels = plot_layout(csvs, 0, 10)
    assert [(p.recording, p.target) for p in panels] == [
        ("dev_1", "arousal"), ("dev_1", "valence"), ("dev_2", "arousal"), ("dev_2", "valence")]
    for p in panels:
        table = np.loadtxt(out / f"predictions/dev/{p.recording}.csv", delimiter=",", skiprows=1)
        header = (out / f"predictions/dev/{p.recording}.csv").read_text().split("\n")[0].split(",")
        keep = table[:, 0] < 10
        np.testing.assert_allclose(p.gold, table[keep, header.index(f"{p.target}_gold")], atol=1e-6)
        assert list(p.predictions) == ["dilated"]
        np.testing.assert_allclose(p.predictions["dilated"], table[keep, header.index(p.target)])
    png = tmp_path / "two.png"
    assert plot_main([*map(str, csvs), "--out", str(png), "--duration", "10"]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    # one recording from two runs whose folders share a name: distinct legend names
    other = tmp_path / "b" / "dilated"
    shutil.copytree(out / "predictions", other / "predictions")
    (panel, *_) = plot_layout([csvs[0], other / "predictions/dev/dev_1.csv"], 0, 10)
    assert len(panel.predictions) == 2 and len(set(panel.predictions)) == 2
    # the same name but another gold standard (another corpus) is refused
    text = (other / "predictions/dev/dev_1.csv").read_text().splitlines()
    header = text[0].split(",")
    rows = [r.split(",") for r in text[1:]]
    for r in rows:
        r[header.index("arousal_gold")] = str(float(r[header.index("arousal_gold")]) + 0.5)
    (other / "predictions/dev/dev_1.csv").write_text("\n".join([text[0]] + [",".join(r) for r in rows]))
    assert plot_main([str(csvs[0]), str(other / "predictions/dev/dev_1.csv"), "--out", str(png)]) == 2
    assert "arousal gold standards differ" in error_line(capsys)


# ------------------------------------------------------------------ resume

def _copy_corpus(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("ratings_individual", "latents.npz"))
    return dst


def test_resume_on_a_changed_corpus_names_what_changed(tiny, tmp_path, capsys):
    corpus = _copy_corpus(tiny, tmp_path / "corpus")
    out = tmp_path / "run"
    args = [*SMALL, "--data", str(corpus), "--epochs", "2", "--patience", "2", "--out", str(out)]
    assert train_main(args) == 0
    saved = files_of(out)
    arff = corpus / "ratings_gold_standard" / "arousal" / "dev_2.arff"
    lines = arff.read_text().splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith("dev_2,1.00,"))
    lines[i] = "dev_2,1.00,0.9"                                   # one label edited in place
    arff.write_text("\n".join(lines) + "\n")
    wav = corpus / "recordings_audio" / "train_3.wav"
    samples, rate = sf.read(wav, dtype="int16")
    samples[100] += 1                                              # one sample changed
    sf.write(wav, samples, rate, subtype="PCM_16")
    assert train_main([*args, "--resume"]) == 2
    line = error_line(capsys)
    assert f"{out / 'config.json'}: the corpus changed since this run was saved" in line
    assert f"dev_2: arousal labels changed ({arff})" in line
    assert f"train_3: audio {wav} changed" in line
    assert "valence" not in line and "dev_1" not in line
    assert files_of(out) == saved
    # other settings are refused before the corpus is even read
    assert train_main([*args, "--resume", "--lr", "0.01"]) == 2
    assert "saved with another configuration (differs in train.lr)" in error_line(capsys)


def test_ctrl_c_says_how_to_continue_and_that_command_finishes(tiny, tmp_path, monkeypatch,
                                                               capsys):
    from tinyemo.engine.optim import Adam
    out = tmp_path / "run"
    real_step, steps = Adam.step, []

    def interrupted_in_epoch_2(self):
        steps.append(1)
        if len(steps) == 8:            # 6 training recordings per epoch
            raise KeyboardInterrupt
        return real_step(self)
    monkeypatch.setattr(Adam, "step", interrupted_in_epoch_2)
    argv = [*SMALL, "--epochs", "3", "--patience", "3", "--out", str(out)]
    assert train_main(argv) == 130
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    prefix = "interrupted; continue with: "
    assert err.startswith(prefix + "tinyemo train ")
    command = shlex.split(err[len(prefix):])
    assert command[-3:] == ["--resume", "--out", str(out)] and command.count("--out") == 1
    monkeypatch.setattr(Adam, "step", real_step)
    assert train_main(command[2:]) == 0
    assert len((out / "arousal/seed0/log.csv").read_text().splitlines()) == 4


def test_a_nan_loss_stops_with_target_seed_epoch_and_keeps_the_last_good_checkpoint(
        tiny, tmp_path, monkeypatch, capsys):
    import tinyemo.train.loop as training
    from tinyemo.engine.autograd import Tensor
    real, calls = training._loss, []

    def nan_in_epoch_2(prediction, target, kind):
        calls.append(1)
        loss = real(prediction, target, kind)
        return loss * Tensor(np.float32(np.nan)) if len(calls) == 9 else loss
    monkeypatch.setattr(training, "_loss", nan_in_epoch_2)
    out = tmp_path / "run"
    assert train_main([*SMALL, "--seed", "4", "--epochs", "3", "--patience", "3",
                       "--out", str(out)]) == 2
    run_dir = out / "arousal" / "seed4"
    assert error_line(capsys) == (
        f"error: arousal, seed 4, epoch 2: training diverged (the training loss is nan on "
        f"recording {_recording_of_step(9, 4)}); the checkpoint of epoch 1 is kept in {run_dir}; "
        f"try a smaller --lr in a new --out folder")
    with np.load(run_dir / "checkpoint.npz") as ckpt:
        assert json.loads(ckpt["meta"].tobytes())["state"]["epoch"] == 1


def _recording_of_step(step: int, seed: int) -> str:
    """The training recording the ``step``-th update (1-based) of ``seed`` sees."""
    epoch, i = divmod(step - 1, 6)
    order = np.random.default_rng([seed, epoch + 1]).permutation(6)
    return f"train_{order[i] + 1}"


# ------------------------------------------------------------------ corpora

def _small_avec(root: Path, names=("train_1", "dev_1", "test_1"), seconds=2.0) -> Path:
    hdr = ("@relation GoldStandard\n@attribute Instance_name string\n"
           "@attribute frameTime numeric\n@attribute GoldStandard numeric\n@data\n")
    rng = np.random.default_rng(0)
    for name in names:
        wav = root / "recordings_audio" / f"{name}.wav"
        wav.parent.mkdir(parents=True, exist_ok=True)
        sf.write(wav, (rng.standard_normal(int(seconds * 16000)) * 3000).astype(np.int16), 16000,
                 subtype="PCM_16")
        for target in ("arousal", "valence"):
            arff = root / "ratings_gold_standard" / target / f"{name}.arff"
            arff.parent.mkdir(parents=True, exist_ok=True)
            n = int(seconds / 0.04) + 1
            arff.write_text(hdr + "".join(f"{name},{0.04 * j:.2f},{np.sin(j / 7):.4f}\n"
                                          for j in range(n)))
    return root


def test_a_truncated_wav_is_reported_as_truncated_audio(tmp_path):
    from tinyemo.data import load_corpus
    root = _small_avec(tmp_path / "c")
    wav = root / "recordings_audio" / "dev_1.wav"
    wav.write_bytes(wav.read_bytes()[:30000])                     # cut off mid-data
    with pytest.raises(ValueError, match=rf"^{wav}: audio is truncated \(data chunk declares "
                                         rf"64000 bytes, 29956 present\)$"):
        load_corpus(root)


def test_label_tracks_of_different_lengths_name_the_label_files(tmp_path):
    from tinyemo.data import load_corpus
    from tinyemo.data.examples import prepare
    root = _small_avec(tmp_path / "c")
    arff = root / "ratings_gold_standard" / "valence" / "dev_1.arff"
    arff.write_text("\n".join(arff.read_text().splitlines()[:-10]) + "\n")
    arousal = root / "ratings_gold_standard" / "arousal" / "dev_1.arff"
    with pytest.raises(ValueError) as info:
        prepare(load_corpus(root), cache=False)
    assert str(info.value) == (f"recording 'dev_1': its label files differ in length (arousal "
                               f"{arousal} has 51 frames, valence {arff} has 41 frames); every "
                               f"target needs the same 40 ms frames")
    # the manifest reader: the same rule, the same names
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "a.csv").write_text("time,value\n" + "".join(f"{0.04 * j:.2f},{j % 5}\n" for j in range(51)))
    (labels / "v.csv").write_text("time,value\n" + "".join(f"{0.04 * j:.2f},{j % 3}\n" for j in range(45)))
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"audio,speaker,partition,arousal,valence\n"
                        f"{root}/recordings_audio/dev_1.wav,s1,dev,labels/a.csv,labels/v.csv\n")
    with pytest.raises(ValueError, match=rf"its label files differ in length \(arousal "
                                         rf"{labels / 'a.csv'} has 51 frames, valence "
                                         rf"{labels / 'v.csv'} has 45 frames\)"):
        prepare(load_corpus(manifest), cache=False)


def test_recordings_in_no_partition_are_listed_and_manifest_partitions_ignore_case(
        tmp_path, monkeypatch, capsys):
    from tinyemo.data import load_corpus
    monkeypatch.setenv("TINYEMO_CACHE", str(tmp_path / "cache"))
    root = _small_avec(tmp_path / "c", ("train_1", "train_2", "dev_1", "eval_1"))
    out = tmp_path / "run"
    assert train_main([*SMALL, "--data", str(root), "--out", str(out)]) == 2
    assert error_line(capsys) == ("error: 1 recording(s) in no partition of train/dev/test: "
                                  "eval_1 ('eval'); rename them or leave them out")
    assert not out.exists()
    wavs = root / "recordings_audio"
    manifest = tmp_path / "m.csv"
    manifest.write_text("audio,speaker,partition\n"
                        f"{wavs}/train_1.wav,a,Train\n{wavs}/dev_1.wav,b,DEV\n"
                        f"{wavs}/eval_1.wav,c,tset\n")
    corpus = load_corpus(manifest)
    assert [r.partition for r in corpus] == ["train", "dev", "tset"]


# ------------------------------------------------------------------ a killed generation

def test_stale_corpus_temporaries_are_cleaned_only_when_nobody_is_generating(tmp_path):
    from tinyemo.data.cached import STALE_AGE_S, _host, clean_stale_temporaries
    parent = tmp_path / "corpora"
    parent.mkdir()

    def temporary(suffix: str, age: float = 0.0) -> Path:
        d = parent / f".tiny-seed0.{suffix}"
        (d / "recordings_audio").mkdir(parents=True)
        (d / "recordings_audio" / "train_1.wav").write_bytes(b"x" * 100)
        if age:
            for p in (d, d / "recordings_audio", d / "recordings_audio" / "train_1.wav"):
                os.utime(p, (time.time() - age, time.time() - age))
        return d
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # a live generation (this process): its folder stays
    mine = temporary("live0001")
    live_lock = parent / f".tiny-seed0.{os.getpid()}@{_host()}.lock"
    live_lock.touch()
    (parent / f".tiny-seed0.{dead}@{_host()}.lock").touch()
    assert clean_stale_temporaries(parent, "tiny-seed0") == [] and mine.is_dir()
    # ... unless nothing touched it for STALE_AGE_S
    old = temporary("old00001", age=STALE_AGE_S + 60)
    assert clean_stale_temporaries(parent, "tiny-seed0") == [old] and mine.is_dir()
    # no live generation and a dead one's lock: its folder goes, and the lock
    live_lock.unlink()
    (parent / f".tiny-seed0.{dead}@{_host()}.lock").touch()
    other = parent / ".quick-seed0.abcdefgh"                      # another corpus: untouched
    other.mkdir()
    assert clean_stale_temporaries(parent, "tiny-seed0") == [mine]
    assert not list(parent.glob(".tiny-seed0.*")) and other.is_dir()
    # a folder without any lock (left by an older tinyemo): only once it is old
    recent = temporary("nolock01")
    assert clean_stale_temporaries(parent, "tiny-seed0") == [] and recent.is_dir()


@pytest.mark.slow
def test_kill_9_during_generation_leaves_nothing_after_the_next_run(tmp_path):
    from tinyemo.data import default_corpus_path
    cache = tmp_path / "cache"
    env = dict(os.environ, TINYEMO_CACHE=str(cache))
    name = default_corpus_path("tiny", 7).name                  # tiny-seed7-<fingerprint>
    proc = subprocess.Popen([sys.executable, "-c", "from tinyemo.data.cached import "
                             "synthetic_corpus; synthetic_corpus('tiny', 7)"], env=env)
    parent = cache / "corpora"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if any(p.is_dir() for p in parent.glob(f".{name}.*")):   # generation has begun
            break
        time.sleep(0.01)
    assert proc.poll() is None, "generation ended before it could be killed"
    proc.kill()
    proc.wait()
    assert any(p.is_dir() for p in parent.glob(f".{name}.*"))   # what kill -9 leaves
    from tinyemo.data.cached import clean_stale_temporaries
    assert len(clean_stale_temporaries(parent, name)) == 1
    assert not list(parent.glob(f".{name}.*")) and not (parent / name).exists()


# ------------------------------------------------------------------ the tinyemo command

def test_tinyemo_help_lists_the_commands_and_version(capsys):
    from tinyemo import __version__
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("train", "predict", "evaluate", "plot"):
        assert sum(line.startswith(f"  {command} ") for line in out.splitlines()) == 1
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"tinyemo {__version__}"
    assert main(["nonsense"]) == 2
    assert "unknown command 'nonsense'" in capsys.readouterr().err


def test_progress_bars_show_on_a_terminal_and_never_with_quiet(tiny, tmp_path, monkeypatch,
                                                               capsys):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    args = [a for a in SMALL if a != "--quiet"]
    assert train_main([*args, "--out", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert "features" in err and "arousal seed 0 epoch 1" in err and "remaining" not in err
    assert train_main([*SMALL, "--out", str(tmp_path / "b")]) == 0
    assert capsys.readouterr().err == ""
