"""The down/up net's grid padding folded into its first conv (``DownUp.forward``) against the
padded copy of the input it replaced (``pad1d`` of the (160, T) input, the net, the crop), one
training step (forward, backward of 1 − CCC) and one prediction per recording, interleaved.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_downup_pad.py
    python bench/bench_downup_pad.py --frames 7500 --threads 1 --rounds 3

T = 7500 (5 min) is not a multiple of the grid (3^4 = 81), so both paths pad 33 frames. The
load average is printed beside the figures: on a shared machine, compare within a run only.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import threads, time_interleaved  # noqa: E402

from tinyemo import Tensor, no_grad  # noqa: E402
from tinyemo.engine import functional as F  # noqa: E402
from tinyemo.models.config import ModelConfig  # noqa: E402
from tinyemo.models.nets import build_model  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=7500)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    model = build_model(ModelConfig.for_arch("downup", "arousal", width=args.width), seed=0)
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((160, args.frames)).astype(np.float32))
    y = Tensor(rng.standard_normal(args.frames).astype(np.float32))
    t = args.frames
    extra = -t % model.multiple

    def padded_copy(v):                       # the former DownUp.forward
        return F.pad1d(model.net(F.pad1d(v, 0, extra)), 0, -extra) if extra else model.net(v)

    def step(forward):
        def run():
            model.zero_grad()
            F.ccc_loss(forward(x), y).backward()
        return run

    def predict(forward):
        def run():
            with no_grad():
                forward(x)
        return run

    with no_grad():
        diff = float(np.abs(model(x).numpy() - padded_copy(x).numpy()).max())
    print(f"down/up width {args.width}, T = {t} (+{extra} grid frames); max |difference| {diff:g}")
    for n in args.threads:
        with threads(n):
            r = time_interleaved({"step, padded copy": step(padded_copy), "step, folded": step(model),
                                  "predict, padded copy": predict(padded_copy),
                                  "predict, folded": predict(model)}, rounds=args.rounds, calls=5)
        load = os.getloadavg()[0]
        for name, v in r.items():
            print(f"{n} thread(s) | {name}: {v['median'] * 1e3:.2f} ms (load {load:.2f})")


if __name__ == "__main__":
    main()
