"""Every documented option of every command runs end to end on the tiny preset (one epoch, one
run, a small net) and does what its help says. An option added to a command without a case
here fails ``test_every_option_has_a_case``."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.cli import test_cache, tiny  # noqa: F401  (tiny: a fixture)
from tinyemo.cli.predict import evaluate_main, evaluate_parser, predict_main, predict_parser
from tinyemo.cli.plot import plot_main, plot_parser
from tinyemo.cli.train import train_main, train_parser

BASE = ["--preset", "tiny", "--target", "arousal", "--runs", "1", "--epochs", "1"]
NET = ["--arch", "dilated", "--width", "4", "--depth", "2"]


def _cuda() -> bool:
    try:
        from numba import cuda
        return cuda.is_available()
    except ImportError:
        return False


def _log(out: Path, target="arousal", seed=0) -> list[dict]:
    lines = (out / target / f"seed{seed}" / "log.csv").read_text().splitlines()
    return [dict(zip(lines[0].split(","), map(float, row.split(",")))) for row in lines[1:]]


def _stopped_by_patience(out: Path, epochs: int, patience: int) -> bool:
    """The log ends at the first epoch that leaves ``patience`` epochs without improvement."""
    ccc = [row["dev_ccc"] for row in _log(out)]
    best, bad = -np.inf, 0
    for k, c in enumerate(ccc):
        best, bad = (c, 0) if c > best else (best, bad + 1)
        if bad >= patience:
            return len(ccc) == k + 1
    return len(ccc) == epochs


# (id, extra arguments, check(out, config, stdout, stderr, rc))
TRAIN = [
    ("arch-single", ["--arch", "single", "--filter-length", "8"],
     lambda o, c, out, err, rc: c["models"]["arousal"]["arch"] == "single"
     and c["models"]["arousal"]["filter_length"] == 8 == c["models"]["arousal"]["kernel_size"]),
    ("arch-dilated", ["--arch", "dilated", "--width", "4", "--depth", "2", "--kernel-size", "3"],
     lambda o, c, out, err, rc: {k: c["models"]["arousal"][k] for k in ("arch", "width", "depth",
                                                                       "kernel_size")}
     == {"arch": "dilated", "width": 4, "depth": 2, "kernel_size": 3}),
    ("arch-downup", ["--arch", "downup", "--width", "4", "--depth", "2", "--up-kernel-size", "5"],
     lambda o, c, out, err, rc: c["models"]["arousal"]["up_kernel_size"] == 5
     and "dev" in json.loads((o / "results.json").read_text())["arousal"]),
    ("arch-blstm", ["--arch", "blstm", "--width", "3", "--depth", "1"],
     lambda o, c, out, err, rc: {k: c["models"]["arousal"][k] for k in ("arch", "hidden_size",
                                                                        "num_layers")}
     == {"arch": "blstm", "hidden_size": 3, "num_layers": 1}),
    ("data", [*NET, "--data", "{corpus}"],
     lambda o, c, out, err, rc: c["data"]["root"] == str(o.parent / "corpus")),
    ("manifest", [*NET, "--manifest", "{manifest}"],
     lambda o, c, out, err, rc: c["data"]["root"].endswith("manifest.csv")
     and c["data"]["recordings"] == 12),
    ("preset", [*NET, "--preset", "tiny"],
     lambda o, c, out, err, rc: Path(c["data"]["root"]).name.startswith("tiny-seed0-")),
    pytest.param("data-seed", [*NET, "--data-seed", "1"],
                 lambda o, c, out, err, rc: Path(c["data"]["root"]).name.startswith("tiny-seed1-"),
                 marks=pytest.mark.slow, id="data-seed"),
    ("target-valence", [*NET, "--target", "valence"],
     lambda o, c, out, err, rc: c["targets"] == ["valence"] and (o / "valence/seed0").is_dir()),
    ("target-both", [*NET, "--target", "both"],
     lambda o, c, out, err, rc: set(json.loads((o / "results.json").read_text()))
     == {"arousal", "valence"}),
    ("runs", [*NET, "--runs", "2"],
     lambda o, c, out, err, rc: c["seeds"] == [0, 1] and (o / "arousal/seed1/best.npz").is_file()),
    ("seed", [*NET, "--seed", "7"],
     lambda o, c, out, err, rc: c["seeds"] == [7] and (o / "arousal/seed7/best.npz").is_file()),
    ("epochs", [*NET, "--epochs", "3", "--patience", "3"],
     lambda o, c, out, err, rc: len(_log(o)) == 3),
    ("patience", [*NET, "--epochs", "6", "--patience", "1", "--lr", "0.03"],
     lambda o, c, out, err, rc: c["train"]["patience"] == 1 and _stopped_by_patience(o, 6, 1)),
    ("lr", [*NET, "--lr", "0.01"], lambda o, c, out, err, rc: c["train"]["lr"] == 0.01),
    ("l2", [*NET, "--l2", "0.04"], lambda o, c, out, err, rc: c["train"]["l2"] == 0.04),
    ("decoupled-weight-decay", [*NET, "--decoupled-weight-decay", "0.01"],
     lambda o, c, out, err, rc: c["train"]["decoupled_weight_decay"] == 0.01),
    ("clip-grad-norm", [*NET, "--clip-grad-norm", "0.5"],
     lambda o, c, out, err, rc: c["train"]["clip_grad_norm"] == 0.5),
    ("lr-schedule", [*NET, "--epochs", "4", "--lr", "0.05", "--lr-schedule", "plateau",
                     "--lr-factor", "0.5", "--lr-patience", "0", "--min-lr", "0.02"],
     lambda o, c, out, err, rc: [r["lr"] for r in _log(o)][0] == 0.05
     and all(r["lr"] in (0.05, 0.025, 0.02) for r in _log(o))
     and c["train"]["lr_schedule"] == "plateau"),
    ("selection", [*NET, "--epochs", "4", "--patience", "1", "--lr", "0.05",
                   "--selection", "budget"],
     lambda o, c, out, err, rc: len(_log(o)) == 4 and c["train"]["selection"] == "budget"),
    ("augmentation", [*NET, "--input-noise", "0.2", "--time-masks", "2",
                      "--time-mask-seconds", "1"],
     lambda o, c, out, err, rc: (c["train"]["input_noise"], c["train"]["time_masks"],
                                 c["train"]["time_mask_seconds"]) == (0.2, 2, 1.0)),
    ("normalise", [*NET, "--normalise", "recording"],
     lambda o, c, out, err, rc: c["normalise"] == c["data"]["normalise"] == "recording"),
    ("features", [*NET, "--features", "fbank+lld"],
     lambda o, c, out, err, rc: c["features"] == c["data"]["features"] == "fbank+lld"
     and c["models"]["arousal"]["in_channels"] == 4 * (40 + 25)),
    ("model-settings", [*NET, "--kernel-size", "2,3", "--activation", "tanh", "--init", "xavier",
                        "--dropout", "0.2", "--dropout-mode", "channel", "--input-average", "1"],
     lambda o, c, out, err, rc: {k: c["models"]["arousal"][k] for k in (
         "kernel_size", "activation", "init", "dropout", "dropout_mode", "input_average")}
     == {"kernel_size": [2, 3], "activation": "tanh", "init": "xavier", "dropout": 0.2,
         "dropout_mode": "channel", "input_average": 1.0}),
    ("pool", ["--arch", "downup", "--width", "4", "--depth", "2", "--pool", "2",
              "--up-kernel-size", "4", "--kernel-size", "4,4,1"],
     lambda o, c, out, err, rc: (c["models"]["arousal"]["pool"],
                                 c["models"]["arousal"]["kernel_size"]) == (2, [4, 4, 1])),
    ("loss-ccc", [*NET, "--loss", "ccc"], lambda o, c, out, err, rc: c["train"]["loss"] == "ccc"),
    ("loss-mse", [*NET, "--loss", "mse", "--epochs", "2"],
     lambda o, c, out, err, rc: c["train"]["loss"] == "mse"
     and _log(o)[1]["train_loss"] < _log(o)[0]["train_loss"]),
    ("sample-rate", [*NET, "--sample-rate", "22050"],
     lambda o, c, out, err, rc: c["sample_rate"] == 22050
     and "resampling 12 of 12 recording(s) to 22050 Hz" in err),
    ("out", [*NET], lambda o, c, out, err, rc: f"results in {o}" in out),
    ("device-cpu", [*NET, "--device", "cpu"], lambda o, c, out, err, rc: c["train"]["device"] == "cpu"),
    ("device-cuda", [*NET, "--device", "cuda"],
     lambda o, c, out, err, rc: c["train"]["device"] == "cuda" if _cuda() else
     rc == 2 and "--device: device='cuda' was asked for but no usable CUDA GPU" in err
     and not o.exists()),
    ("threads", [*NET, "--threads", "1"], lambda o, c, out, err, rc: _threads_were(1)),
    ("quiet", [*NET, "--quiet"],
     lambda o, c, out, err, rc: "epoch" not in out and out.startswith("**arousal**")
     and err == ""),
    ("not-quiet", [*NET], lambda o, c, out, err, rc: "arousal seed 0 epoch   1" in out),
]


def _threads_were(n: int) -> bool:
    import numba
    from threadpoolctl import threadpool_info
    return numba.get_num_threads() == n and all(i["num_threads"] == n for i in threadpool_info())


@pytest.fixture(autouse=True)
def _threads_restored():
    """--threads changes the process's thread pools: put them back after each test."""
    import numba
    from threadpoolctl import threadpool_info, threadpool_limits
    before = {i["user_api"]: i["num_threads"] for i in threadpool_info()}
    numba_threads = numba.get_num_threads()
    yield
    numba.set_num_threads(numba_threads)
    threadpool_limits(limits=before)


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    """The tiny corpus (in the shared test cache) and a manifest of it with label CSVs."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TINYEMO_CACHE", str(test_cache()))
    from tinyemo.data import load_corpus
    from tinyemo.data.cached import synthetic_corpus
    corpus = synthetic_corpus("tiny", 0)
    folder = tmp_path_factory.mktemp("manifest")
    rows = ["audio,speaker,partition,arousal,valence"]
    for rec in load_corpus(corpus):
        cells = []
        for target in ("arousal", "valence"):
            path = folder / f"{rec.id}_{target}.csv"
            path.write_text("time,value\n" + "".join(
                f"{0.04 * j:.2f},{v:.6f}\n" for j, v in enumerate(rec.labels[target])))
            cells.append(path.name)
        rows.append(f"{rec.audio},{rec.speaker},{rec.partition},{cells[0]},{cells[1]}")
    (folder / "manifest.csv").write_text("\n".join(rows) + "\n")
    yield corpus, folder / "manifest.csv"
    mp.undo()


@pytest.mark.parametrize("name, extra, check", TRAIN,
                         ids=[c[0] if isinstance(c, tuple) else c.id for c in TRAIN])
def test_train_option(name, extra, check, corpora, tmp_path, capsys, monkeypatch):
    corpus, manifest = corpora
    monkeypatch.setenv("TINYEMO_CACHE", str(test_cache()))
    if name == "data":
        import shutil
        shutil.copytree(corpus, tmp_path / "corpus")
    extra = [str(tmp_path / "corpus") if a == "{corpus}" else str(manifest) if a == "{manifest}"
             else a for a in extra]
    quiet = [] if name in ("quiet", "not-quiet", "out") else ["--quiet"]
    out = tmp_path / "run"
    rc = train_main([*BASE, *extra, *quiet, "--out", str(out)])
    captured = capsys.readouterr()
    config = json.loads((out / "config.json").read_text()) if (out / "config.json").exists() else {}
    if not (name == "device-cuda" and not _cuda()):
        assert rc == 0, captured.err
    assert check(out, config, captured.out, captured.err, rc), (captured.out, captured.err)


def test_train_resume(tiny, tmp_path, capsys):
    out = tmp_path / "run"
    args = [*BASE, *NET, "--epochs", "2", "--quiet", "--out", str(out)]
    assert train_main(args) == 0
    results = (out / "results.json").read_text()
    logs = (out / "arousal/seed0/log.csv").read_text()
    (out / "results.json").unlink()                     # as if it died before the last write
    assert train_main([*args, "--resume"]) == 0
    assert (out / "results.json").read_text() == results
    assert (out / "arousal/seed0/log.csv").read_text() == logs     # nothing trained again


@pytest.fixture(scope="module")
def model(corpora, tmp_path_factory):
    """A trained run folder (both targets) for predict, evaluate and plot."""
    out = tmp_path_factory.mktemp("model") / "dilated"
    mp = pytest.MonkeyPatch()
    mp.setenv("TINYEMO_CACHE", str(test_cache()))
    assert train_main([*BASE, *NET, "--target", "both", "--epochs", "2", "--quiet",
                       "--out", str(out)]) == 0
    mp.undo()
    return out


def _wav(corpora, name="test_1") -> str:
    return str(corpora[0] / "recordings_audio" / f"{name}.wav")


PREDICT = [
    ("basic", [], lambda out, err, rc, p: (p / "test_1.csv").read_text().startswith(
        "time,arousal,valence\n") and err == ""),
    ("several", ["{wav:dev_1}"], lambda out, err, rc, p: (p / "dev_1.csv").is_file()
     and out.split() == [str(p / "test_1.csv"), str(p / "dev_1.csv")]),
    ("device-cpu", ["--device", "cpu"], lambda out, err, rc, p: rc == 0),
    ("device-cuda", ["--device", "cuda"], lambda out, err, rc, p: rc == 0 if _cuda() else
     rc == 2 and "--device: device='cuda' was asked for" in err and not p.exists()),
    ("threads", ["--threads", "1"], lambda out, err, rc, p: rc == 0 and _threads_were(1)),
    ("quiet", ["--quiet"], lambda out, err, rc, p: rc == 0 and err == ""),
    ("dither", ["--dither", "0"], lambda out, err, rc, p: rc == 0
     and (p / "test_1.csv").read_text().startswith("time,arousal,valence\n")),
    ("workers", ["{wav:dev_1}", "--workers", "2"], lambda out, err, rc, p: rc == 0
     and (p / "test_1.csv").is_file() and (p / "dev_1.csv").is_file()),
    ("dask-local", ["--dask-local", "1"], lambda out, err, rc, p: rc == 0
     and (p / "test_1.csv").read_text().startswith("time,arousal,valence\n")),
    ("scheduler", ["--scheduler", "tcp://127.0.0.1:9"], lambda out, err, rc, p: rc == 2
     and "no Dask scheduler answered" in err and not p.exists()),
    ("skip-existing", ["--skip-existing"], lambda out, err, rc, p: rc == 0
     and (p / "test_1.csv").is_file()),
    ("output", ["--output", "{p}/t.csv"], lambda out, err, rc, p: rc == 0
     and (p / "t.csv").read_text().startswith("file,start,end,arousal,valence\n")),
    ("window-hop-std", ["--output", "{p}/w.parquet", "--window", "2", "--hop", "1", "--std"],
     lambda out, err, rc, p: rc == 0 and (p / "w.parquet").is_file()),
    ("segments", ["--output", "{p}/s.csv", "--segments", "{rttm}"],
     lambda out, err, rc, p: rc == 0 and (p / "s.csv").read_text().count("\n") == 2
     and ",0.5,1.5," in (p / "s.csv").read_text()),
]


@pytest.mark.parametrize("name, extra, check", PREDICT, ids=[c[0] for c in PREDICT])
def test_predict_option(name, extra, check, model, corpora, tmp_path, capsys):
    extra = [_wav(corpora, a[5:-1]) if a.startswith("{wav:") else a for a in extra]
    p = tmp_path / "p"
    rttm = tmp_path / "d.rttm"
    rttm.write_text("SPEAKER test_1 1 0.5 1.0 <NA> <NA> A <NA> <NA>\n")
    extra = [a.replace("{p}", str(p)).replace("{rttm}", str(rttm)) for a in extra]
    rc = predict_main(["--model", str(model), _wav(corpora), *extra, "--out", str(p)])
    captured = capsys.readouterr()
    assert check(captured.out, captured.err, rc, p), (captured.out, captured.err)


EVALUATE = [
    ("partition", ["--partition", "test"], lambda out, err, rc: "Test CCC" in out
     and "Dev CCC" not in out and "over the 3 test recordings" in out),
    ("target", ["--target", "valence"], lambda out, err, rc: "**valence**" in out
     and "arousal" not in out),
    ("device-cpu", ["--device", "cpu"], lambda out, err, rc: rc == 0 and "Dev CCC" in out),
    ("device-cuda", ["--device", "cuda"], lambda out, err, rc: rc == 0 if _cuda() else
     rc == 2 and "--device: device='cuda' was asked for" in err),
    ("threads", ["--threads", "1"], lambda out, err, rc: rc == 0 and _threads_were(1)),
    ("quiet", ["--quiet"], lambda out, err, rc: rc == 0 and err == ""),
]


@pytest.mark.parametrize("name, extra, check", EVALUATE, ids=[c[0] for c in EVALUATE])
def test_evaluate_option(name, extra, check, model, corpora, capsys):
    rc = evaluate_main(["--model", str(model), "--data", str(corpora[0]), *extra])
    captured = capsys.readouterr()
    assert check(captured.out, captured.err, rc), (captured.out, captured.err)


PLOT = [
    ("basic", [], lambda png, rc, err: png.read_bytes()[:4] == b"\x89PNG"),
    ("start", ["--start", "10"], lambda png, rc, err: png.is_file()),
    ("start-past-the-end", ["--start", "1000"],
     lambda png, rc, err: rc == 2 and "no frames between 1000.0 s and 1060.0 s" in err),
    ("duration", ["--duration", "5"], lambda png, rc, err: png.is_file()),
    ("labels", ["--labels", "mine"], lambda png, rc, err: png.is_file()),
]


@pytest.mark.parametrize("name, extra, check", PLOT, ids=[c[0] for c in PLOT])
def test_plot_option(name, extra, check, model, tmp_path, capsys):
    png = tmp_path / "f.png"
    rc = plot_main([str(model / "predictions/dev/dev_1.csv"), *extra, "--out", str(png)])
    assert check(png, rc, capsys.readouterr().err)


def test_plot_window_and_labels_reach_the_panels(model):
    from tinyemo.report.plot import plot_layout
    (arousal, valence) = plot_layout([model / "predictions/dev/dev_1.csv"], 10, 5, ["mine"])
    assert arousal.time[0] == pytest.approx(10) and arousal.time[-1] == pytest.approx(14.96)
    assert list(arousal.predictions) == ["mine"] and valence.target == "valence"


def _options(parser) -> set[str]:
    return {max(a.option_strings, key=len) if a.option_strings else a.dest
            for a in parser._actions if a.dest != "help"}


def _covered(cases, always: set[str]) -> set[str]:
    used = set(always)
    for case in cases:
        extra = case.values[1] if hasattr(case, "values") else case[1]
        used |= {a for a in extra if a.startswith("--")}
    return used


@pytest.mark.parametrize("parser, cases, always", [
    (train_parser(), TRAIN + [("resume", ["--resume"])], set(BASE) | {"--out", "--quiet"}),
    (predict_parser(), PREDICT, {"--model", "audio", "--out"}),
    (evaluate_parser(), EVALUATE, {"--model", "--data"}),
    (plot_parser(), PLOT, {"csv", "--out"}),
], ids=["train", "predict", "evaluate", "plot"])
def test_every_option_has_a_case(parser, cases, always):
    assert _options(parser) - _covered(cases, always) == set()
