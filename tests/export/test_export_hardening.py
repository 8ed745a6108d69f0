"""Export refuses what would give wrong answers (a sample rate the nets were not trained at,
NaN weights), its graph never invents values for NaN input, and its metadata states the
shortest waveform it takes."""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import tinyemo

from tinyemo.cli.export import export_main
from tinyemo.data.examples import Example
from tinyemo.export import export_onnx
from tinyemo.frontend import FbankOptions
from tinyemo.runs.ensemble import Ensemble

from tests.helpers.modelfolder import make_model_folder


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("rate, message", [
    ("8000", "--sample-rate: 8000 Hz, but the model was trained at 16000 Hz"),
    ("0", "--sample-rate: must be a positive number of Hz, got 0"),
    ("-16000", "--sample-rate: must be a positive number of Hz, got -16000")])
def test_export_refuses_a_sample_rate_the_model_was_not_trained_at(tmp_path, capsys, rate,
                                                                    message):
    folder = make_model_folder(tmp_path / "m", "dilated", seeds=(0,))
    out = tmp_path / "m.onnx"
    assert export_main(["--model", str(folder), "--out", str(out), "--sample-rate", rate]) == 2
    assert capsys.readouterr().err.strip().startswith(f"error: {message}")
    assert not out.exists()
    # the rate it was trained at is accepted; a folder that records none takes any rate
    assert export_main(["--model", str(folder), "--out", str(out), "--sample-rate", "16000"]) == 0
    bare = make_model_folder(tmp_path / "bare", "dilated", seeds=(0,), sample_rate=None)
    assert export_main(["--model", str(bare), "--out", str(tmp_path / "b.onnx"),
                        "--sample-rate", "8000"]) == 0
    assert onnx.load(str(tmp_path / "b.onnx")).metadata_props[0] is not None


@pytest.mark.parametrize("arch", ["downup", "dilated"])
def test_nan_input_gives_nan_output(tmp_path, arch):
    """ONNX Runtime's MaxPool skips NaN; the exported down/up net must not."""
    ensemble = Ensemble(make_model_folder(tmp_path / "m", arch, seeds=(0,),
                                          fbank=FbankOptions(dither=0.0)))
    export_onnx(ensemble, tmp_path / "w.onnx")
    export_onnx(ensemble, tmp_path / "f.onnx", features=True)
    rng = np.random.default_rng(0)
    wave = (0.1 * rng.standard_normal(160000)).astype(np.float32)
    for bad in (np.full(160000, np.nan, np.float32), np.where(np.arange(160000) == 5, np.inf,
                                                              wave).astype(np.float32)):
        for y in _session(tmp_path / "w.onnx").run(None, {"waveform": bad}):
            assert y.shape == (251,) and np.isnan(y).all()
    for y in _session(tmp_path / "w.onnx").run(None, {"waveform": wave}):
        assert np.isfinite(y).all()
    if arch != "downup":
        return   # a NaN feature row: what a max-pool window holding it gives
    feats = rng.standard_normal((200, 160)).astype(np.float32)
    session = _session(tmp_path / "f.onnx")
    clean = session.run(None, {"features": feats})
    feats[100, 7] = np.nan
    for target, y, y0 in zip(ensemble.targets, session.run(None, {"features": feats}), clean):
        assert np.isnan(y[100])                        # the row itself
        assert np.isfinite(y0).all()
        assert np.array_equal(np.isnan(y), ~np.isfinite(y))   # NaN, never a made-up number
        # tinyemo's own max-pool gives the same rows NaN (a window holding NaN is NaN)
        mean, _ = ensemble.predict([Example(None, np.ascontiguousarray(feats.T), {})], target)
        np.testing.assert_allclose(mean[0], y, rtol=1e-4, atol=1e-5)   # NaN where y is NaN


