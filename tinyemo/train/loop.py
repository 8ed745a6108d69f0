"""One training run: Adam on whole recordings (batch size 1, order shuffled per epoch), loss
1 − CCC (or MSE), model selection on the development partition's CCC over its concatenated
recordings, a checkpoint after every epoch, and resume from it.

Selection keeps the weights of the best dev epoch, and stops either after ``patience`` epochs
without improvement (``selection="patience"``) or only at the ``epochs`` budget
(``selection="budget"``, the authors' rule: 300 epochs, keep the best); ``selection="fixed"``
trains exactly ``epochs`` epochs and keeps the last, with no dev partition needed (a sweep's
final runs on train + dev, ``--final-on train+dev``; a dev given is scored, not used).
Optional: decoupled weight decay beside L2, gradient-norm clipping, reduce-on-plateau learning
rate, input noise and time masks (``tinyemo.train.augment``), and the model's dropout. Dev
scoring runs in eval mode.

A run is a pure function of its seed: the initial weights come from ``seed``, epoch e shuffles
with ``default_rng([seed, e])``, and each step's augmentation and dropout draw from
``augment.step_rng(seed, e, recording, stream)``, so a resumed run ends where an uninterrupted
one does, bit for bit.
"""
from __future__ import annotations

import csv
import io
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Callable

import numpy as np

from tinyemo.data.examples import Example
from tinyemo.engine import backend
from tinyemo.engine import functional as F
from tinyemo.engine.autograd import Tensor, no_grad
from tinyemo.engine.checkpoint import load_checkpoint, save_checkpoint
from tinyemo.engine.nn import Module
from tinyemo.engine.optim import Adam, clip_grad_norm, plateau_update
from tinyemo.models.config import ModelConfig, used_settings
from tinyemo.models.nets import build_model
from tinyemo.train.augment import AUGMENT_STREAM, DROPOUT_STREAM, augment, step_rng
from tinyemo.util.fileio import write_text
from tinyemo.util.metrics import score
from tinyemo.util.settings import SettingError, at_least, check_fields, greater_than, one_of

__all__ = ["TrainConfig", "TrainState", "train_run", "predict_examples", "DivergedError"]

CHECKPOINT = "checkpoint.npz"
BEST = "best.npz"
LOG = "log.csv"


SELECTIONS = ("patience", "budget", "fixed")
LR_SCHEDULES = ("constant", "plateau")


@dataclass(frozen=True)
class TrainConfig:
    """The optimisation settings of a run (the model's are in :class:`ModelConfig`).

    ``l2``: λ with λ·w added to the gradient (loss + λ/2·Σw²: the paper's "L2", TensorFlow's
    ``l2_regularizer(λ)``, ``torch.optim.Adam(weight_decay=λ)``). ``decoupled_weight_decay``:
    AdamW's λ, each step shrinks w by lr·λ·w (``torch.optim.AdamW(weight_decay=λ)``).
    ``clip_grad_norm``: the largest global gradient norm (0: no clipping). ``lr_schedule``:
    ``constant`` or ``plateau`` (× ``lr_factor`` after more than ``lr_patience`` epochs without
    a better dev CCC, not below ``min_lr``). ``selection``: ``patience`` (stop after
    ``patience`` epochs without improvement) or ``budget`` (all ``epochs``), both keeping the
    best dev epoch, or ``fixed`` (all ``epochs``, keeping the last: no dev needed).
    ``input_noise``: standard deviation of Gaussian noise on the (z-normalised)
    training features; ``time_masks`` masks of up to ``time_mask_seconds`` each (training only).
    """

    epochs: int = 60
    patience: int = 10
    lr: float = 1e-3
    l2: float = 1e-4
    loss: str = "ccc"
    device: str = "cpu"
    selection: str = "patience"
    decoupled_weight_decay: float = 0.0
    clip_grad_norm: float = 0.0
    lr_schedule: str = "constant"
    lr_factor: float = 0.5
    lr_patience: int = 5
    min_lr: float = 0.0
    input_noise: float = 0.0
    time_masks: int = 0
    time_mask_seconds: float = 2.0

    def __post_init__(self):
        check_fields(self, epochs=at_least(1), patience=at_least(1), lr=greater_than(0),
                     l2=at_least(0), loss=one_of("ccc", "mse"), device=one_of("cpu", "cuda"),
                     selection=one_of(*SELECTIONS), decoupled_weight_decay=at_least(0),
                     clip_grad_norm=at_least(0), lr_schedule=one_of(*LR_SCHEDULES),
                     lr_factor=lambda v: None if 0 < v < 1 else f"must be in (0, 1), got {v!r}",
                     lr_patience=at_least(0), min_lr=at_least(0), input_noise=at_least(0),
                     time_masks=at_least(0), time_mask_seconds=at_least(0))
        if self.lr_schedule == "plateau" and self.min_lr > self.lr:
            raise SettingError("min_lr", f"must not exceed lr ({self.lr}), got {self.min_lr}")
        if self.lr_schedule == "plateau" and self.selection == "fixed":
            raise SettingError("lr_schedule", "plateau follows the dev CCC, which selection "
                               "'fixed' does not use; use 'constant'")

    @property
    def augments(self) -> bool:
        """Whether training features are augmented (noise or masks)."""
        return self.input_noise > 0 or (self.time_masks > 0 and self.time_mask_seconds > 0)


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
    lr: float = 0.0                 # the learning rate of the next epoch
    lr_bad_epochs: int = 0          # reduce-on-plateau's count (restarts at each reduction)

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
        """Account for one finished epoch; returns whether its weights are the ones to keep
        (the best dev CCC so far; with selection ``fixed``, every epoch's: the last is kept)."""
        self.epoch += 1
        improved = dev_ccc > self.best_ccc or cfg.selection == "fixed"
        if improved:
            self.best_epoch, self.best_ccc, self.bad_epochs = self.epoch, dev_ccc, 0
        else:
            self.bad_epochs += 1
        if cfg.lr_schedule == "plateau":
            self.lr, self.lr_bad_epochs = plateau_update(self.lr, self.lr_bad_epochs, improved,
                                                         cfg.lr_factor, cfg.lr_patience,
                                                         cfg.min_lr)
        self.done = self.epoch >= cfg.epochs or (cfg.selection == "patience"
                                                 and self.bad_epochs >= cfg.patience)
        self.log.append(log_row)
        return improved


