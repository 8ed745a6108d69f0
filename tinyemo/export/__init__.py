"""ONNX export of a trained model folder: the whole ensemble (every seed of every target,
averaged), with the front end (waveform in) or without it (stacked normalised features in),
a dynamic time axis, and the model's metadata. Built with the ``onnx`` package's helpers
from the trained layers (``pip install "tinyemo[export]"``).

Graph inputs and outputs:

- with the front end: ``waveform`` (N,) float32, mono at the model's sample rate, full
  scale ±1 (int16 samples / 32768) → the same features as ``tinyemo predict`` (Kaldi fbank,
  per-recording z-normalisation, 4-frame stacking, one row per 40 ms from t = 0 to the end;
  without dither, i.e. ``tinyemo predict --dither 0``). Fewer samples than one 25-ms frame
  (metadata ``min_samples``) and NaN or infinite samples, which ``tinyemo predict`` refuses,
  give zero rows and all-NaN rows;
- ``--features``: ``features`` (T, C) float32, the stacked normalised rows;
- one output per target, named after it: (T,) float32, one prediction per 40 ms.
"""
from __future__ import annotations

import json
from pathlib import Path

from tinyemo import __version__
from tinyemo.export import layers, recurrent  # noqa: F401  (each registers its exporters)
from tinyemo.export.frontend import frontend_graph, nan_of_waveform, rows_of_waveform
from tinyemo.export.graph import Graph
from tinyemo.export.registry import export_module
from tinyemo.frontend.filterbank import frame_geometry
from tinyemo.runs.ensemble import Ensemble
from tinyemo.serve.streaming import (
    latency_seconds, model_options, model_sample_rate, require_fbank_inputs,
)
from tinyemo.serve.windowed import ensemble_context
from tinyemo.util.fileio import atomic_write, check_writable
from tinyemo.util.settings import SettingError

__all__ = ["export_onnx", "MIN_OPSET", "check_sample_rate"]

MIN_OPSET = 18          # ReduceMean with axes as an input; Shape with start/end


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ValueError("ONNX export needs the onnx package: pip install \"tinyemo[export]\"") from None
    return onnx


def check_sample_rate(given: int | None, trained: int | None) -> int | None:
    """The waveform's rate: ``given`` (``--sample-rate``) or the one the model was trained at.
    SettingError for a rate that is not positive or differs from the trained one (nets trained
    at 16 kHz read other features at 8 kHz: resample the audio instead)."""
    if given is None:
        return trained
    if isinstance(given, bool) or not isinstance(given, int) or given <= 0:
        raise SettingError("sample_rate", f"must be a positive number of Hz, got {given!r}")
    if trained and given != trained:
        raise SettingError("sample_rate", f"{given} Hz, but the model was trained at {trained} "
                           "Hz; leave it out and resample the audio to that rate")
    return given


def _inputs(ensemble: Ensemble) -> str:
    kind = ensemble.config.get("features", "fbank")
    return "log-mels" if kind == "fbank" else f"{kind} frames (tinyemo.frontend.descriptors)"


