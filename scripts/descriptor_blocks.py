"""Can openSMILE's eGeMAPS descriptors of a long recording be computed block by block?

Two ways against the whole-signal rows (``frontend.descriptors.descriptors``):

- recomputation: blocks of B frames, each computed from its samples plus C frames of context
  on each side, only its own rows kept (``--blocks B --contexts C …``);
- openSMILE's own streaming engine (``frontend.descriptor_stream.DescriptorStream``) fed 1 s
  pieces.

On two signals: real speech (the three clips of tests/testdata/speech tiled to 3 minutes, a
little noise so that the tiles differ) and a voice that never stops (60 s of glottal pulses
at a wandering F0 with period jitter through three formants). Prints, per C, how many rows
differ and in which descriptors, with the largest difference and the descriptor's spread.

    python scripts/descriptor_blocks.py --signal speech --blocks 3000 --contexts 5 50 100
    python scripts/descriptor_blocks.py --signal voiced --blocks 1000 --contexts 100 250 1000
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from tinyemo.frontend.descriptor_stream import DescriptorStream
from tinyemo.frontend.descriptors import descriptors

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # the tests' signals
from tests.helpers.signals import RATE, tiled_speech, voiced

HOP, LONGEST = 160, 960     # 10 ms hop, openSMILE's 60 ms frames
NAMES = ("Loudness alphaRatio hammarberg slope0-500 slope500-1500 flux mfcc1 mfcc2 mfcc3 mfcc4 "
         "F0 jitter shimmer HNR H1-H2 H1-A3 F1 F1bw F1amp F2 F2bw F2amp F3 F3bw F3amp").split()


def recomputed(x: np.ndarray, rows: int, block: int, context: int) -> np.ndarray:
    out = []
    for b0 in range(0, rows, block):
        b1 = min(b0 + block, rows)
        f0, f1 = max(0, b0 - context), min(rows, b1 + context)
        out.append(descriptors(x[f0 * HOP:(f1 - 1) * HOP + LONGEST], RATE)[b0 - f0:b1 - f0])
    return np.concatenate(out)


def report(label: str, got: np.ndarray, whole: np.ndarray) -> None:
    d = np.abs(got - whole)
    cols = np.nonzero(d.max(axis=0))[0]
    detail = ", ".join(f"{NAMES[c]} max {d[:, c].max():.3g} (spread {whole[:, c].std():.3g})"
                       for c in cols)
    print(f"{label}: {(d.max(axis=1) > 0).sum()} of {len(whole)} rows differ"
          + (f": {detail}" if detail else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--signal", choices=("speech", "voiced"), default="speech")
    ap.add_argument("--seconds", type=float, default=None, help="180 (speech), 60 (voiced)")
    ap.add_argument("--blocks", type=int, default=3000, help="rows per block")
    ap.add_argument("--contexts", type=int, nargs="+", default=[5, 50, 100])
    args = ap.parse_args()
    seconds = args.seconds or (180.0 if args.signal == "speech" else 60.0)
    x = (tiled_speech if args.signal == "speech" else voiced)(seconds)
    start = time.perf_counter()
    whole = descriptors(x, RATE)
    print(f"{args.signal}, {seconds:g} s: whole signal {time.perf_counter() - start:.1f} s, "
          f"{len(whole)} rows, voiced {np.mean(whole[:, 10] > 0):.0%}")
    for context in args.contexts:
        report(f"blocks of {args.blocks} rows, context {context} rows each side",
               recomputed(x, len(whole), args.blocks, context), whole)
    start = time.perf_counter()
    stream = DescriptorStream(RATE)
    rows = [stream.push(x[i:i + RATE]) for i in range(0, x.size, RATE)]
    got = np.concatenate(rows + [stream.finish()])
    report(f"DescriptorStream, 1 s pieces ({time.perf_counter() - start:.1f} s)", got, whole)


if __name__ == "__main__":
    main()
