"""``tinyemo export --audonnx DIR``: a folder that ``audonnx.load(DIR)`` opens (audEERING's
ONNX model format, also what audinterface runs): ``model.onnx`` (the waveform graph of
:func:`~tinyemo.export.export_onnx`, with an extra output ``emotion``: (frames, targets))
and ``model.yaml``, the audobject description audonnx reads, whose labels for ``emotion`` are
the targets. The YAML is written here, so exporting needs no audonnx; its comments and the
ONNX metadata (``sample_rate``, ``frame_period_s``) say at which rate to feed the waveform
and how far apart the output rows are (audonnx itself records neither)."""
from __future__ import annotations

import json
from pathlib import Path

from tinyemo.export import export_onnx
from tinyemo.util.fileio import check_writable
from tinyemo.util.fileio import write_text

__all__ = ["export_audonnx", "AUDONNX_OUTPUT"]

AUDONNX_OUTPUT = "emotion"


def export_audonnx(model, folder: Path, *, sample_rate: int | None = None,
                   opset: int | None = None) -> dict:
    """Write ``folder/model.onnx`` and ``folder/model.yaml``; returns the ONNX metadata."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder}: exists and is not a folder")
    check_writable(folder / "model.onnx", "the .onnx file")
    folder.mkdir(parents=True, exist_ok=True)
    meta = export_onnx(model, folder / "model.onnx", sample_rate=sample_rate, opset=opset,
                       stacked_output=AUDONNX_OUTPUT)
    targets = json.loads(meta["targets"])
    # audonnx.load opens the YAML only if its first line names the audonnx class
    lines = ["$audonnx.core.model.Model:",
             f"  # tinyemo {meta['tinyemo_version']}: input 'waveform', mono float32 in "
             f"[-1, 1] at {meta['sample_rate']} Hz;",
             f"  # outputs every {meta['frame_period_s']} s: '{AUDONNX_OUTPUT}' (frames, "
             f"{len(targets)}) and one (frames,) per target",
             "  path: model.onnx",
             "  labels:",
             f"    {AUDONNX_OUTPUT}:",
             *[f"    - {json.dumps(t)}" for t in targets],
             "  transform: null"]
    write_text(folder / "model.yaml", "\n".join(lines) + "\n")
    return meta
