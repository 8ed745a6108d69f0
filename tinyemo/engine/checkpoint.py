"""Checkpoints: a model's weights, optionally Adam's state and the loop's counters, in one
``.npz`` written atomically. Loading checks the file is whole and belongs to this model."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from tinyemo.engine.nn import Module
from tinyemo.engine.optim import Adam
from tinyemo.util.fileio import save_npz

__all__ = ["save_checkpoint", "load_checkpoint", "read_meta"]


def save_checkpoint(path: Path, weights: dict, meta: dict, optimizer: Adam | None = None,
                    extra_models: dict[str, dict] | None = None) -> None:
    """Write ``weights`` (a model's ``state_dict()``; and ``optimizer``'s moments, other named
    state dicts, and the JSON-able ``meta``) to ``path`` atomically."""
    arrays = {f"param/{k}": v for k, v in weights.items()}
    for prefix, state in (extra_models or {}).items():
        arrays.update({f"{prefix}/{k}": v for k, v in state.items()})
    if optimizer is not None:
        state = optimizer.state_dict()
        meta = dict(meta, adam_step=state["step"])
        arrays.update({f"adam_m/{i}": m for i, m in enumerate(state["m"])})
        arrays.update({f"adam_v/{i}": v for i, v in enumerate(state["v"])})
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    save_npz(path, **arrays)


def load_checkpoint(path: Path, model: Module, optimizer: Adam | None = None,
                    expect: dict | None = None, same=None) -> tuple[dict, dict[str, dict]]:
    """Load ``path`` into ``model`` (and ``optimizer``). ``expect``: meta entries that must
    match (e.g. the model configuration), compared with ``same(saved, expected)`` (default:
    equality). Returns (meta, other state dicts by prefix).
    Raises ValueError naming the file when it is missing, truncated, corrupt or foreign, or
    its weights hold NaN or infinite values."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise ValueError(f"{path}: no such checkpoint") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise ValueError(f"{path}: corrupt or truncated checkpoint ({exc})") from None
    if "meta" not in arrays:
        raise ValueError(f"{path}: not a tinyemo checkpoint (no metadata)")
    try:
        meta = json.loads(arrays.pop("meta").tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: corrupt checkpoint metadata ({exc})") from None
    same = same or (lambda saved, expected: saved == expected)
    for key, value in (expect or {}).items():
        if not same(meta.get(key), value):
            raise ValueError(f"{path}: saved with a different {key} ({meta.get(key)!r}) than "
                             f"this one ({value!r}); use a new --out folder")
    groups: dict[str, dict] = {}
    for key, value in arrays.items():
        prefix, _, name = key.partition("/")
        groups.setdefault(prefix, {})[name] = value
    params = groups.pop("param", {})
    for name, value in params.items():
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise ValueError(f"{path}: weight {name} holds NaN or infinite values (a diverged "
                             "or damaged model); retrain it or restore the file")
    model.load_state_dict(params, source=str(path))
    m, v = groups.pop("adam_m", None), groups.pop("adam_v", None)
    if optimizer is not None:
        if m is None or v is None:
            raise ValueError(f"{path}: holds no optimizer state to resume from")
        order = [str(i) for i in range(len(m))]
        optimizer.load_state_dict({"step": meta["adam_step"], "m": [m[i] for i in order],
                                   "v": [v[i] for i in order]})
    return meta, groups


def read_meta(path: Path) -> dict:
    """The JSON metadata of the checkpoint at ``path`` without loading its arrays (a sweep reads
    where each seed stands this way). ValueError naming the file when it is unreadable."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            raw = data["meta"]
        return json.loads(raw.tobytes().decode())
    except FileNotFoundError:
        raise ValueError(f"{path}: no such checkpoint") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: corrupt or truncated checkpoint ({exc})") from None
