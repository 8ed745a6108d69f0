"""Every option of ``tinyemo export``, ``tinyemo profile`` and ``tinyemo predict --stream``
end to end, in process, with the numbers checked against the library's."""
from __future__ import annotations

import io
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort

from tests.helpers import SPEECH as _SPEECH_DIR
from tinyemo.cli import main
from tinyemo.data import generate
from tinyemo.frontend import FbankOptions, read_audio
from tinyemo.runs.ensemble import Ensemble
from tinyemo.serve.profile import Profile, profile_of_files
from tinyemo.serve.streaming import predict_offline

from tests.helpers.modelfolder import make_model_folder

SPEECH = _SPEECH_DIR / "arctic_a0007.wav"


class _Stdin:
    def __init__(self, data: bytes):
        self.buffer = io.BytesIO(data)


def _stream(monkeypatch, capsys, data: bytes, *args) -> tuple[int, np.ndarray, str]:
    monkeypatch.setattr(sys, "stdin", _Stdin(data))
    rc = main(["predict", "--stream", *args])
    out, err = capsys.readouterr()
    lines = out.splitlines()
    table = np.loadtxt(lines[1:], delimiter=",", ndmin=2) if len(lines) > 1 else None
    return rc, table, err


def test_export_options(tmp_path, capsys):
    folder = make_model_folder(tmp_path / "m", "dilated", depth=3, sample_rate=None,
                               fbank=FbankOptions(dither=0.0))
    # no rate recorded: the waveform graph needs --sample-rate, the features graph does not
    assert main(["export", "--model", str(folder), "--out", str(tmp_path / "a.onnx")]) == 2
    assert "give --sample-rate" in capsys.readouterr().err
    assert main(["export", "--model", str(folder), "--out", str(tmp_path / "a.onnx"),
                 "--with-frontend", "--sample-rate", "8000", "--opset", "18"]) == 0
    model = onnx.load(str(tmp_path / "a.onnx"))
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["sample_rate"] == "8000" and model.opset_import[0].version == 18
    wave, _ = read_audio(SPEECH)
    ensemble = Ensemble(folder)
    got = ort.InferenceSession(str(tmp_path / "a.onnx")).run(
        None, {"waveform": (wave / 32768).astype(np.float32)})
    want = predict_offline(ensemble, wave, 8000)       # the same samples read as 8 kHz
    np.testing.assert_allclose(got[0], want["arousal"], rtol=0, atol=1e-4)
    assert main(["export", "--model", str(folder), "--out", str(tmp_path / "f.onnx"),
                 "--features"]) == 0
    assert "input features (T, C)" in capsys.readouterr().out
    assert main(["export", "--model", str(folder), "--out", str(tmp_path / "b.onnx"),
                 "--opset", "12"]) == 2
    assert "opset 12: give 18" in capsys.readouterr().err


def test_profile_options(tmp_path, capsys):
    corpus = generate(tmp_path / "corpus", "tiny", seed=1, n_train=2, n_dev=1, n_test=0,
                      duration_s=4.0, workers=1)
    folder = make_model_folder(tmp_path / "m", "single", filter_length=8)
    config = json.loads((folder / "config.json").read_text())
    config["data"]["root"] = str(corpus)
    (folder / "config.json").write_text(json.dumps(config))
    out = tmp_path / "train.npz"
    assert main(["profile", "--model", str(folder), "--from-training", "--out", str(out)]) == 0
    assert "from train partition of" in capsys.readouterr().out
    train = sorted((corpus / "recordings_audio").glob("train_*.wav"))
    want = profile_of_files(train, FbankOptions())
    got = Profile.load(out)
    np.testing.assert_allclose(got.mean, want.mean, rtol=1e-12)
    np.testing.assert_allclose(got.std, want.std, rtol=1e-12)
    assert got.frames == want.frames
    assert main(["profile", "--model", str(folder), str(SPEECH), "--from-training",
                 "--out", str(out)]) == 2
    assert "give enrolment audio files or --from-training" in capsys.readouterr().err
    assert main(["profile", "--model", str(folder), str(tmp_path / "missing.wav"),
                 "--out", str(tmp_path / "p.npz")]) == 2
    assert "missing.wav: no such audio file" in capsys.readouterr().err
    assert not (tmp_path / "p.npz").exists()


def test_stream_options(tmp_path, monkeypatch, capsys):
    folder = make_model_folder(tmp_path / "m", "downup", depth=2)
    ensemble = Ensemble(folder)
    wave, rate = read_audio(SPEECH)
    stereo = np.stack([wave, wave], axis=1).astype("<i2").tobytes()   # same in both channels
    from tinyemo.serve.streaming import StreamPredictor
    ref = StreamPredictor(ensemble, "running")
    want = np.concatenate([ref.push(wave), ref.flush()])
    rc, table, err = _stream(monkeypatch, capsys, stereo, "--model", str(folder), "--running",
                             "--format", "s16le", "--channels", "2", "--rate", "16000",
                             "--chunk", "777", "--threads", "1", "--device", "cpu")
    assert rc == 0 and "rows final 0.90 s" in err
    np.testing.assert_allclose(table[:, 1:], want[:, 1:], rtol=1e-5, atol=1e-5)
    rc, table, err = _stream(monkeypatch, capsys, SPEECH.read_bytes(), "--model", str(folder),
                             "--running", "--quiet")
    assert rc == 0 and err == "" and table.shape == want.shape
    rc, _, err = _stream(monkeypatch, capsys, b"", "--model", str(folder))
    assert rc == 2 and "give --profile FILE or --running" in err
    rc, _, err = _stream(monkeypatch, capsys, SPEECH.read_bytes(), "--model", str(folder),
                         "--profile", str(tmp_path / "none.npz"))
    assert rc == 2 and "none.npz: no such profile" in err


def test_every_deploy_option_is_exercised():
    """The options the tests above run, against the parsers: a new option needs a case."""
    from tinyemo.cli.export import export_parser
    from tinyemo.cli.profile import profile_parser
    from tinyemo.cli.predict import stream_parser

    def options(parser):
        return {max(a.option_strings, key=len) if a.option_strings else a.dest
                for a in parser._actions if a.dest != "help"}
    assert options(export_parser()) == {"--model", "--out", "--with-frontend", "--features",
                                        "--sample-rate", "--opset",
                                        "--audonnx"}   # tests/export/test_audonnx.py
    assert options(profile_parser()) == {"--model", "audio", "--from-training", "--out"}
    assert options(stream_parser()) == {"--stream", "--model", "--profile", "--running",
                                        "--format", "--rate", "--channels", "--chunk",
                                        "--device", "--threads", "--quiet"}
