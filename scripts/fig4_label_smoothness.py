#!/usr/bin/env python
"""The paper's Figure 4: how smooth the gold-standard labels are. The fraction of label power
below 1 Hz, and the CCC between the labels and their cubic-spline rebuild from every f-th
frame (f = 2 … 128), per target, over the chosen partitions' recordings concatenated.

    python scripts/fig4_label_smoothness.py --out runs/fig4                      # synthetic
    python scripts/fig4_label_smoothness.py --out runs/fig4r --data /path/RECOLA  # the real one

Writes OUT/fig4.json, OUT/fig4.csv (factor, CCC per target) and OUT/fig4.png, with RECOLA's
measured values (DESIGN.md) beside ours.
"""
from __future__ import annotations

import time

import numpy as np

from tinyemo import paper

FACTORS = [2 ** k for k in range(1, 8)]     # 2 … 128
# RECOLA's real gold standard, train + dev concatenated (measured; DESIGN.md)
RECOLA = {"spline_rebuild_ccc": {"arousal": {64: 0.982, 128: 0.936},
                                 "valence": {64: 0.986, 128: 0.937}},
          "power_below_1hz": 0.998, "acf_halftime_s": [4.5, 5.0]}


def statistics(gold: list[np.ndarray], factors: list[int]) -> dict:
    """Power below 1 Hz, autocorrelation half-time and spline-rebuild CCC for one target."""
    # tinyemo.data.latents computes these for the synthetic corpus's metadata: reuse them
    from tinyemo.data.latents import acf_halftime, low_power_fraction, spline_rebuild_ccc
    shortest = min(len(t) for t in gold)
    return {"power_below_1hz": low_power_fraction(gold),
            "power_above_1hz": 1.0 - low_power_fraction(gold),
            "acf_halftime_s": acf_halftime(gold),
            "frames": int(sum(len(t) for t in gold)), "recordings": len(gold),
            "spline_rebuild_ccc": {str(f): spline_rebuild_ccc(gold, f) for f in factors
                                   if shortest > 2 * f}}


def plot(summary: dict, out) -> None:
    plt = paper.pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for target, colour in zip(summary["targets"], ("tab:red", "tab:blue", "tab:green")):
        cc = summary[target]["spline_rebuild_ccc"]
        fs = [int(f) for f in cc]
        ax.plot(fs, [cc[str(f)] for f in fs], marker="o", color=colour,
                label=f"{target} (ours; {100 * summary[target]['power_below_1hz']:.2f} % power < 1 Hz)")
        ref = RECOLA["spline_rebuild_ccc"].get(target)
        if ref:
            ax.plot(list(ref), list(ref.values()), marker="x", ls="none", ms=9, color=colour,
                    label=f"{target}, RECOLA (measured)")
    ax.axhline(0.95, color="grey", ls=":", lw=1)
    ax.set_xscale("log", base=2)
    ax.set_xticks(FACTORS, [str(f) for f in FACTORS])
    ax.set_xlabel("down-sampling factor f (labels kept every f frames, cubic-spline rebuild)")
    ax.set_ylabel("CCC rebuilt vs original")
    ax.set_title(f"label smoothness: {summary['source']} ({', '.join(summary['partitions'])})",
                 fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    p = paper.parser("Figure 4: label power below 1 Hz and spline-rebuild CCC vs down-sampling.",
                      training=False)
    p.add_argument("--partitions", nargs="+", default=["train", "dev"],
                   help="partitions pooled (default train dev, as measured on RECOLA)")
    p.add_argument("--factors", type=int, nargs="+", default=FACTORS)
    args = paper.settle(p.parse_args(argv))
    if min(args.factors) < 2:
        raise SystemExit("--factors must be >= 2")
    start = time.perf_counter()
    from tinyemo.data import load_corpus
    root = paper.corpus_path(args)
    corpus = load_corpus(root)
    recs = [r for r in corpus if r.partition in args.partitions and r.labelled]
    if not recs:
        raise SystemExit(f"{root}: no labelled recordings in partitions {args.partitions}")
    targets = [t for t in corpus.targets if all(t in r.labels for r in recs)]
    summary = {"source": str(root), "partitions": args.partitions, "targets": targets,
               "setting": paper.setting(args), "recola_measured": RECOLA}
    for t in targets:
        summary[t] = statistics([r.labels[t].astype(np.float64) for r in recs], args.factors)
    summary["seconds"] = round(time.perf_counter() - start, 2)
    paper.write_json(args.out / "fig4.json", summary)
    factors = [f for f in args.factors if all(str(f) in summary[t]["spline_rebuild_ccc"]
                                              for t in targets)]
    paper.write_csv(args.out / "fig4.csv", ["factor"] + [f"{t}_ccc" for t in targets],
                     [[f] + [summary[t]["spline_rebuild_ccc"][str(f)] for t in targets]
                      for f in factors])
    plot(summary, args.out / "fig4.png")
    for t in targets:
        cc = summary[t]["spline_rebuild_ccc"]
        print(f"{t}: {100 * summary[t]['power_below_1hz']:.2f} % of power below 1 Hz; rebuild CCC "
              + ", ".join(f"f={f}: {v:.3f}" for f, v in cc.items())
              + f"; ACF half-time {summary[t]['acf_halftime_s']:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
