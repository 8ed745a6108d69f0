"""Models whose inputs include openSMILE's descriptors (``--features lld|fbank+lld``): the saved
setting (schema, older folders, resume), predict and evaluate against a reference built from
the front end's pieces, long files block by block (the whole-file result), the one-line
refusals (streaming, a waveform graph) and the ``--features`` ONNX graph."""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import SPEECH as _SPEECH_DIR
from tests.helpers.cli import tiny  # noqa: F401  (a fixture)
from tests.helpers.modelfolder import make_model_folder
from tinyemo import Tensor, no_grad
from tinyemo.cli.export import export_main
from tinyemo.cli.predict import evaluate_main, predict_main
from tinyemo.cli.train import train_main
from tinyemo.data.grid import frames_for_duration
from tinyemo.frontend import FbankOptions, align_to_labels, speaker_normalise, stack_frames
from tinyemo.frontend.descriptor_stream import DescriptorStream
from tinyemo.frontend.descriptors import extract_features
from tinyemo.runs.ensemble import Ensemble
from tinyemo.runs.experiment import ExperimentConfig, check_resume, run_record
from tinyemo.runs.folder import read_config
from tinyemo.serve.load import load_model
from tinyemo.serve.longform import predict_long
from tinyemo.serve.streaming import StreamPredictor, predict_offline

pytest.importorskip("opensmile")

SPEECH = _SPEECH_DIR / "arctic_a0007.wav"
LEGACY = Path(__file__).parents[1] / "testdata" / "legacy" / "downup"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_model_folder(tmp_path_factory.mktemp("lld") / "model", "downup",
                             features="fbank+lld", depth=2, width=4)


def _reference(model: Path, audio: Path, features: str, dither: float = 0.0,
               seconds: float = 4.0) -> dict:
    """The nets on the file's frames, z-normalised by the file's own statistics, stacked and
    aligned: the whole-file computation from the front end's pieces."""
    config = json.loads((model / "config.json").read_text())
    opts = FbankOptions(**{**config["fbank"], "dither": dither})
    frames = extract_features(audio, features, opts, cache=False, sample_rate=16000)
    normed = speaker_normalise({0: frames}, {0: 0})[0]
    n = frames_for_duration(seconds)
    x = align_to_labels(stack_frames(normed), n, name=str(audio)).T
    ensemble = Ensemble(model)
    with no_grad():
        return {t: np.mean([m(Tensor(np.ascontiguousarray(x)[None])).numpy().reshape(-1)
                            for m in runs], axis=0) for t, runs in ensemble.models.items()}


def test_the_setting_is_saved_and_read_back(folder, tmp_path):
    config = read_config(folder)
    assert config["features"] == "fbank+lld"
    assert config["models"]["arousal"]["in_channels"] == 4 * 65
    assert load_model(folder).features == "fbank+lld"
    assert load_model(LEGACY).features == "fbank"          # saved before the setting
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text(json.dumps({**config, "features": "mfcc"}))
    with pytest.raises(ValueError, match=r"config.json: key 'features': must be one of fbank, "
                                         r"lld, fbank\+lld, got 'mfcc'"):
        read_config(bad)


def test_resume_compares_the_features(tmp_path):
    fbank = run_record(ExperimentConfig("downup"), 160, {"features": "fbank"})
    older = {k: v for k, v in fbank.items() if k != "features"}   # saved before the setting
    check_resume(older, fbank, tmp_path / "config.json")          # reads as fbank: resumes
    lld = run_record(ExperimentConfig("downup", features="lld"), 160, {"features": "lld"})
    with pytest.raises(ValueError, match=r"differs in features"):
        check_resume(older, lld, tmp_path / "config.json")
    with pytest.raises(ValueError, match="the examples hold fbank features, the configuration "
                                         "asks for lld"):
        run_record(ExperimentConfig("downup", features="lld"), 160, {"features": "fbank"})


def test_cli_resume_with_other_features_is_refused(folder, tmp_path, capsys):
    import shutil
    out = tmp_path / "run"
    shutil.copytree(folder, out)
    rc = train_main(["--preset", "tiny", "--arch", "downup", "--depth", "2", "--width", "4",
                     "--runs", "2", "--quiet", "--out", str(out), "--resume"])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "features" in err[0]


