#!/usr/bin/env python
"""The paper's Tables 1 and 2: dev and test RMSE and CCC for arousal and valence of the
single-filter, dilated and down/up models, the BLSTM reference model and a frame-wise floor
with no context, the runs' predictions averaged, each with and without AVEC 2016
post-processing chosen on dev.

The no-context floor ("framewise") is the ``dilated`` architecture with depth 1 and kernel 1:
a 160 → 32 frame-wise linear map, ReLU, 1×1 conv, i.e. a per-frame MLP (receptive field 1).

    python scripts/tables.py --out runs/tables           # quick corpus, 3 runs, ≤ 40 epochs
    python scripts/tables.py --out /tmp/t --quick        # seconds

Writes OUT/tables.md, OUT/tables.json and OUT/tables.png, and one experiment folder per model
(OUT/<model>/: predictions, results.json; rerunning reuses finished runs), which
fig5_smooth_outputs.py can read.
"""
from __future__ import annotations

import time

import numpy as np

from tinyemo import paper
from tinyemo.paper import TARGETS

PAPER_DEV_CCC = {"dilated": (0.857, 0.538), "downup": (0.867, 0.592), "BLSTM": (0.853, 0.518)}


def models(filter_length: int) -> dict:
    """name → (arch, overrides)."""
    return {"framewise": ("dilated", {"depth": 1, "kernel_size": 1}),
            f"single-L{filter_length}": ("single", {"filter_length": filter_length}),
            "dilated": ("dilated", {}),
            "downup": ("downup", {}),
            "blstm": ("blstm", {})}


def postprocessed(folder, targets) -> tuple[dict, dict]:
    """Scores after post-processing fitted on dev and applied to dev and test: (results, chosen)."""
    from tinyemo.metrics import score
    from tinyemo.postprocess import fit_postprocess
    parts = {p: paper.read_predictions(folder, p) for p in ("dev", "test")}
    results, chosen = {}, {}
    for t in targets:
        dev_pred, dev_gold = paper.tracks(parts["dev"], t)
        pp = fit_postprocess(dev_pred, dev_gold)
        chosen[t] = {"steps": pp.steps, **pp.to_dict()}
        results[t] = {}
        for part, table in parts.items():
            pred, gold = paper.tracks(table, t)
            if gold:
                results[t][part] = score(pp.apply(pred), gold)
    return results, chosen


def markdown(raw: dict, post: dict, chosen: dict, run_ccc: dict, setting: dict) -> str:
    from tinyemo.experiment import results_table
    lines = [f"Setting: {setting}", "", "## Without post-processing (predictions of the runs "
             "averaged)", "", results_table(raw),
             "## With AVEC 2016 post-processing (chosen on dev: dev numbers are optimistic)", "",
             results_table(post), "## Post-processing steps kept", "",
             "| model | arousal | valence |", "|---|---|---|"]
    for name, by_t in chosen.items():
        lines.append(f"| {name} | " + " | ".join(", ".join(by_t[t]["steps"]) or "none"
                                                 for t in TARGETS if t in by_t) + " |")
    lines += ["", "## Dev CCC of single runs (mean ± std over seeds)", "",
              "| model | arousal | valence |", "|---|---|---|"]
    for name, by_t in run_ccc.items():
        lines.append(f"| {name} | " + " | ".join(f"{np.mean(v):.3f} ± {np.std(v):.3f}"
                                                 for v in by_t.values()) + " |")
    lines += ["", "Paper (RECOLA, dev CCC arousal / valence): " + ", ".join(
        f"{k} {a:.3f} / {v:.3f}" for k, (a, v) in PAPER_DEV_CCC.items()), ""]
    return "\n".join(lines)


def plot(raw: dict, post: dict, out) -> None:
    plt = paper.pyplot()
    names = list(raw)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    x = np.arange(len(names))
    for ax, t in zip(axes, TARGETS):
        for k, (label, res, part) in enumerate([("dev", raw, "dev"), ("test", raw, "test"),
                                                ("test, post-processed", post, "test")]):
            vals = [res[n][t][part]["ccc"] if part in res[n][t] else np.nan for n in names]
            ax.bar(x + (k - 1) * 0.27, vals, width=0.27, label=label)
        ax.set_xticks(x, names, fontsize=8)
        ax.set_title(t)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("CCC (runs averaged)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    p = paper.parser("Tables 1 and 2: RMSE and CCC of each model, with and without "
                      "post-processing.")
    p.add_argument("--filter-length", type=int, help="single-filter L (default 512; --quick: 16)")
    p.add_argument("--models", nargs="+",
                   help="a subset of framewise single-L<L> dilated downup blstm")
    args = paper.settle(p.parse_args(argv))
    length = args.filter_length or (16 if args.quick else 512)
    todo = models(length)
    if args.models:
        unknown = sorted(set(args.models) - set(todo))
        if unknown:
            raise SystemExit(f"unknown model(s) {unknown}; choose from {list(todo)}")
        todo = {k: v for k, v in todo.items() if k in args.models}
    start = time.perf_counter()
    examples, data_info = paper.load_examples(args)
    raw, post, chosen, run_ccc, seconds = {}, {}, {}, {}, {}
    for name, (arch, overrides) in todo.items():
        folder = args.out / name
        raw[name], sec = paper.train(examples, data_info, args, arch, folder,
                                      overrides=overrides, label=name)
        seconds[name] = round(sec, 1)
        post[name], chosen[name] = postprocessed(folder, TARGETS)
        run_ccc[name] = {t: paper.run_dev_ccc(raw[name], t) for t in TARGETS}
    setting = paper.setting(args)
    summary = {"setting": setting, "models": {n: {"arch": a, "overrides": o}
                                              for n, (a, o) in todo.items()},
               "raw": {n: {t: {k: v for k, v in r[t].items() if k != "runs"} for t in TARGETS}
                       for n, r in raw.items()},
               "postprocessed": post, "postprocess": chosen, "run_dev_ccc": run_ccc,
               "paper_dev_ccc": PAPER_DEV_CCC, "train_seconds": seconds,
               "seconds": round(time.perf_counter() - start, 1)}
    paper.write_json(args.out / "tables.json", summary)
    text = markdown(summary["raw"], post, chosen, run_ccc, setting)
    from tinyemo.fileio import write_text
    write_text(args.out / "tables.md", text)
    plot(summary["raw"], post, args.out / "tables.png")
    print(text)
    print(f"{summary['seconds']:.0f} s; see {args.out}/tables.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
