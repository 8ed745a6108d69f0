"""Adam with L2 regularisation (weight decay added to the gradient, as the paper's "Adam with
L2"). Its moments live on the parameters' target; the step is one kernel per parameter."""
from __future__ import annotations

import numpy as np

from . import backend

__all__ = ["Adam"]


class Adam:
    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        self.params = list(params)
        if lr <= 0 or eps <= 0 or weight_decay < 0 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"invalid Adam settings: lr={lr}, betas={betas}, eps={eps}, "
                             f"weight_decay={weight_decay}")
        self.lr, self.betas, self.eps, self.weight_decay = lr, tuple(betas), eps, weight_decay
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
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            backend.kernels(p.data).adam_step(p.data, p.grad, m, v, self.lr, b1, b2, self.eps,
                                              self.weight_decay, self.step_count)

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
