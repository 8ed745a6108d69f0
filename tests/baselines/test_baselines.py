"""The literature baselines (tinyemo/baselines): window statistics against a slow loop, the ridge
and its moment-based dev scores against scikit-learn and direct computation, both baselines end
to end on the `tiny` preset (run folder, evaluate, predict), selection that never reads test
labels, and clear errors when an optional dependency is missing."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given
from hypothesis import strategies as st

from tinyemo.baselines import BaselineModel, avec2016, train_baseline, windowed
from tinyemo.baselines.windows import stacked_statistics, window_size, window_statistics
from tinyemo.cli.baseline import baseline_main, baseline_parser
from tinyemo.cli.predict import evaluate_main, predict_main
from tinyemo.cli.plot import plot_main
from tinyemo.data import load_corpus
from tinyemo.data.corpus import Corpus, Recording
from tinyemo.util.metrics import ccc

from tests.helpers import baselines_reference as ref
from tests.helpers.cli import test_cache

TARGETS = ("arousal", "valence")
# small grids: seconds, not minutes, on the tiny preset
WINDOWED = windowed.Config(windows_s=(1.0, 5.0), alphas=(1e-3, 1e-1))
AVEC = avec2016.Config(windows_s=(2.0, 4.0), complexities=(1e-4, 1e-3))


@pytest.fixture(autouse=True)
def _threads_restored():
    """``--threads`` changes the process's thread pools: put them back after each test (other
    tests compare results with subprocesses that use the default pools)."""
    import numba
    from threadpoolctl import threadpool_info, threadpool_limits
    before = {i["user_api"]: i["num_threads"] for i in threadpool_info()}
    numba_threads = numba.get_num_threads()
    yield
    numba.set_num_threads(numba_threads)
    threadpool_limits(limits=before)


# --- window statistics --------------------------------------------------------------------

@given(t=st.integers(1, 40), d=st.integers(1, 3), half=st.integers(0, 25),
       percentiles=st.lists(st.sampled_from([0, 10, 20, 33.3, 50, 80, 90, 100]), max_size=3),
       offset=st.sampled_from([0.0, 1e3]), seed=st.integers(0, 2**16), ties=st.booleans())
def test_window_statistics_match_the_slow_loop(t, d, half, percentiles, offset, seed, ties):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((t, d))
    if ties:                                        # repeated values: rank ties
        x = np.round(x)
    x = (offset + x).astype(np.float32)             # far from zero: E[x²] − E[x]² must not cancel
    size = 2 * half + 1                             # windows longer than the recording included
    fast = window_statistics(x, size, percentiles)
    slow = ref.window_statistics(x, size, percentiles)
    assert fast.shape == slow.shape == (t, d * (2 + len(percentiles))) and fast.dtype == np.float32
    np.testing.assert_allclose(fast, slow, rtol=1e-6, atol=1e-4 if offset else 1e-5)


def test_stacked_statistics_and_window_sizes():
    x = np.random.default_rng(1).standard_normal((300, 4)).astype(np.float32)
    both = stacked_statistics(x, [25, 125], (10, 90))
    np.testing.assert_array_equal(both, np.hstack([window_statistics(x, 25, (10, 90)),
                                                   window_statistics(x, 125, (10, 90))]))
    assert [window_size(s) for s in (0.04, 1, 2, 4, 5, 20)] == [1, 25, 51, 101, 125, 501]
    for bad in (0, -1, float("nan")):
        with pytest.raises(ValueError, match="positive number of seconds"):
            window_size(bad)
    with pytest.raises(ValueError, match="odd"):
        window_statistics(x, 4)
    with pytest.raises(ValueError, match="distinct window lengths"):
        windowed.Config(windows_s=(0.01, 0.02))          # both round to one frame


# --- ridge from moments -------------------------------------------------------------------

def _batches(rng, n_batches=3, p=6, k=2):
    mix = rng.standard_normal((p, p))
    xs, ys = [], []
    for _ in range(n_batches):
        x = 5.0 + rng.standard_normal((rng.integers(40, 80), p)) @ mix
        x[:, 0] *= 30.0                                   # columns of very different scales
        y = x @ rng.standard_normal((p, k)) * 0.01 + rng.standard_normal((len(x), k))
        xs.append(x)
        ys.append(y)
    return xs, ys


def test_moments_match_numpy():
    xs, ys = _batches(np.random.default_rng(0))
    m = windowed.Moments()
    for x, y in zip(xs, ys):
        m.add(x, y)
    x, y = np.concatenate(xs), np.concatenate(ys)
    mean, cov, ymean, yvar, cxy = m.stats()
    np.testing.assert_allclose(mean, x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(cov, np.cov(x.T, bias=True), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ymean, y.mean(0), rtol=1e-12)
    np.testing.assert_allclose(yvar, y.var(0), rtol=1e-9)
    np.testing.assert_allclose(cxy, np.cov(x.T, y.T, bias=True)[:6, 6:], rtol=1e-9, atol=1e-9)


def test_ridge_and_dev_ccc_from_moments_match_sklearn_and_direct_predictions():
    from sklearn.linear_model import Ridge
    rng = np.random.default_rng(3)
    xs, ys = _batches(rng)
    dev_x, dev_y = _batches(rng, n_batches=2)
    train, dev = windowed.Moments(), windowed.Moments()
    for x, y in zip(xs, ys):
        train.add(x, y)
    for x, y in zip(dev_x, dev_y):
        dev.add(x, y)
    mean, cov, ymean, _, cxy = train.stats()
    sd = np.sqrt(np.diag(cov))
    x, y = np.concatenate(xs), np.concatenate(ys)
    z = (x - x.mean(0)) / x.std(0)
    alphas = (1e-3, 0.5)
    d_mean, d_cov, d_ymean, d_yvar, d_cxy = dev.stats()
    for alpha, w in zip(alphas, windowed.ridge_path(cov, cxy, sd, alphas)):
        for k in range(2):
            sk = Ridge(alpha=alpha * len(x)).fit(z, y[:, k])
            np.testing.assert_allclose(w[:, k], sk.coef_, rtol=1e-7, atol=1e-10)
            assert ymean[k] == pytest.approx(sk.intercept_, abs=1e-10)
            pred = ymean[k] + ((np.concatenate(dev_x) - mean) / sd) @ w[:, k]
            direct = ccc(pred, np.concatenate(dev_y)[:, k])
            assert windowed.ccc_from_moments(w[:, k], mean, sd, ymean[k], d_mean, d_cov,
                                             d_ymean[k], d_yvar[k], d_cxy[:, k]) == \
                pytest.approx(direct, abs=1e-10)


# --- end to end on the tiny preset --------------------------------------------------------

@pytest.fixture(scope="module")
def tiny():
    """The tiny corpus in the test process's shared cache (tests/helpers/cli.py); features and
    eGeMAPS descriptors are cached there too."""
    from tinyemo.data.cached import synthetic_corpus
    mp = pytest.MonkeyPatch()
    mp.setenv("TINYEMO_CACHE", str(test_cache()))
    yield synthetic_corpus("tiny", 0)
    mp.undo()


def _fit(kind, corpus, out, config):
    return train_baseline(kind, corpus, out, config=config, targets=TARGETS, source=Path("tiny"),
                          say=lambda s: None)


@pytest.fixture(scope="module")
def fitted(tiny, tmp_path_factory):
    """Both baselines fitted on the tiny corpus (the windowed one with scikit-learn hidden:
    it needs no optional dependency)."""
    corpus = load_corpus(tiny)
    base = tmp_path_factory.mktemp("baselines")
    mp = pytest.MonkeyPatch()
    mp.setitem(sys.modules, "sklearn", None)
    results = {"windowed": _fit("windowed", corpus, base / "windowed", WINDOWED)}
    mp.undo()
    results["avec2016"] = _fit("avec2016", corpus, base / "avec2016", AVEC)
    return base, results


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["windowed", "avec2016"])
def test_baseline_writes_a_run_folder_like_train(fitted, tiny, kind):
    base, results = fitted
    out = base / kind
    config = json.loads((out / "config.json").read_text())
    assert config["baseline"] == kind and config["targets"] == list(TARGETS)
    assert json.loads((out / "results.json").read_text()) == json.loads(json.dumps(results[kind]))
    assert f"| {kind} |" in (out / "results.md").read_text()
    grid = (config["settings"]["windows_s"],
            config["settings"]["alphas" if kind == "windowed" else "complexities"])
    for t in TARGETS:
        chosen, rows = config["chosen"][t], config["selection"][t]
        # every candidate was scored on dev; the chosen one is the best of them
        n_sets = 3 if kind == "windowed" else 2                   # (1), (5), (1, 5) | 2 windows
        assert len(rows) == n_sets * len(grid[1])
        assert chosen["dev_ccc"] == max(r["dev_ccc"] for r in rows)
        # ... and its dev CCC is the one the written predictions score
        assert results[kind][t]["dev"]["ccc"] == pytest.approx(chosen["dev_ccc"], abs=1e-5)
        for part in ("train", "dev", "test"):
            assert -1 <= results[kind][t][part]["ccc"] <= 1
        assert results[kind][t]["train"]["ccc"] > 0.3            # it learnt something
        with np.load(out / t / "model.npz", allow_pickle=False) as npz:
            assert set(npz.files) == {"mean", "scale", "coef", "intercept"}
            assert npz["coef"].shape == npz["mean"].shape == npz["scale"].shape
    if kind == "avec2016":
        pp = config["chosen"]["arousal"]["postprocess"]
        assert pp["median"] == 1 and pp["scaling"] in ("none", "bias", "std")
        assert config["chosen"]["arousal"]["window_s"] in (2.0, 4.0)
        assert all(r["postprocess"] is not None for r in config["selection"]["arousal"])
    n_dev = len(list((out / "predictions" / "dev").glob("*.csv")))
    assert n_dev == 3 and len(list((out / "predictions" / "test").glob("*.csv"))) == 3
    header = (out / "predictions" / "dev" / "dev_1.csv").read_text().splitlines()[0]
    assert header == "time,arousal,arousal_gold,valence,valence_gold"


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["windowed", "avec2016"])
def test_saved_model_predicts_new_audio_and_evaluates(fitted, tiny, kind, tmp_path, capsys):
    base, results = fitted
    out = base / kind
    # the saved model re-applied to the corpus gives the written dev predictions
    model = BaselineModel(out)
    dev = [ex for ex in model.examples(load_corpus(tiny)).values()
           if ex.recording.partition == "dev"]
    for t in TARGETS:
        pred, runs = model.predict(dev, t)
        assert len(runs) == 1
        written = np.loadtxt(out / "predictions" / "dev" / "dev_2.csv", delimiter=",",
                             skiprows=1)[:, 1 if t == "arousal" else 3]
        np.testing.assert_allclose(pred[1], written, rtol=1e-4, atol=1e-5)
    # tinyemo evaluate scores the folder like a trained model
    assert evaluate_main(["--model", str(out), "--data", str(tiny), "--partition", "test"]) == 0
    text = capsys.readouterr().out
    assert f"| {kind} |" in text and "Test CCC" in text
    ccc_printed = float(text.split(f"| {kind} |")[1].split("|")[1])
    assert ccc_printed == pytest.approx(results[kind]["arousal"]["test"]["ccc"], abs=5e-4)
    # tinyemo plot reads its prediction CSVs
    png = tmp_path / "fig.png"
    assert plot_main([str(out / "predictions" / "dev" / "dev_1.csv"), "--out", str(png),
                      "--duration", "10"]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # tinyemo predict on audio it never saw: every 40 ms frame from 0 to the end
    audio = tmp_path / "new.wav"
    wave, rate = sf.read(str(tiny / "recordings_audio" / "test_1.wav"), dtype="int16")
    sf.write(str(audio), wave[: rate * 7], rate, subtype="PCM_16")
    assert predict_main(["--model", str(out), str(audio), "--out", str(tmp_path / "p")]) == 0
    rows = (tmp_path / "p" / "new.csv").read_text().splitlines()
    assert rows[0] == "time,arousal,valence" and len(rows) - 1 == int(7 / 0.04) + 1
    assert np.isfinite(np.loadtxt(tmp_path / "p" / "new.csv", delimiter=",", skiprows=1)).all()


def _with_test_labels_replaced(corpus: Corpus, seed: int) -> Corpus:
    rng = np.random.default_rng(seed)
    recs = []
    for r in corpus:
        labels = r.labels
        if r.partition == "test":
            labels = {t: rng.uniform(-1, 1, len(v)).astype(np.float32) for t, v in labels.items()}
        recs.append(Recording(r.id, r.speaker, r.partition, r.audio, labels))
    return Corpus(recs, corpus.root)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["windowed", "avec2016"])
def test_selection_reads_dev_only(fitted, tiny, kind, tmp_path):
    """Other test labels: the same settings, models and dev scores; only test scores move."""
    base, results = fitted
    config = {"windowed": WINDOWED, "avec2016": AVEC}[kind]
    changed = _fit(kind, _with_test_labels_replaced(load_corpus(tiny), 7), tmp_path / kind,
                   config)
    before = json.loads((base / kind / "config.json").read_text())
    after = json.loads((tmp_path / kind / "config.json").read_text())
    assert after["chosen"] == before["chosen"] and after["selection"] == before["selection"]
    for t in TARGETS:
        assert changed[t]["dev"] == results[kind][t]["dev"]
        assert changed[t]["train"] == results[kind][t]["train"]
        assert changed[t]["test"]["ccc"] != results[kind][t]["test"]["ccc"]
        with np.load(base / kind / t / "model.npz") as a, np.load(tmp_path / kind / t /
                                                                   "model.npz") as b:
            for name in a.files:
                np.testing.assert_array_equal(a[name], b[name])


@pytest.mark.slow
def test_egemaps_descriptors_are_opensmiles(tiny):
    """Read by tinyemo's reader and cached: the same numbers as opensmile reading the file."""
    import opensmile
    path = tiny / "recordings_audio" / "dev_1.wav"
    smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                            feature_level=opensmile.FeatureLevel.LowLevelDescriptors)
    direct = smile.process_file(str(path))
    assert direct.shape[1] == 25
    starts = direct.index.get_level_values("start").total_seconds()
    np.testing.assert_allclose(np.diff(starts), 0.01, atol=1e-9)        # 10 ms frames
    ours = avec2016.lld(path)                                            # computed (or cached)
    np.testing.assert_allclose(ours, direct.to_numpy(np.float32), rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(avec2016.lld(path), ours)             # from the cache


CLI = ["--kind", "windowed", "--target", "arousal", "--windows", "1", "5"]


@pytest.mark.slow
def test_command_line_options(tiny, tmp_path, capsys):
    """Every option of ``tinyemo baseline`` (see test_every_baseline_option_is_used)."""
    out = tmp_path / "preset"
    assert baseline_main([*CLI, "--preset", "tiny", "--data-seed", "0", "--out", str(out),
                          "--threads", "1", "--quiet"]) == 0
    printed = capsys.readouterr()
    assert printed.out.startswith("**arousal**") and "**valence**" not in printed.out
    assert printed.err == ""
    config = json.loads((out / "config.json").read_text())
    assert config["targets"] == ["arousal"] and config["settings"]["windows_s"] == [1.0, 5.0]
    assert config["data"]["root"] == str(tiny) and config["sample_rate"] == 16000
    # --data, --sample-rate, notes without --quiet
    out2 = tmp_path / "data"
    assert baseline_main([*CLI, "--data", str(tiny), "--sample-rate", "22050", "--out",
                          str(out2)]) == 0
    printed = capsys.readouterr()
    assert "windowed baseline for arousal on 12 recordings" in printed.out
    assert "resampling 12 of 12 recording(s) to 22050 Hz" in printed.err
    assert json.loads((out2 / "config.json").read_text())["sample_rate"] == 22050
    # --manifest: the same corpus as a manifest, the same fit, the same scores
    corpus = load_corpus(tiny)
    lines = ["audio,speaker,partition,arousal"]
    for r in corpus:
        track = tmp_path / f"{r.id}.csv"
        track.write_text("time,value\n" + "".join(
            f"{0.04 * j:.2f},{v!r}\n" for j, v in enumerate(r.labels["arousal"].tolist())))
        lines.append(f"{r.audio},{r.speaker},{r.partition},{track}")
    (tmp_path / "m.csv").write_text("\n".join(lines) + "\n")
    assert baseline_main([*CLI, "--manifest", str(tmp_path / "m.csv"), "--out",
                          str(tmp_path / "manifest"), "--quiet"]) == 0
    a = json.loads((out / "results.json").read_text())
    b = json.loads((tmp_path / "manifest" / "results.json").read_text())
    assert a["arousal"]["dev"]["ccc"] == pytest.approx(b["arousal"]["dev"]["ccc"], abs=1e-6)


def test_every_baseline_option_is_used():
    import inspect
    import re
    used = set(re.findall(r'"(--[a-z-]+)"', inspect.getsource(test_command_line_options)))
    options = {max(a.option_strings, key=len) for a in baseline_parser()._actions
               if a.option_strings and a.dest != "help"}
    assert options - used - set(CLI) == set()


# --- errors -------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_hand_edited_or_damaged_baseline_folder_names_the_file(fitted, tiny, tmp_path, capsys):
    import shutil
    base, _ = fitted
    out = tmp_path / "w"
    shutil.copytree(base / "windowed", out)
    config = json.loads((out / "config.json").read_text())
    config["settings"]["windows_s"] = [0.01, 0.02]
    (out / "config.json").write_text(json.dumps(config))
    assert evaluate_main(["--model", str(out), "--data", str(tiny)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {out / 'config.json'}: key 'settings.windows_s': need distinct")
    shutil.copy(base / "windowed" / "config.json", out / "config.json")
    (out / "valence" / "model.npz").write_bytes(b"not a zip")
    assert predict_main(["--model", str(out), str(tiny / "recordings_audio" / "test_1.wav"),
                         "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {out / 'valence' / 'model.npz'}: cannot read the fitted model")


@pytest.mark.slow
def test_export_stream_and_profile_refuse_a_baseline_in_one_line(fitted, tmp_path, capsys):
    """They need trained nets; a baseline's folder is named as what it is, not a KeyError."""
    from tinyemo.cli import main
    base, _ = fitted
    folder = base / "windowed"
    for argv in (["export", "--model", str(folder), "--out", str(tmp_path / "m.onnx")],
                 ["profile", "--model", str(folder), "--from-training",
                  "--out", str(tmp_path / "p.npz")]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err == (f"error: {folder} holds a fitted windowed baseline, not trained nets: "
                       f"export, streaming and profiles need a folder from tinyemo train")
    assert not (tmp_path / "m.onnx").exists() and not (tmp_path / "p.npz").exists()


def test_tinyemo_help_lists_baseline(capsys):
    from tinyemo.cli import main
    assert main(["--help"]) == 0
    assert sum(line.startswith("  baseline ") for line in capsys.readouterr().out.splitlines()) == 1


@pytest.mark.parametrize("module,name", [("sklearn", "scikit-learn"), ("opensmile", "opensmile")])
def test_missing_optional_dependency_is_one_clear_line(module, name, tmp_path, monkeypatch,
                                                       capsys):
    monkeypatch.setitem(sys.modules, module, None)          # import raises ImportError
    out = tmp_path / "out"
    assert baseline_main(["--kind", "avec2016", "--preset", "tiny", "--out", str(out),
                          "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: the avec2016 baseline needs {name}, which is not installed: "
                   f"pip install 'tinyemo[baselines]'")
    assert not out.exists()


def test_bad_options_refuse_before_creating_anything(tmp_path, capsys):
    out = tmp_path / "out"
    assert baseline_main(["--kind", "windowed", "--windows", "0.01", "0.02", "--out", str(out),
                          "--quiet"]) == 2
    assert "error: --windows: need distinct window lengths" in capsys.readouterr().err
    assert baseline_main(["--kind", "windowed", "--data", str(tmp_path / "nowhere"), "--out",
                          str(out), "--quiet"]) == 2
    assert "no such corpus folder" in capsys.readouterr().err
    assert not out.exists()
    out.mkdir()
    (out / "config.json").write_text("{}")
    assert baseline_main(["--kind", "windowed", "--out", str(out), "--quiet"]) == 2
    assert "error: --out: " in (err := capsys.readouterr().err) and "already holds a model" in err
    assert sorted(p.name for p in out.iterdir()) == ["config.json"]


def test_importing_tinyemo_and_the_baselines_imports_no_optional_extra():
    code = ("import sys, tinyemo, tinyemo.baselines, tinyemo.baselines.avec2016, "
            "tinyemo.baselines.windowed, tinyemo.cli; "
            "print(sorted(m for m in ('opensmile', 'sklearn', 'torch', 'numba.cuda') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
