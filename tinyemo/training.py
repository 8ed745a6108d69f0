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
from dataclasses import asdict, dataclass, field, fields
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
from .settings import at_least, check_fields, greater_than, one_of

__all__ = ["TrainConfig", "TrainState", "train_run", "predict_examples", "DivergedError"]

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
        check_fields(self, epochs=at_least(1), patience=at_least(1), lr=greater_than(0),
                     weight_decay=at_least(0), loss=one_of("ccc", "mse"),
                     device=one_of("cpu", "cuda"))


@dataclass
class TrainState:
    """Where a run stands after ``epoch`` epochs; saved in every checkpoint, so a resumed run
    continues from exactly here. ``log`` has one row per epoch (the run's ``log.csv``)."""

    epoch: int = 0
    best_epoch: int = 0
    best_ccc: float = -np.inf
    bad_epochs: int = 0
    done: bool = False
    log: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, saved: dict, source: str) -> "TrainState":
        names = {f.name for f in fields(cls)}
        if not isinstance(saved, dict) or set(saved) != names:
            raise ValueError(f"{source}: checkpoint state has keys "
                             f"{sorted(saved) if isinstance(saved, dict) else saved!r}, "
                             f"expected {sorted(names)}")
        return cls(**saved)

    def record(self, log_row: dict, dev_ccc: float, cfg: TrainConfig) -> bool:
        """Account for one finished epoch; returns whether its dev CCC is the best so far."""
        self.epoch += 1
        improved = dev_ccc > self.best_ccc
        if improved:
            self.best_epoch, self.best_ccc, self.bad_epochs = self.epoch, dev_ccc, 0
        else:
            self.bad_epochs += 1
        self.done = self.epoch >= cfg.epochs or self.bad_epochs >= cfg.patience
        self.log.append(log_row)
        return improved


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
              say: Callable[[str], None] = print, progress: Callable | None = None,
              on_epoch: Callable[[TrainState], None] | None = None) -> dict:
    """Train one seed into ``run_dir`` and return its summary (best epoch, best dev CCC).

    ``run_dir`` receives ``checkpoint.npz`` (latest state, every epoch), ``best.npz`` (the
    weights with the best dev CCC) and ``log.csv``. With ``resume`` an existing checkpoint is
    continued (a finished run is returned as it is); without, an existing checkpoint is an
    error, so nothing saved is overwritten. ``progress(iterable, desc)`` may wrap the epoch's
    recordings (a progress bar). ``on_epoch(state)`` is called after each epoch is saved (a
    sweep reports the dev CCC to its pruner there; an exception it raises stops the run, which
    stays resumable).
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    identity = {"model": model_cfg.to_dict(), "train": asdict(cfg), "target": target, "seed": seed}
    model = build_model(model_cfg, seed=seed).to(cfg.device)
    opt = Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    best_state = model.state_dict()
    state = TrainState()
    ckpt = run_dir / CHECKPOINT
    if ckpt.exists():
        if not resume:
            raise ValueError(f"{ckpt}: a run is already saved here; pass --resume to continue "
                             f"it or choose another --out folder")
        meta, groups = load_checkpoint(ckpt, model, opt, expect={"identity": identity})
        state = TrainState.from_dict(meta.get("state"), str(ckpt))
        best_state = groups.get("best", best_state)
    y_train = {ex.id: Tensor(backend.to_device(ex.y[target], cfg.device)) for ex in train}
    x_train = {ex.id: Tensor(backend.to_device(ex.x, cfg.device)) for ex in train}
    x_dev = [Tensor(backend.to_device(ex.x, cfg.device)) for ex in dev]  # moved once, not per epoch
    while not state.done:
        epoch = state.epoch + 1
        start = time.perf_counter()
        order = np.random.default_rng([seed, epoch]).permutation(len(train))
        items = [train[i] for i in order]
        losses = []
        for ex in (progress(items, f"{target} seed {seed} epoch {epoch}") if progress else items):
            opt.zero_grad()
            loss = _loss(model(x_train[ex.id]), y_train[ex.id], cfg.loss)
            value = loss.item()
            if not np.isfinite(value):
                raise DivergedError(_diverged(target, seed, epoch, f"the training loss is "
                                              f"{value} on recording {ex.id}", state, run_dir))
            loss.backward()
            opt.step()
            losses.append(value)
        dev_scores = score(_predict(model, x_dev), [ex.y[target] for ex in dev])
        if not np.isfinite(dev_scores["ccc"]):
            raise DivergedError(_diverged(target, seed, epoch, "the dev predictions are not "
                                          "finite", state, run_dir))
        seconds = time.perf_counter() - start
        improved = state.record({"epoch": epoch, "train_loss": float(np.mean(losses)),
                                 "dev_ccc": dev_scores["ccc"], "dev_rmse": dev_scores["rmse"],
                                 "seconds": round(seconds, 4)}, dev_scores["ccc"], cfg)
        if improved:
            best_state = model.state_dict()
        _save(run_dir, model, opt, best_state, improved, identity, state)
        say(f"{target} seed {seed} epoch {epoch:3d}: train loss {np.mean(losses):.4f}  dev CCC "
            f"{dev_scores['ccc']:.4f}  (best {state.best_ccc:.4f} @ {state.best_epoch})  "
            f"{seconds:.2f} s" + ("" if not state.done else "  [stop]"))
        if on_epoch is not None:
            on_epoch(state)
    return {"seed": seed, "best_epoch": state.best_epoch, "best_dev_ccc": state.best_ccc,
            "epochs": state.epoch}


class DivergedError(RuntimeError):
    """Training produced a NaN or infinite loss (or predictions)."""


def _diverged(target: str, seed: int, epoch: int, what: str, state: TrainState,
              run_dir: Path) -> str:
    kept = (f"the checkpoint of epoch {state.epoch} is kept in {run_dir}" if state.epoch
            else "no epoch finished, nothing was saved")
    return (f"{target}, seed {seed}, epoch {epoch}: training diverged ({what}); {kept}; try "
            f"a smaller --lr in a new --out folder")


def _save(run_dir: Path, model: Module, opt: Adam, best_state: dict, improved: bool,
          identity: dict, state: TrainState) -> None:
    """best.npz first (when it improved), then the checkpoint that points past it, then the
    log: a crash between any two writes leaves a consistent, resumable folder."""
    if improved:
        save_checkpoint(run_dir / BEST, best_state, {"identity": identity, "epoch": state.best_epoch,
                                                     "dev_ccc": state.best_ccc})
    save_checkpoint(run_dir / CHECKPOINT, model.state_dict(),
                    {"identity": identity, "state": state.to_dict()}, opt,
                    extra_models={"best": best_state})
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(state.log[0]))
    writer.writeheader()
    writer.writerows(state.log)
    write_text(run_dir / LOG, buf.getvalue())
