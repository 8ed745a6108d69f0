"""The front end's sample rate: a model records it, every entry point resamples audio at other
rates to it (saying so once on stderr), audio recorded at a lower rate is flagged, a corpus of
mixed rates trains at one declared rate, and the feature cache keys the resampling. On real
speech (tests/testdata/speech)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.helpers.cli import SMALL, config_of
from tests.helpers import SPEECH as _SPEECH_DIR
from tinyemo.cli.predict import evaluate_main, predict_main
from tinyemo.cli.train import train_main
from tinyemo.frontend.audio import resample
from tinyemo.util.metrics import ccc
from tinyemo.util.notices import TinyemoWarning

SPEECH = sorted(_SPEECH_DIR.glob("*.wav"))


def test_the_speech_files_are_here():
    assert len(SPEECH) == 3 and all(sf.info(p).samplerate == 16000 for p in SPEECH)


def at_rate(files: list[Path], rate: int, folder: Path) -> list[Path]:
    """16-bit copies of ``files`` resampled to ``rate`` (as a recorder at that rate would
    have captured the same speech)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for path in files:
        samples, native = sf.read(path, dtype="int16")
        y = resample(samples.astype(np.float64), native, rate) if rate != native else samples
        sf.write(folder / path.name, np.clip(np.round(y), -32768, 32767).astype(np.int16), rate,
                 subtype="PCM_16")
        out.append(folder / path.name)
    return out


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """A run folder of two dilated nets (width 8, depth 4, random weights, a non-zero output
    layer, so predictions follow the features) whose front end ran at 16 kHz."""
    from tinyemo.engine.checkpoint import save_checkpoint
    from tinyemo.models.nets import build_model
    from tinyemo.runs.experiment import ExperimentConfig, run_record
    from tinyemo.util.fileio import write_json
    folder = tmp_path_factory.mktemp("model")
    config = ExperimentConfig("dilated", ("arousal", "valence"), (0,),
                              model={"width": 8, "depth": 4})
    record = run_record(config, 160, {"sample_rate": 16000})
    for i, (target, cfg) in enumerate(config.model_configs(160).items()):
        net = build_model(cfg, seed=i)
        weights = net.state_dict()
        out_layer = [k for k, v in weights.items() if v.ndim == 3 and v.shape[0] == 1][0]
        weights[out_layer] = np.random.default_rng(i).standard_normal(
            weights[out_layer].shape).astype(np.float32) * 0.3
        save_checkpoint(folder / target / "seed0" / "best.npz", weights, {"epoch": 1})
    write_json(folder / "config.json", record)
    return folder


def predictions(model: Path, files: list[Path], out: Path) -> np.ndarray:
    """(frames, 2) arousal and valence of ``files``, concatenated, via ``tinyemo predict``."""
    assert predict_main(["--model", str(model), *map(str, files), "--out", str(out),
                         "--quiet"]) == 0
    return np.concatenate([np.loadtxt(out / f"{f.stem}.csv", delimiter=",", skiprows=1)[:, 1:]
                           for f in files])