def export_onnx(model, out: Path, *, features: bool = False, sample_rate: int | None = None,
                opset: int | None = None, stacked_output: str | None = None) -> dict:
    """Write the ONNX graph of ``model`` (a model folder or an :class:`Ensemble`) to ``out``
    atomically; returns the metadata written into it. ``stacked_output``: also an output of
    this name, (T, targets), the targets side by side (audonnx labels its last axis).
    ValueError for a folder without weights, an unwritable path, an unknown layer or sample
    rate."""

    onnx = _onnx()
    from onnx import TensorProto, helper
    out = check_writable(out, "the .onnx file")
    opset = onnx.defs.onnx_opset_version() if opset is None else int(opset)
    if not MIN_OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise ValueError(f"opset {opset}: give {MIN_OPSET} … {onnx.defs.onnx_opset_version()}")
    ensemble = model if isinstance(model, Ensemble) else Ensemble(Path(model))
    if not features:
        require_fbank_inputs(ensemble, "a waveform graph")
    opts, stack = model_options(ensemble)
    rate = check_sample_rate(sample_rate, model_sample_rate(ensemble))
    if not features and not rate:
        raise ValueError("the model folder does not record its sample rate: give --sample-rate")
    in_channels = {m["in_channels"] for m in ensemble.config["models"].values()}.pop()

    g = Graph()
    if features:
        inp = helper.make_tensor_value_info("features", TensorProto.FLOAT, ["frames", in_channels])
        x = g.op("Unsqueeze", g.op("Transpose", "features", perm=[1, 0]), g.i64(0))
    else:
        inp = helper.make_tensor_value_info("waveform", TensorProto.FLOAT, ["samples"])
        x = frontend_graph(g, "waveform", int(rate), opts, stack)
    outputs = []
    nan = None if features else nan_of_waveform(g, "waveform")
    rows = None if features else rows_of_waveform(g, "waveform",
                                                  frame_geometry(int(rate), opts)[0])
    for target, runs in ensemble.models.items():
        stacked = ensemble.stacked[target]    # the seeds in one grouped net, when they stack
        ys = [export_module(g, m, x) for m in ([stacked] if stacked is not None else runs)]
        y = g.op("Mean", *ys) if len(ys) > 1 else ys[0]
        if nan is not None:
            y = g.op("Add", y, nan)
        if rows is None:
            g.op("Reshape", y, g.i64(-1), name=target)
        else:
            g.op("Slice", g.op("Reshape", y, g.i64(-1)), g.i64(0), rows, g.i64(0), name=target)
        outputs.append(helper.make_tensor_value_info(target, TensorProto.FLOAT, ["frames"]))
    if stacked_output is not None:
        if stacked_output in ensemble.targets:
            raise ValueError(f"output {stacked_output!r}: a target has that name")
        columns = [g.op("Unsqueeze", t, g.i64(1)) for t in ensemble.targets]    # (T, 1) each
        g.op("Concat", *columns, axis=1, name=stacked_output)
        outputs.append(helper.make_tensor_value_info(stacked_output, TensorProto.FLOAT,
                                                     ["frames", len(ensemble.targets)]))

    ctx = ensemble_context(ensemble.models)
    meta = {
        "tinyemo_version": __version__,
        "targets": json.dumps(ensemble.targets),
        "frame_period_s": "0.04",
        "sample_rate": str(rate or ""),
        "input": (f"features (T, C) float32: stacked z-normalised {_inputs(ensemble)}"
                  if features else
                  "waveform (N,) float32: mono, full scale ±1 (int16 / 32768), at sample_rate"),
        "frontend": "none" if features else "Kaldi fbank, per-recording z-normalisation, "
                    f"{stack}-frame stacking, rows on the 40 ms grid; no dither",
        "fbank_options": json.dumps(opts.to_dict()),
        "architecture": str(ensemble.config.get("arch", "")),
        "seeds": json.dumps(ensemble.config.get("seeds", [])),
        "training_corpus": json.dumps(ensemble.config.get("data", {})),
        "right_context_frames": str(ctx.right),
    }
    if not features:   # fewer samples (no whole 25-ms frame) give zero rows
        meta["min_samples"] = str(frame_geometry(int(rate), opts)[0])
    if rate:
        meta["latency_s"] = f"{latency_seconds(ctx, rate, opts, stack):.3f}"
    graph = helper.make_graph(g.nodes, "tinyemo", [inp], outputs, initializer=g.initializers,
                              doc_string=__doc__)
    model_proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                                    producer_name="tinyemo", producer_version=__version__)
    helper.set_model_props(model_proto, meta)
    onnx.checker.check_model(model_proto, full_check=True)
    with atomic_write(out, "wb") as f:
        f.write(model_proto.SerializeToString())
    return meta