def test_a_nan_feature_row_is_nan_through_predict_as_through_the_graph(tmp_path):
    """With 1-tap convs nothing spreads a NaN row before the pool: wherever it sits in its
    pooling window (first, middle, last), tinyemo's max-pool must make the window NaN, as the
    exported graph does; the rows around it stay finite and agree."""
    ensemble = Ensemble(make_model_folder(tmp_path / "m", "downup", seeds=(0,), depth=1,
                                          kernel_size=1))
    export_onnx(ensemble, tmp_path / "f.onnx", features=True)
    session = _session(tmp_path / "f.onnx")
    for row in (99, 100, 101):
        feats = np.random.default_rng(row).standard_normal((30 * 3, 160)).astype(np.float32)
        feats[row - 60] = np.nan
        graph = session.run(None, {"features": feats})
        for target, y in zip(ensemble.targets, graph):
            mean, _ = ensemble.predict([Example(None, np.ascontiguousarray(feats.T), {})],
                                       target)
            assert 1 <= np.isnan(y).sum() <= 3 and np.isnan(y[row - 60])
            np.testing.assert_allclose(mean[0], y, rtol=1e-4, atol=1e-5)   # NaN where y is

def test_metadata_states_the_shortest_waveform(tmp_path):
    ensemble = Ensemble(make_model_folder(tmp_path / "m", "dilated", seeds=(0,),
                                          fbank=FbankOptions(dither=0.0)))
    meta = export_onnx(ensemble, tmp_path / "m.onnx")
    assert meta["min_samples"] == "400"            # one 25-ms frame at 16 kHz
    props = {p.key: p.value for p in onnx.load(str(tmp_path / "m.onnx")).metadata_props}
    assert props["min_samples"] == "400"
    session = _session(tmp_path / "m.onnx")
    y = session.run(None, {"waveform": np.zeros(400, np.float32)})
    assert y[0].shape == (1,)
    assert "min_samples" not in export_onnx(ensemble, tmp_path / "f.onnx", features=True)


@pytest.mark.parametrize("snip_edges", [True, False])
def test_fewer_samples_than_one_frame_give_zero_rows(tmp_path, snip_edges):
    """tinyemo predict refuses audio shorter than one 25-ms frame; the graph, which cannot
    refuse, gives zero rows (it used to fail inside ONNX Runtime), and from one frame on it is
    unchanged: the padding that keeps short input computable adds no sample to longer input."""
    ensemble = Ensemble(make_model_folder(tmp_path / "m", "downup", seeds=(0,),
                                          fbank=FbankOptions(dither=0.0, snip_edges=snip_edges)))
    export_onnx(ensemble, tmp_path / "m.onnx", stacked_output="both")
    session = _session(tmp_path / "m.onnx")
    for n in (0, 1, 80, 399):
        *ys, both = session.run(None, {"waveform": np.full(n, 0.1, np.float32)})
        assert [y.shape for y in ys] == [(0,), (0,)] and both.shape == (0, 2)
    rng = np.random.default_rng(1)
    model = tinyemo.load(tmp_path / "m")
    for n in (400, 401, 559, 560, 16000):
        wave = (0.1 * rng.standard_normal(n)).astype(np.float32)
        want = model.predict(wave, 16000, dither=0.0)
        for target, y in zip(ensemble.targets, session.run(None, {"waveform": wave})):
            np.testing.assert_allclose(y, want[target], rtol=1e-4, atol=1e-4)


def test_nan_weights_are_refused(tmp_path, capsys):
    folder = make_model_folder(tmp_path / "m", "dilated", seeds=(0, 1))
    best = folder / "valence" / "seed1" / "best.npz"
    with np.load(best) as data:
        arrays = {k: data[k] for k in data.files}
    name = next(k for k in arrays if k.startswith("param/"))
    arrays[name] = np.full_like(arrays[name], np.nan)
    np.savez(best, **arrays)
    out = tmp_path / "m.onnx"
    assert export_main(["--model", str(folder), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {best}: ") and "NaN" in err and name[6:] in err
    assert not out.exists()


def test_out_in_a_folder_that_takes_no_files_names_the_out_path(tmp_path, capsys):
    folder = make_model_folder(tmp_path / "m", "dilated", seeds=(0,))
    assert export_main(["--model", str(folder), "--out", "/proc/x.onnx"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: /proc/x.onnx: "), err
    assert ".tmp" not in err
