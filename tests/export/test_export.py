"""ONNX export: every architecture exports, onnx.checker passes, and onnxruntime's output
equals tinyemo's (``predict_offline``, the computation ``tinyemo predict`` makes for one file)
within 1e-4 on real speech and on random lengths, with the front end in the graph or not;
the metadata; the command line end to end; bad input leaves nothing behind."""
from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import tinyemo
from tests.helpers import SPEECH as _SPEECH_DIR
from tinyemo import Tensor, no_grad
from tinyemo.cli.export import export_main
from tinyemo.cli.predict import predict_main
from tinyemo.engine import nn
from tinyemo.export import export_onnx
from tinyemo.export.graph import Graph
from tinyemo.export.layers import export_module
from tinyemo.frontend import FbankOptions, read_audio
from tinyemo.runs.ensemble import Ensemble
from tinyemo.serve.streaming import predict_offline

from tests.helpers.modelfolder import make_model_folder

SPEECH = _SPEECH_DIR / "arctic_a0007.wav"
ATOL = 1e-4
NO_DITHER = FbankOptions(dither=0.0)   # the graph has no dither (see tinyemo.export)

ARCHS = [("single", {}), ("dilated", {}), ("downup", {}), ("downup", {"up_kernel_size": 4}),
         ("downup", {"up_kernel_size": 5, "depth": 3}), ("blstm", {"width": 8, "depth": 2}),
         # the regularisation settings: the input moving average (shrinking at the edges),
         # tanh, per-layer kernels, dropout (the identity in evaluation)
         ("dilated", {"input_average": 0.4, "activation": "tanh", "dropout": 0.3,
                      "dropout_mode": "channel", "kernel_size": [2, 3] * 5}),
         ("downup", {"input_average": 0.24, "kernel_size": [3, 5, 3, 3], "dropout": 0.2})]


def _session(path):
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]), model


@pytest.fixture(scope="module")
def speech():
    return read_audio(SPEECH)


@pytest.mark.parametrize("arch, kw", ARCHS)
def test_waveform_graph_equals_tinyemo(tmp_path, speech, arch, kw):
    ensemble = Ensemble(make_model_folder(tmp_path / "m", arch, fbank=NO_DITHER, **kw))
    export_onnx(ensemble, tmp_path / "m.onnx")
    session, _ = _session(tmp_path / "m.onnx")
    wave, rate = speech
    rng = np.random.default_rng(len(arch) + len(kw))
    # real speech: as it is (4 s) and 8 times over (32 s: the dilated net's taps reach 20 s);
    # random lengths: pieces of it anywhere, the shortest being one 25-ms frame
    inputs = [wave, np.tile(wave, 8)]
    for n in [400, 401, 1039, *rng.integers(1000, wave.size, 3)]:
        start = int(rng.integers(0, wave.size - n))
        inputs.append(wave[start:start + n])
    inputs.append(rng.standard_normal(70001) * 3000)     # and noise
    for x in inputs:
        want = predict_offline(ensemble, x, rate)
        got = session.run(None, {"waveform": (x / 32768).astype(np.float32)})
        for target, y in zip(ensemble.targets, got):
            assert y.shape == want[target].shape
            np.testing.assert_allclose(y, want[target], rtol=0, atol=ATOL)
    # the comparisons above are between real signals, not constants
    long = predict_offline(ensemble, np.tile(wave, 8), rate)
    assert min(np.std(v) for v in long.values()) > 0.05


@pytest.mark.parametrize("arch, kw", ARCHS[:3] + ARCHS[-2:])
def test_features_graph_equals_the_nets(tmp_path, arch, kw):
    ensemble = Ensemble(make_model_folder(tmp_path / "m", arch, **kw))
    export_onnx(ensemble, tmp_path / "f.onnx", features=True)
    session, model = _session(tmp_path / "f.onnx")
    assert [i.name for i in model.graph.input] == ["features"]
    rng = np.random.default_rng(0)
    for t in (1, 80, 81, 82, 700):
        x = rng.standard_normal((t, 160)).astype(np.float32)
        got = session.run(None, {"features": x})
        with no_grad():
            for target, y in zip(ensemble.targets, got):
                want = np.mean([m(Tensor(np.ascontiguousarray(x.T))).numpy().ravel()
                                for m in ensemble.models[target]], axis=0)
                np.testing.assert_allclose(y, want, rtol=0, atol=ATOL)


