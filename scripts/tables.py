#!/usr/bin/env python
"""The paper's Tables 1 and 2: dev and test RMSE and CCC for arousal and valence of the
single-filter, dilated and down/up models, the BLSTM reference model and a frame-wise floor
with no context, the runs' predictions averaged, each with and without AVEC 2016
post-processing chosen on dev.

The no-context floor ("framewise") is the ``dilated`` architecture with depth 1 and kernel 1:
a 160 → 32 frame-wise linear map, ReLU, 1×1 conv, i.e. a per-frame MLP (receptive field 1).

The literature's baselines are rows too (``tinyemo baseline``, tinyemo/baselines): "avec2016"
(eGeMAPS + linear SVR with the AVEC post-processing built in, so its "without
post-processing" row is the challenge's system as published; needs tinyemo[baselines], skipped
with a note without it) and "windowed" (log-mel window statistics + ridge), settings chosen on
dev; ``--quick`` gives them small grids.

    python scripts/tables.py --out runs/tables           # quick corpus, 3 runs, ≤ 40 epochs
    python scripts/tables.py --out /tmp/t --quick        # seconds
    python scripts/tables.py --out runs/t-lld --features fbank+lld --models dilated downup blstm

Writes OUT/tables.md, OUT/tables.json and OUT/tables.png, and one experiment folder per model
(OUT/<model>/: predictions, results.json; rerunning reuses finished runs), which
fig5_smooth_outputs.py can read.
"""
from __future__ import annotations

import json
import time

import numpy as np

from tinyemo.frontend.descriptors import FEATURES
from tinyemo.report import paper
from tinyemo.report.paper import TARGETS

PAPER_DEV_CCC = {"dilated": (0.857, 0.538), "downup": (0.867, 0.592), "BLSTM": (0.853, 0.518)}
BASELINES = ("avec2016", "windowed")
LITERATURE_DEV_CCC = {"AVEC 2016 baseline (eGeMAPS + SVR)": (0.796, 0.455),
                      "Povolny et al. (windowed statistics)": (0.832, 0.489)}
"""Dev CCC arousal / valence on RECOLA the paper quotes for the systems it beats."""


def models(filter_length: int) -> dict:
    """name → (arch, overrides)."""
    return {"framewise": ("dilated", {"depth": 1, "kernel_size": 1}),
            f"single-L{filter_length}": ("single", {"filter_length": filter_length}),
            "dilated": ("dilated", {}),
            "downup": ("downup", {}),
            "blstm": ("blstm", {})}


def fit_baseline(kind: str, args, folder) -> tuple[dict | None, float]:
    """Fit (or reuse when finished) one baseline folder: (results, seconds); (None, 0) with a
    note when its optional dependencies are missing."""
    from tinyemo.baselines import baseline_module, train_baseline
    from tinyemo.data import load_corpus
    module = baseline_module(kind)
    try:
        module.check(training=True)
    except RuntimeError as exc:
        print(f"{kind}: skipped ({exc})", flush=True)
        return None, 0.0
    start = time.perf_counter()
    if (folder / "config.json").exists():
        results = json.loads((folder / "results.json").read_text())
    else:
        small = {"avec2016": {"windows_s": (2.0, 4.0), "complexities": (1e-4, 1e-3)},
                 "windowed": {"windows_s": (1.0, 5.0), "alphas": (1e-3, 1e-1)}}[kind]
        config = module.Config(**small) if args.quick else module.Config()
        source = paper.corpus_path(args)
        results = train_baseline(kind, load_corpus(source), folder, config=config,
                                 targets=TARGETS, source=source, say=lambda s: None)
    seconds = time.perf_counter() - start
    dev = "  ".join(f"{t} dev CCC {results[t]['dev']['ccc']:.3f}" for t in TARGETS)
    print(f"{kind}: {dev}  ({seconds:.0f} s)", flush=True)
    return results, seconds


def postprocessed(folder, targets) -> tuple[dict, dict]:
    """Scores after post-processing fitted on dev and applied to dev and test: (results, chosen)."""
    from tinyemo.baselines.postprocess import fit_postprocess
    from tinyemo.util.metrics import score
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
    from tinyemo.runs.tables import results_table
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
    lines += ["Literature baselines the paper quotes (RECOLA, dev CCC arousal / valence): "
              + ", ".join(f"{k} {a:.3f} / {v:.3f}" for k, (a, v) in LITERATURE_DEV_CCC.items())
              + ". The avec2016 row here already includes its own AVEC post-processing.", ""]
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
                   help="a subset of framewise single-L<L> dilated downup blstm avec2016 windowed")
    p.add_argument("--features", choices=FEATURES, default="fbank",
                   help="the nets' inputs (tinyemo train --features; the baselines keep theirs)")
    args = paper.settle(p.parse_args(argv))
    length = args.filter_length or (16 if args.quick else 512)
    todo = models(length)
    baselines = BASELINES
    if args.models:
        unknown = sorted(set(args.models) - set(todo) - set(BASELINES))
        if unknown:
            raise SystemExit(f"unknown model(s) {unknown}; choose from "
                             f"{list(todo) + list(BASELINES)}")
        todo = {k: v for k, v in todo.items() if k in args.models}
        baselines = tuple(k for k in BASELINES if k in args.models)
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
    for kind in baselines:
        results, sec = fit_baseline(kind, args, args.out / kind)
        if results is not None:
            raw[kind], seconds[kind] = results, round(sec, 1)
            post[kind], chosen[kind] = postprocessed(args.out / kind, TARGETS)
    setting = paper.setting(args)
    summary = {"setting": setting, "models": {**{n: {"arch": a, "overrides": o}
                                                 for n, (a, o) in todo.items()},
                                              **{k: {"baseline": k} for k in baselines
                                                 if k in raw}},
               "raw": {n: {t: {k: v for k, v in r[t].items() if k != "runs"} for t in TARGETS}
                       for n, r in raw.items()},
               "postprocessed": post, "postprocess": chosen, "run_dev_ccc": run_ccc,
               "paper_dev_ccc": PAPER_DEV_CCC, "literature_dev_ccc": LITERATURE_DEV_CCC,
               "train_seconds": seconds,
               "seconds": round(time.perf_counter() - start, 1)}
    paper.write_json(args.out / "tables.json", summary)
    text = markdown(summary["raw"], post, chosen, run_ccc, setting)
    from tinyemo.util.fileio import write_text
    write_text(args.out / "tables.md", text)
    plot(summary["raw"], post, args.out / "tables.png")
    print(text)
    print(f"{summary['seconds']:.0f} s; see {args.out}/tables.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
