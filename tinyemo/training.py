"""One training run: Adam on whole recordings (batch size 1, order shuffled per epoch), loss
1 − CCC (or MSE), early stopping on the development partition's CCC over its concatenated
recordings, a checkpoint after every epoch, and resume from it.

A run is a pure function of its seed: the initial weights come from ``seed`` and epoch e
shuffles with ``default_rng([seed, e])``, so a resumed run ends where an uninterrupted one does.
"""
from __future__ import annotations

import csv
import io
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import backend
from . import functional as F
from .autograd import Tensor, no_grad
from .checkpoint import load_checkpoint, save_checkpoint
from .fileio import write_text
from .metrics import score
from .models import ModelConfig, build_model
from .nn import Module
from .optim import Adam
from .pipeline import Example

__all__ = ["TrainConfig", "train_run", "predict_examples"]

CHECKPOINT = "checkpoint.npz"
BEST = "best.npz"
LOG = "log.csv"


@dataclass(frozen=True)
class TrainConfig:
    """The optimisation settings of a run (the model's are in :class:`ModelConfig`)."""

    epochs: int = 60
    patience: int = 10
    lr: float = 1e-3
    weight_decay: float = 1e-4
    loss: str = "ccc"
    device: str = "cpu"

    def __post_init__(self):
        if self.loss not in ("ccc", "mse"):
            raise ValueError(f"loss must be 'ccc' or 'mse', got {self.loss!r}")
        if self.epochs < 1 or self.patience < 1:
            raise ValueError(f"epochs and patience must be >= 1 (got {self.epochs}, {self.patience})")


def predict_examples(model: Module, examples: list[Example], device: str = "cpu") -> list[np.ndarray]:
    """The model's (T,) float32 prediction for each example, without recording gradients."""
    return _predict(model, [Tensor(backend.to_device(ex.x, device)) for ex in examples])


def _predict(model: Module, inputs: list[Tensor]) -> list[np.ndarray]:
    with no_grad():
        return [model(x).numpy().reshape(-1) for x in inputs]


def _loss(prediction: Tensor, target: Tensor, kind: str) -> Tensor:
    return F.ccc_loss(prediction, target) if kind == "ccc" else F.mse_loss(prediction, target)


def train_run(model_cfg: ModelConfig, cfg: TrainConfig, train: list[Example], dev: list[Example],
              target: str, seed: int, run_dir: Path, resume: bool = False,
              say: Callable[[str], None] = print, progress: Callable | None = None) -> dict:
    """Train one seed into ``run_dir`` and return its summary (best epoch, best dev CCC).

    ``run_dir`` receives ``checkpoint.npz`` (latest state, every epoch), ``best.npz`` (the
    weights with the best dev CCC) and ``log.csv``. With ``resume`` an existing checkpoint is
    continued (a finished run is returned as it is); without, an existing checkpoint is an
    error, so nothing saved is overwritten. ``progress(iterable, desc)`` may wrap the epoch's
    recordings (a progress bar).
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    identity = {"model": model_cfg.to_dict(), "train": asdict(cfg), "target": target, "seed": seed}
    model = build_model(model_cfg, seed=seed).to(cfg.device)
    opt = Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    best_state = model.state_dict()
    state = {"epoch": 0, "best_epoch": 0, "best_ccc": -np.inf, "bad_epochs": 0, "done": False,
             "log": []}
    ckpt = run_dir / CHECKPOINT
    if ckpt.exists():
        if not resume:
            raise ValueError(f"{ckpt}: a run is already saved here; pass --resume to continue "
                             f"it or choose another --out folder")
        meta, groups = load_checkpoint(ckpt, model, opt, expect={"identity": identity})
        state = meta["state"]
        best_state = groups.get("best", best_state)
    y_train = {ex.id: Tensor(backend.to_device(ex.y[target], cfg.device)) for ex in train}
    x_train = {ex.id: Tensor(backend.to_device(ex.x, cfg.device)) for ex in train}
    x_dev = [Tensor(backend.to_device(ex.x, cfg.device)) for ex in dev]  # moved once, not per epoch
    while not state["done"]:
        epoch = state["epoch"] + 1
        start = time.perf_counter()
        order = np.random.default_rng([seed, epoch]).permutation(len(train))
        items = [train[i] for i in order]
        losses = []
        for ex in (progress(items, f"{target} seed {seed} epoch {epoch}") if progress else items):
            opt.zero_grad()
            loss = _loss(model(x_train[ex.id]), y_train[ex.id], cfg.loss)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        dev_scores = score(_predict(model, x_dev), [ex.y[target] for ex in dev])
        seconds = time.perf_counter() - start
        improved = dev_scores["ccc"] > state["best_ccc"]
        if improved:
            best_state = model.state_dict()
            state.update(best_epoch=epoch, best_ccc=dev_scores["ccc"], bad_epochs=0)
        else:
            state["bad_epochs"] += 1
        state["epoch"] = epoch
        state["done"] = epoch >= cfg.epochs or state["bad_epochs"] >= cfg.patience
        state["log"].append({"epoch": epoch, "train_loss": float(np.mean(losses)),
                             "dev_ccc": dev_scores["ccc"], "dev_rmse": dev_scores["rmse"],
                             "seconds": round(seconds, 4)})
        _save(run_dir, model, opt, best_state, improved, identity, state)
        say(f"{target} seed {seed} epoch {epoch:3d}: train loss {np.mean(losses):.4f}  dev CCC "
            f"{dev_scores['ccc']:.4f}  (best {state['best_ccc']:.4f} @ {state['best_epoch']})  "
            f"{seconds:.2f} s" + ("" if not state["done"] else "  [stop]"))
    return {"seed": seed, "best_epoch": state["best_epoch"], "best_dev_ccc": state["best_ccc"],
            "epochs": state["epoch"]}


def _save(run_dir: Path, model: Module, opt: Adam, best_state: dict, improved: bool,
          identity: dict, state: dict) -> None:
    """best.npz first (when it improved), then the checkpoint that points past it, then the
    log: a crash between any two writes leaves a consistent, resumable folder."""
    if improved:
        save_checkpoint(run_dir / BEST, best_state, {"identity": identity, "epoch": state["best_epoch"],
                                                     "dev_ccc": state["best_ccc"]})
    save_checkpoint(run_dir / CHECKPOINT, model.state_dict(), {"identity": identity, "state": state}, opt,
                    extra_models={"best": best_state})
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(state["log"][0]))
    writer.writeheader()
    writer.writerows(state["log"])
    write_text(run_dir / LOG, buf.getvalue())
