#!/usr/bin/env python
"""The paper's Figure 1: dev CCC of the single-filter model (one conv filter of L frames →
tanh → linear regression) against its receptive field L = 2, 4, …, 2048, mean ± std over runs.

    python scripts/fig1_receptive_field.py --out runs/fig1            # quick corpus, 3 runs
    python scripts/fig1_receptive_field.py --out /tmp/f1 --quick      # seconds, a few L

Writes OUT/fig1.json ({lengths, setting, <target>: {mean, std, runs, ensemble}}), OUT/fig1.csv,
OUT/fig1.png and one experiment folder per L under OUT/runs/ (rerunning reuses them).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from tinyemo.report import paper
from tinyemo.report.paper import TARGETS

PAPER_LENGTHS = [2 ** k for k in range(1, 12)]      # 2 … 2048 frames (80 ms … 82 s)
QUICK_LENGTHS = [2, 8, 32]


def corpus_name(setting: dict) -> str:
    """How plots name the corpus: the --data folder's name, or the synthetic preset."""
    data = setting.get("data")
    return Path(data).name if data else f"synthetic corpus ('{setting['preset']}' preset)"


def plot(summary: dict, out) -> None:
    plt = paper.pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.2))
    lengths = summary["lengths"]
    source = "synthetic" if not summary["setting"].get("data") else Path(summary["setting"]["data"]).name
    for target, colour in zip(TARGETS, ("tab:red", "tab:blue")):
        m, s = np.array(summary[target]["mean"]), np.array(summary[target]["std"])
        best = summary[target]["best_length"]
        ax.errorbar(lengths, m, yerr=s, marker="o", capsize=3, color=colour,
                    label=f"{target}, {source} (best L = {best})")
    ax.axvline(512, color="grey", ls="--", lw=1, label="paper's best L ≈ 512 (RECOLA)")
    ax.set_xscale("log", base=2)
    ax.set_xticks(lengths, [str(n) for n in lengths], fontsize=8)
    ax.set_xlabel("filter length L (frames of 40 ms; 512 = 20.5 s)")
    ax.set_ylabel("dev CCC, mean ± std over runs")
    ax.set_title(f"Figure 1, receptive field of the single-filter model: "
                 f"{corpus_name(summary['setting'])}, {summary['setting']['runs']} run(s) per L",
                 fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    p = paper.parser("Figure 1: dev CCC of the single-filter model against its length L.")
    p.add_argument("--lengths", type=int, nargs="+",
                   help="filter lengths (default 2 4 … 2048; --quick: 2 8 32)")
    args = paper.settle(p.parse_args(argv))
    lengths = args.lengths or (QUICK_LENGTHS if args.quick else PAPER_LENGTHS)
    if min(lengths) < 1:
        raise SystemExit("--lengths must be >= 1")
    start = time.perf_counter()
    examples, data_info = paper.load_examples(args)
    summary = {"lengths": lengths, "setting": paper.setting(args),
               **{t: {"mean": [], "std": [], "runs": [], "ensemble": []} for t in TARGETS}}
    seconds = []
    for n in lengths:
        results, sec = paper.train(examples, data_info, args, "single", args.out / "runs" / f"L{n}",
                                    overrides={"filter_length": n}, label=f"L = {n:4d}")
        seconds.append(round(sec, 1))
        for t in TARGETS:
            runs = paper.run_dev_ccc(results, t)
            summary[t]["runs"].append(runs)
            summary[t]["mean"].append(float(np.mean(runs)))
            summary[t]["std"].append(float(np.std(runs)))
            summary[t]["ensemble"].append(results[t]["dev"]["ccc"])
    for t in TARGETS:
        best = int(np.argmax(summary[t]["mean"]))
        summary[t]["best_length"] = lengths[best]
    summary["train_seconds"] = seconds
    summary["seconds"] = round(time.perf_counter() - start, 1)
    paper.write_json(args.out / "fig1.json", summary)
    header = ["L", "seconds_L"] + [f"{t}_{k}" for t in TARGETS for k in ("mean", "std", "ensemble")]
    rows = [[n, float(seconds[i])] + [summary[t][k][i] for t in TARGETS
                                      for k in ("mean", "std", "ensemble")]
            for i, n in enumerate(lengths)]
    paper.write_csv(args.out / "fig1.csv", header, rows)
    plot(summary, args.out / "fig1.png")
    print(f"best L: arousal {summary['arousal']['best_length']}, valence "
          f"{summary['valence']['best_length']}; {summary['seconds']:.0f} s; see {args.out}/fig1.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