def test_predict_computes_the_whole_file(folder, tmp_path, capsys):
    """``tinyemo predict`` on a descriptor model: the CSV holds the whole-file computation."""
    assert predict_main(["--model", str(folder), "--out", str(tmp_path), "--quiet",
                         "--dither", "0", str(SPEECH)]) == 0
    rows = (tmp_path / "arctic_a0007.csv").read_text().splitlines()
    assert rows[0] == "time,arousal,valence"
    table = np.array([[float(v) for v in r.split(",")] for r in rows[1:]])
    want = _reference(folder, SPEECH, "fbank+lld")
    assert table.shape == (frames_for_duration(4.0), 3)
    np.testing.assert_allclose(table[:, 1], want["arousal"], rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(table[:, 2], want["valence"], rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("features", ["fbank+lld", "lld"])
def test_long_files_block_by_block_equal_the_whole_file(features, tmp_path, monkeypatch):
    """predict_long on a 12 s file in 0.25 s blocks and 50-row windows (openSMILE's 8 s ring
    buffer wraps): the whole-file result; openSMILE never holds more than one block."""
    import soundfile as sf
    model = make_model_folder(tmp_path / "model", "downup", features=features, depth=2,
                              width=4)
    samples, rate = sf.read(str(SPEECH), dtype="int16")
    audio = tmp_path / "long.wav"
    sf.write(str(audio), np.tile(samples, 3), rate, subtype="PCM_16")
    pieces = []
    push = DescriptorStream.push
    monkeypatch.setattr(DescriptorStream, "push",
                        lambda self, block: pieces.append(len(block)) or push(self, block))
    out = tmp_path / "long.csv"
    assert predict_long(Ensemble(model), audio, out, block_samples=4000, max_window=50,
                        options=FbankOptions(dither=0.0)) == frames_for_duration(12.0)
    assert len(pieces) >= 48 and max(pieces) <= 4000
    table = np.loadtxt(out, delimiter=",", skiprows=1)
    want = _reference(model, audio, features, seconds=12.0)
    np.testing.assert_allclose(table[:, 1], want["arousal"], rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(table[:, 2], want["valence"], rtol=1e-5, atol=2e-6)


def test_streaming_and_waveform_graphs_are_refused_in_one_line(folder, tmp_path, capsys,
                                                               monkeypatch):
    with pytest.raises(ValueError, match=r"^streaming is not available for a model with "
                                         r"openSMILE descriptor inputs \(features fbank\+lld\)"):
        StreamPredictor(folder, "running")
    with pytest.raises(ValueError, match="openSMILE descriptor inputs"):
        predict_offline(folder, np.zeros(16000), 16000)
    frames_only = StreamPredictor(folder, "running", sample_rate=16000, frames_only=True)
    with pytest.raises(ValueError, match=r"^stream: this predictor takes features"):
        frames_only.push(np.zeros(16000))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(SPEECH.read_bytes())))
    assert predict_main(["--stream", "--model", str(folder), "--running"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: streaming is not available")
    assert export_main(["--model", str(folder), "--out", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: a waveform graph is not available")
    assert not (tmp_path / "m.onnx").exists()


def test_the_features_graph_takes_the_stacked_rows(folder, tmp_path, capsys):
    ort = pytest.importorskip("onnxruntime")
    out = tmp_path / "m.onnx"
    assert export_main(["--model", str(folder), "--out", str(out), "--features"]) == 0
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape[1] == 260
    config = json.loads((folder / "config.json").read_text())
    frames = extract_features(SPEECH, "fbank+lld", FbankOptions(**config["fbank"]), cache=False)
    x = stack_frames(speaker_normalise({0: frames}, {0: 0})[0])
    got = dict(zip([o.name for o in session.get_outputs()], session.run(None, {"features": x})))
    ensemble = Ensemble(folder)
    with no_grad():
        for target, runs in ensemble.models.items():
            want = np.mean([m(Tensor(np.ascontiguousarray(x.T)[None])).numpy().reshape(-1)
                            for m in runs], axis=0)
            np.testing.assert_allclose(got[target], want, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_train_then_evaluate_with_descriptors(tiny, tmp_path, capsys):
    """End to end on the tiny corpus: lld alone trains, and evaluate scores it with the same
    features (the table's dev CCC equals the one training wrote)."""
    out = tmp_path / "run"
    assert train_main(["--preset", "tiny", "--arch", "dilated", "--width", "4", "--depth", "2",
                       "--target", "arousal", "--runs", "1", "--epochs", "2", "--quiet",
                       "--features", "lld", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert read_config(out)["models"]["arousal"]["in_channels"] == 100
    capsys.readouterr()
    assert evaluate_main(["--model", str(out), "--data", str(tiny), "--partition", "dev",
                          "--quiet"]) == 0
    table = capsys.readouterr().out
    assert f"{results['arousal']['dev']['ccc']:.3f}" in table


def test_train_without_opensmile_names_the_extra_and_creates_nothing(tmp_path, capsys,
                                                                     monkeypatch):
    monkeypatch.setitem(sys.modules, "opensmile", None)
    out = tmp_path / "run"
    assert train_main(["--preset", "tiny", "--features", "fbank+lld", "--quiet",
                       "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:")
    assert "pip install 'tinyemo[baselines]'" in err[0]
    assert not out.exists()
