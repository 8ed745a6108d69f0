"""``tinyemo export --audonnx DIR``: audonnx.load(DIR) opens it, labels its (frames, targets)
output with the targets, and on real speech gives what ``tinyemo predict --dither 0`` writes
(float32 ONNX against the NumPy engine: the export tests' tolerance)."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from tests.helpers import SPEECH
from tests.helpers.modelfolder import make_model_folder
from tinyemo.cli.export import export_main
from tinyemo.cli.predict import predict_main

audonnx = pytest.importorskip("audonnx")   # the optional extra tinyemo[audonnx]

ATOL = 1e-4


@pytest.mark.slow
def test_audonnx_loads_the_export_and_equals_predict_without_dither(tmp_path, capsys):
    folder = make_model_folder(tmp_path / "m", "downup", depth=3)
    assert export_main(["--model", str(folder), "--audonnx", str(tmp_path / "onnx")]) == 0
    model = audonnx.load(str(tmp_path / "onnx"))
    assert model.labels("emotion") == ["arousal", "valence"]
    meta = model.sess.get_modelmeta().custom_metadata_map
    assert meta["sample_rate"] == "16000" and meta["frame_period_s"] == "0.04"
    for name in ("arctic_a0007", "goforward"):
        path = SPEECH / f"{name}.wav"
        signal, rate = sf.read(str(path), dtype="float32")
        got = model(signal, rate, outputs="emotion")                 # (frames, 2)
        assert predict_main(["--model", str(folder), "--out", str(tmp_path / "p"), "--quiet",
                             "--dither", "0", str(path)]) == 0
        csv = np.loadtxt(tmp_path / "p" / f"{name}.csv", delimiter=",", skiprows=1)
        assert got.shape == (csv.shape[0], 2)
        np.testing.assert_allclose(got, csv[:, 1:], rtol=1e-5, atol=ATOL)


def test_audonnx_needs_the_waveform_graph_and_a_folder(tmp_path, capsys):
    folder = make_model_folder(tmp_path / "m", "downup", depth=3)
    assert export_main(["--model", str(folder), "--audonnx", str(tmp_path / "x"),
                        "--features"]) == 2
    assert "--audonnx exports the waveform graph" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert export_main(["--model", str(folder), "--audonnx", str(tmp_path / "file")]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