def test_metadata(tmp_path):
    folder = make_model_folder(tmp_path / "m", "downup", seeds=(3, 4))
    export_onnx(folder, tmp_path / "m.onnx")
    model = onnx.load(str(tmp_path / "m.onnx"))
    meta = {p.key: p.value for p in model.metadata_props}
    config = json.loads((folder / "config.json").read_text())
    assert json.loads(meta["targets"]) == ["arousal", "valence"]
    assert float(meta["frame_period_s"]) == 0.04 and meta["sample_rate"] == "16000"
    assert meta["tinyemo_version"] == tinyemo.__version__ == model.producer_version
    assert json.loads(meta["training_corpus"]) == config["data"]
    assert json.loads(meta["seeds"]) == [3, 4] and meta["architecture"] == "downup"
    assert float(meta["latency_s"]) == pytest.approx(201 * 0.04 + 0.055, abs=1e-3)
    assert json.loads(meta["fbank_options"]) == config["fbank"]
    assert model.opset_import[0].version == onnx.defs.onnx_opset_version()
    dims = [d.dim_param for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["samples"] and [o.name for o in model.graph.output] == ["arousal", "valence"]


@pytest.mark.slow
def test_cli_export_equals_cli_predict(tmp_path, capsys):
    """`tinyemo export` then onnxruntime on a WAV file equals `tinyemo predict --dither 0`;
    with the model's own dither (1.0) the difference on this speech stays small."""
    folder = make_model_folder(tmp_path / "m", "downup", depth=3)
    assert export_main(["--model", str(folder), "--out", str(tmp_path / "m.onnx")]) == 0
    assert "m.onnx: input waveform" in capsys.readouterr().out
    session, _ = _session(tmp_path / "m.onnx")
    wave, _ = read_audio(SPEECH)
    got = session.run(None, {"waveform": (wave / 32768).astype(np.float32)})
    for dither, tol in (("0", ATOL), (None, 0.1)):
        out = tmp_path / f"pred{dither}"
        args = ["--model", str(folder), str(SPEECH), "--out", str(out)]
        assert predict_main(args + (["--dither", dither] if dither else [])) == 0
        csv = np.loadtxt(out / "arctic_a0007.csv", delimiter=",", skiprows=1)
        for j, y in enumerate(got, 1):
            np.testing.assert_allclose(y, csv[:, j], rtol=1e-5, atol=tol)


def test_bad_input_leaves_nothing(tmp_path, capsys, monkeypatch):
    folder = make_model_folder(tmp_path / "m", "single", filter_length=8)
    out = tmp_path / "x.onnx"
    # a model folder without weights
    (folder / "valence" / "seed1" / "best.npz").unlink()
    assert export_main(["--model", str(folder), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "best.npz: no such checkpoint" in err and "\n" not in err
    assert not out.exists()
    folder = make_model_folder(tmp_path / "m2", "single", filter_length=8)
    # paths that cannot be written
    (tmp_path / "file").write_text("")
    for path, message in ((tmp_path, "is a folder"), (tmp_path / "file" / "m.onnx", "is not a folder")):
        assert export_main(["--model", str(folder), "--out", str(path)]) == 2
        assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "m", "m2"]
    # a write that fails half-way (disk full) leaves neither the file nor a temporary
    import tinyemo.util.fileio

    def full(*_):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(tinyemo.util.fileio.os, "replace", full)
    assert export_main(["--model", str(folder), "--out", str(out)]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "m", "m2"]


def test_unknown_layer_is_named(tmp_path):
    class Wobble(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(ValueError, match="cannot export layer Wobble to ONNX"):
        export_module(Graph(), nn.Sequential(nn.ReLU(), Wobble()), "x")
    ensemble = Ensemble(make_model_folder(tmp_path / "m", "dilated", depth=2))
    ensemble.models["arousal"][0].layers.insert(1, Wobble())
    with pytest.raises(ValueError, match="Wobble"):
        export_onnx(ensemble, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_lstm_layers_export_with_onnx_gate_order(tmp_path):
    """nn.LSTM (PyTorch's gate order i, f, g, o) through ONNX's LSTM op (i, o, f, c): one and
    two layers, one and two directions, against tinyemo's own forward."""
    from onnx import TensorProto, helper

    from tinyemo.export.graph import Graph
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 6, 37)).astype(np.float32)
    for layers, bidirectional in ((1, False), (2, True)):
        lstm = nn.LSTM(6, 5, layers, bidirectional=bidirectional, rng=rng)
        g = Graph()
        y = export_module(g, lstm, "x")
        g.op("Identity", y, name="y")
        graph = helper.make_graph(
            g.nodes, "lstm", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 6, "t"])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "c", "t"])],
            initializer=g.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", onnx.defs.onnx_opset_version())])
        onnx.checker.check_model(model, full_check=True)
        got = ort.InferenceSession(model.SerializeToString()).run(None, {"x": x})[0]
        with no_grad():
            want = lstm(Tensor(x)).numpy()
        assert got.shape == want.shape == (1, 5 * (2 if bidirectional else 1), 37)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


def test_blstm_exports_and_streams_at_the_end(tmp_path, speech):
    from tinyemo.serve.streaming import StreamPredictor
    ensemble = Ensemble(make_model_folder(tmp_path / "m", "blstm", fbank=NO_DITHER, width=8, depth=2))
    export_onnx(ensemble, tmp_path / "m.onnx")
    session, _ = _session(tmp_path / "m.onnx")
    wave, rate = speech
    want = predict_offline(ensemble, wave, rate)
    got = session.run(None, {"waveform": (wave / 32768).astype(np.float32)})
    for target, y in zip(ensemble.targets, got):
        assert np.std(want[target]) > 0.01
        np.testing.assert_allclose(y, want[target], rtol=0, atol=ATOL)
    # unbounded context: nothing is final before the end, then everything equals offline
    from tinyemo.frontend import fbank
    from tinyemo.frontend.features import speaker_statistics
    from tinyemo.serve.profile import Profile
    feats = fbank(wave, rate, options=NO_DITHER)
    own = Profile(*speaker_statistics({0: feats}, {0: 0})[0], feats.shape[0], rate,
                  NO_DITHER.to_dict())
    predictor = StreamPredictor(ensemble, "profile", own)
    assert predictor.latency_s == float("inf")
    assert predictor.push(wave[:30000]).shape[0] == 0
    table = np.concatenate([predictor.push(wave[30000:]), predictor.flush()])
    for j, target in enumerate(ensemble.targets, 1):
        np.testing.assert_allclose(table[:, j], want[target], rtol=0, atol=1e-5)
