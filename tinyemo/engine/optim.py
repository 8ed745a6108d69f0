"""Adam with both kinds of weight regularisation, gradient-norm clipping, and the
reduce-on-plateau learning-rate rule.

Two different things are called "weight decay"; this module keeps them apart:

- **L2** (``weight_decay`` here, as in ``torch.optim.Adam``; ``TrainConfig.l2``): λ·w is added
  to the gradient before Adam's moments, i.e. the loss gains λ/2·Σw². The paper's "Adam with
  L2" and the authors' TensorFlow ``l2_regularizer(λ)`` (= λ·Σw²/2, gradient λ·w). Adam's
  per-weight scaling then weakens it where gradients are large.
- **Decoupled weight decay** (``decoupled_weight_decay``; AdamW, Loshchilov & Hutter 2019, as
  ``torch.optim.AdamW(weight_decay=…)``): before the Adam step every weight shrinks by
  lr·λ·w, whatever its gradient.

Moments live on the parameters' target; the step is one kernel per parameter.
"""
from __future__ import annotations

import math

import numpy as np

from tinyemo.engine import backend
from tinyemo.engine.autograd import timed

__all__ = ["Adam", "clip_grad_norm", "plateau_update"]


class Adam:
    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: float = 0.0):
        self.params = list(params)
        if (lr <= 0 or eps <= 0 or weight_decay < 0 or decoupled_weight_decay < 0
                or not all(0 <= b < 1 for b in betas)):
            raise ValueError(f"invalid Adam settings: lr={lr}, betas={betas}, eps={eps}, "
                             f"weight_decay={weight_decay}, "
                             f"decoupled_weight_decay={decoupled_weight_decay}")
        self.lr, self.betas, self.eps, self.weight_decay = lr, tuple(betas), eps, weight_decay
        self.decoupled_weight_decay = decoupled_weight_decay
        self.step_count = 0
        self.m = [backend.zeros(p.shape, p.dtype, p.data) for p in self.params]
        self.v = [backend.zeros(p.shape, p.dtype, p.data) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        self.step_count += 1
        b1, b2 = self.betas
        shrink = 1.0 - self.lr * self.decoupled_weight_decay
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            k = backend.kernels(p.data)
            grad, l2 = p.grad, self.weight_decay
            if self.decoupled_weight_decay:
                if l2:   # the L2 term belongs to the loss: taken at the weights before the decay
                    grad = backend.empty(p.shape, p.dtype, p.data)
                    k.axpby(1.0, p.grad, l2, p.data, grad)
                    l2 = 0.0
                k.axpby(shrink, p.data, 0.0, p.data, p.data)      # w ← (1 − lr·λ)·w, in place
            timed("Adam.step", k.adam_step, p.data, grad, m, v, self.lr, b1, b2, self.eps, l2,
                  self.step_count)

    def state_dict(self) -> dict:
        return {"step": self.step_count,
                "m": [backend.to_numpy(m).copy() for m in self.m],
                "v": [backend.to_numpy(v).copy() for v in self.v]}

    def load_state_dict(self, state: dict) -> None:
        if len(state["m"]) != len(self.params):
            raise ValueError("optimizer state has a different number of parameters")
        self.step_count = int(state["step"])
        device = backend.device_of(self.params[0].data) if self.params else "cpu"
        self.m = [backend.to_device(np.asarray(m, dtype=p.dtype), device)
                  for m, p in zip(state["m"], self.params)]
        self.v = [backend.to_device(np.asarray(v, dtype=p.dtype), device)
                  for v, p in zip(state["v"], self.params)]


def clip_grad_norm(params, max_norm: float) -> float:
    """Scale every gradient by max_norm / (‖g‖ + 1e-6) when the global norm ‖g‖ (over all
    parameters' gradients together) exceeds ``max_norm``, as ``torch.nn.utils.clip_grad_norm_``.
    Returns ‖g‖ before clipping. Gradients are replaced, never scaled in place (backward may
    hand one array to two parameters)."""
    grads = [p for p in params if p.grad is not None]
    total = 0.0
    for p in grads:
        k = backend.kernels(p.grad)
        squares = backend.empty(p.grad.shape, p.grad.dtype, p.grad)
        k.mul(p.grad, p.grad, squares)
        out = backend.empty((1,), p.grad.dtype, p.grad)     # summed in float64 inside
        k.sum_all(squares, out)
        total += float(backend.to_numpy(out)[0])
    norm = math.sqrt(total)
    coef = max_norm / (norm + 1e-6)
    if coef < 1.0:
        for p in grads:
            scaled = backend.empty(p.grad.shape, p.grad.dtype, p.grad)
            backend.kernels(p.grad).axpby(coef, p.grad, 0.0, p.grad, scaled)
            p.grad = scaled
    return norm


def plateau_update(lr: float, bad_epochs: int, improved: bool, factor: float, patience: int,
                   min_lr: float) -> tuple[float, int]:
    """One epoch of reduce-on-plateau (``torch.optim.lr_scheduler.ReduceLROnPlateau`` with
    mode "max", threshold 0, no cooldown): (lr, epochs without improvement) after an epoch
    that ``improved`` the best dev score or not. After more than ``patience`` epochs without
    improvement the rate is multiplied by ``factor`` (not below ``min_lr``) and the count
    restarts."""
    bad_epochs = 0 if improved else bad_epochs + 1
    if bad_epochs > patience:
        new_lr = max(lr * factor, min_lr)
        if lr - new_lr > 1e-8:          # torch's eps: smaller changes are ignored
            lr = new_lr
        bad_epochs = 0
    return lr, bad_epochs