def warnings_in(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning: ")]


def test_the_same_speech_at_any_rate_predicts_the_same(model, tmp_path, capsys):
    base = predictions(model, SPEECH, tmp_path / "p16000")
    assert warnings_in(capsys.readouterr().err) == []
    assert base.std(axis=0).min() > 0                         # the model responds to the audio
    for rate in (22050, 44100, 48000, 8000):
        files = at_rate(SPEECH, rate, tmp_path / f"w{rate}")
        pred = predictions(model, files, tmp_path / f"p{rate}")
        assert pred.shape == base.shape                          # every 40 ms frame, as at 16 kHz
        lines = warnings_in(capsys.readouterr().err)
        assert lines[0] == ("warning: resampling 3 of 3 recording(s) to 16000 Hz, the front "
                            "end's rate: " + ", ".join(f"{f.stem} ({rate} Hz)" for f in files))
        scores = [ccc(pred[:, k], base[:, k]) for k in (0, 1)]
        if rate > 16000:
            assert len(lines) == 1 and min(scores) >= 0.98, (rate, scores)
        else:                       # 8 kHz: half the band is gone; said so, not hidden
            assert len(lines) == 2 and "recorded below the front end's 16000 Hz, so the band " \
                "above 4000 Hz is missing" in lines[1]


def test_without_resampling_the_predictions_would_differ(model, tmp_path):
    """What the entry points did before: features at the file's own rate. The test above
    would fail on it."""
    from tinyemo.data.corpus import Corpus, Recording
    from tinyemo.data.examples import prepare
    from tinyemo.frontend import FbankOptions
    from tinyemo.runs.ensemble import Ensemble
    ensemble = Ensemble(model)

    def predict(files, sample_rate):
        corpus = Corpus([Recording(f.stem, f.stem, "x", f) for f in files])
        examples = list(prepare(corpus, FbankOptions(), cache=False,
                                sample_rate=sample_rate).values())
        return np.concatenate(ensemble.predict(examples, "valence")[0])
    base = predict(SPEECH, 16000)
    files = at_rate(SPEECH, 44100, tmp_path / "w")
    with pytest.warns(TinyemoWarning, match="resampling 3 of 3"):
        assert ccc(predict(files, 16000), base) >= 0.98
    assert ccc(predict(files, None), base) < 0.9


def _labels(folder: Path, wav: Path, phase: float) -> Path:
    seconds = sf.info(wav).duration
    t = np.arange(0, seconds, 0.04)
    path = folder / f"{wav.stem}_{phase:g}.csv"
    path.write_text("time,value\n" + "".join(f"{a:.2f},{np.sin(a * 2 + phase):.4f}\n" for a in t))
    return path


def test_a_corpus_of_mixed_rates_trains_at_one_rate(model, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TINYEMO_CACHE", str(tmp_path / "cache"))
    high = at_rate(SPEECH[:1], 44100, tmp_path / "high")[0]
    rows = [(SPEECH[0], "a", "train"), (SPEECH[1], "b", "train"), (high, "c", "dev"),
            (SPEECH[2], "d", "dev")]
    manifest = tmp_path / "m.csv"
    lines = ["id,audio,speaker,partition,arousal,valence"]
    for k, (wav, spk, part) in enumerate(rows):
        a, v = _labels(tmp_path, wav, k), _labels(tmp_path, wav, k + 0.5)
        lines.append(f"r{k},{wav},{spk},{part},{a},{v}")
    manifest.write_text("\n".join(lines) + "\n")
    args = [a for a in SMALL if a not in ("--preset", "tiny")]
    assert train_main([*args, "--manifest", str(manifest), "--out", str(tmp_path / "a")]) == 0
    assert warnings_in(capsys.readouterr().err) == [
        "warning: the corpus mixes sample rates (16000 Hz: 3, 44100 Hz: 1 recordings); using "
        "16000 Hz, the most common (--sample-rate to choose another)",
        "warning: resampling 1 of 4 recording(s) to 16000 Hz, the front end's rate: r2 (44100 Hz)"]
    config = config_of(tmp_path / "a")
    assert config["sample_rate"] == 16000 and config["data"]["sample_rate"] == 16000
    # the resampled recording's features are those of the same speech at 16 kHz
    from tinyemo.data.examples import load_examples
    with pytest.warns(TinyemoWarning) as record:
        examples, _ = load_examples(manifest)
    assert len(record) == 2 and "mixes sample rates" in str(record[0].message)
    x0, x2 = examples["r0"].x, examples["r2"].x
    assert x0.shape == x2.shape and np.corrcoef(x0.ravel(), x2.ravel())[0, 1] > 0.99
    # a declared rate wins, and is what the model records
    assert train_main([*args, "--manifest", str(manifest), "--sample-rate", "22050",
                       "--out", str(tmp_path / "b")]) == 0
    assert config_of(tmp_path / "b")["sample_rate"] == 22050
    assert "resampling 4 of 4 recording(s) to 22050 Hz" in capsys.readouterr().err
    # evaluate resamples to the model's rate too
    assert evaluate_main(["--model", str(model), "--data", str(manifest), "--partition", "dev",
                          "--quiet"]) == 0
    assert warnings_in(capsys.readouterr().err) == [
        "warning: resampling 1 of 4 recording(s) to 16000 Hz, the front end's rate: r2 (44100 Hz)"]


def test_the_feature_cache_keys_the_resampling(tmp_path):
    from tinyemo.frontend import FbankOptions
    from tinyemo.frontend.cache import FeatureCache, extract
    wav = at_rate(SPEECH[:1], 44100, tmp_path)[0]
    cache = FeatureCache(tmp_path / "features")
    opts = FbankOptions()
    keys = {cache.key(wav, opts, None, rate) for rate in (None, 16000, 22050)}
    assert len(keys) == 3
    at16 = extract(wav, opts, cache, sample_rate=16000)
    native = extract(wav, opts, cache)
    assert cache.misses == 2 and cache.hits == 0
    np.testing.assert_array_equal(extract(wav, opts, cache, sample_rate=16000), at16)
    assert cache.hits == 1
    np.testing.assert_array_equal(at16, extract(wav, opts, False, sample_rate=16000))
    original = extract(SPEECH[0], opts, False)
    assert abs(at16.shape[0] - original.shape[0]) <= 1
    n = min(len(at16), len(original))
    assert np.corrcoef(at16[:n].ravel(), original[:n].ravel())[0, 1] > 0.99
    assert np.corrcoef(native[:n].ravel(), original[:n].ravel())[0, 1] < 0.9   # 22 kHz mel scale