def predict_examples(model: Module, examples: list[Example], device: str = "cpu") -> list[np.ndarray]:
    """The model's (T,) float32 prediction for each example, in eval mode (no dropout),
    without recording gradients."""
    return _predict(model, [Tensor(backend.to_device(ex.x, device)) for ex in examples])


def _predict(model: Module, inputs: list[Tensor]) -> list[np.ndarray]:
    """Predictions in eval mode; the model's mode is restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            return [model(x).numpy().reshape(-1) for x in inputs]
    finally:
        model.train(was_training)


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
    stays resumable). With ``cfg.selection == "fixed"`` ``dev`` may be empty (its CCC is then
    logged as NaN) and the weights kept are the last epoch's.
    """
    if not dev and cfg.selection != "fixed":
        raise ValueError(f"{target}: no dev recordings to select epochs on; selection "
                         f"'{cfg.selection}' needs them (selection 'fixed' trains without)")
    run_dir.mkdir(parents=True, exist_ok=True)
    identity = {"model": model_cfg.to_dict(), "train": asdict(cfg), "target": target, "seed": seed}
    model = build_model(model_cfg, seed=seed).to(cfg.device)
    opt = Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.l2,
               decoupled_weight_decay=cfg.decoupled_weight_decay)
    best_state = model.state_dict()
    state = TrainState(lr=cfg.lr)
    ckpt = run_dir / CHECKPOINT
    if ckpt.exists():
        if not resume:
            raise ValueError(f"{ckpt}: a run is already saved here; pass --resume to continue "
                             f"it or choose another --out folder")
        meta, groups = load_checkpoint(ckpt, model, opt, expect={"identity": identity},
                                       same=_same_identity)
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
        opt.lr = lr = state.lr
        model.train()
        for ex in (progress(items, f"{target} seed {seed} epoch {epoch}") if progress else items):
            opt.zero_grad()
            model.reseed(step_rng(seed, epoch, ex.id, DROPOUT_STREAM))
            loss = _loss(model(_train_input(ex, x_train, cfg, seed, epoch)), y_train[ex.id],
                         cfg.loss)
            value = loss.item()
            if not np.isfinite(value):
                raise DivergedError(_diverged(target, seed, epoch, f"the training loss is "
                                              f"{value} on recording {ex.id}", state, run_dir))
            loss.backward()
            if cfg.clip_grad_norm > 0:
                clip_grad_norm(model.parameters(), cfg.clip_grad_norm)
            opt.step()
            losses.append(value)
        dev_scores = (score(_predict(model, x_dev), [ex.y[target] for ex in dev]) if dev
                      else {"ccc": float("nan"), "rmse": float("nan")})
        if dev and not np.isfinite(dev_scores["ccc"]):
            raise DivergedError(_diverged(target, seed, epoch, "the dev predictions are not "
                                          "finite", state, run_dir))
        seconds = time.perf_counter() - start
        improved = state.record({"epoch": epoch, "train_loss": float(np.mean(losses)),
                                 "dev_ccc": dev_scores["ccc"], "dev_rmse": dev_scores["rmse"],
                                 "seconds": round(seconds, 4), "lr": lr}, dev_scores["ccc"], cfg)
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


def _train_input(ex: Example, x_train: dict, cfg: TrainConfig, seed: int, epoch: int) -> Tensor:
    """The recording's features as this step sees them: augmented afresh when augmentation is
    on (drawn on the host, then moved), else the copy already on the device."""
    if not cfg.augments:
        return x_train[ex.id]
    x = augment(ex.x, step_rng(seed, epoch, ex.id, AUGMENT_STREAM), cfg.input_noise,
                cfg.time_masks, cfg.time_mask_seconds)
    return Tensor(backend.to_device(x, cfg.device))


class DivergedError(RuntimeError):
    """Training produced a NaN or infinite loss (or predictions)."""


def _diverged(target: str, seed: int, epoch: int, what: str, state: TrainState,
              run_dir: Path) -> str:
    kept = (f"the checkpoint of epoch {state.epoch} is kept in {run_dir}" if state.epoch
            else "no epoch finished, nothing was saved")
    return (f"{target}, seed {seed}, epoch {epoch}: training diverged ({what}); {kept}; try "
            f"a smaller --lr in a new --out folder")


def _same_identity(saved, expected: dict) -> bool:
    """Whether a checkpoint's identity is this run's, model settings its architecture ignores
    apart (``models.used_settings``)."""
    if not isinstance(saved, dict) or not isinstance(saved.get("model"), dict):
        return False
    return ({**saved, "model": used_settings(saved["model"])}
            == {**expected, "model": used_settings(expected["model"])})


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
