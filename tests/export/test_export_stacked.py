"""ONNX export of an ensemble whose seeds stack (``models.stacked``): one grouped graph per
target (Conv/ConvTranspose ``group`` = seeds), whose onnxruntime output equals the mean of the
seeds' own nets run one by one in tinyemo."""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper

from tinyemo import Tensor, no_grad
from tinyemo.export import export_onnx
from tinyemo.runs.ensemble import Ensemble

from tests.helpers.modelfolder import make_model_folder


@pytest.mark.parametrize("arch, kw", [("downup", {}), ("downup", {"up_kernel_size": 4}),
                                      ("dilated", {"input_average": 0.4})])
def test_grouped_graph_equals_the_seeds_one_by_one(tmp_path, arch, kw):
    seeds = (0, 1, 2, 3, 4)
    ensemble = Ensemble(make_model_folder(tmp_path / "m", arch, targets=("arousal",),
                                          seeds=seeds, **kw))
    export_onnx(ensemble, tmp_path / "f.onnx", features=True)
    model = onnx.load(str(tmp_path / "f.onnx"))
    onnx.checker.check_model(model, full_check=True)
    convs = [n for n in model.graph.node if n.op_type in ("Conv", "ConvTranspose")
             and len(n.input) > 1 and not n.input[1].startswith("box")]
    groups = [next((helper.get_attribute_value(a) for a in n.attribute if a.name == "group"), 1)
              for n in convs]
    n_convs = sum(1 for m in ensemble.models["arousal"][0].modules()
                  if type(m).__name__ in ("Conv1d", "ConvTranspose1d"))
    assert groups == [1] + [len(seeds)] * (n_convs - 1)     # one wide conv, then grouped
    session = ort.InferenceSession(str(tmp_path / "f.onnx"), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for t in (1, 81, 700):
        x = rng.standard_normal((t, 160)).astype(np.float32)
        (got,) = session.run(None, {"features": x})
        with no_grad():
            want = np.mean([m(Tensor(np.ascontiguousarray(x.T))).numpy().ravel()
                            for m in ensemble.models["arousal"]], axis=0)
        assert np.std(want) > 0.01 or t < 700     # the long input: real signals, not constants
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)
