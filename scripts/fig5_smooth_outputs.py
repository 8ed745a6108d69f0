#!/usr/bin/env python
"""The paper's Figure 5: dilated against down/up outputs on the same stretch of a dev
recording, with the gold standard, plus numbers for smoothness over the whole dev partition:

- ``power_above_1hz``: fraction of the (per-recording mean-removed) power above 1 Hz;
- ``mean_abs_change``: mean |y[t+1] − y[t]| (label units per 40 ms frame), and the same divided
  by the track's standard deviation (``mean_abs_change_rel``: comparable across scales).

    python scripts/fig5_smooth_outputs.py --out runs/fig5 --dilated runs/tables/dilated \\
        --downup runs/tables/downup                       # two trained experiment folders
    python scripts/fig5_smooth_outputs.py --out /tmp/f5 --quick   # trains both (tiny corpus)

Without --dilated/--downup the models are trained into OUT/dilated and OUT/downup (reused on
a rerun). Writes OUT/fig5.json, OUT/fig5.csv (the plotted stretch) and OUT/fig5.png.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from tinyemo.report import paper

FRAME_S = 0.04
MODELS = ("dilated", "downup")


def smoothness(tracks: list[np.ndarray]) -> dict:
    """Smoothness of a list of (T,) tracks (one per recording), pooled."""
    from tinyemo.data.latents import low_power_fraction
    diffs = np.concatenate([np.abs(np.diff(t)) for t in tracks])
    std = float(np.concatenate(tracks).std())
    return {"power_above_1hz": 1.0 - low_power_fraction(tracks),
            "mean_abs_change": float(diffs.mean()),
            "mean_abs_change_rel": float(diffs.mean() / std) if std > 0 else 0.0, "std": std}


def corpus_label(folder: Path) -> str:
    """The corpus an experiment folder was trained on, as plots name it: the synthetic preset
    for a cached synthetic corpus, else the corpus folder's name."""
    import json
    import re
    try:
        root = Path(json.loads((Path(folder) / "config.json").read_text())["data"]["root"])
    except (OSError, ValueError, KeyError, TypeError):
        return "corpus unknown"
    found = re.fullmatch(r"(\w+)-seed(\d+)(-[0-9a-f]+)?", root.name)
    if root.parent.name == "corpora" and found:
        return f"synthetic corpus ('{found[1]}' preset, seed {found[2]})"
    return root.name


def main(argv=None) -> int:
    p = paper.parser("Figure 5: dilated vs down/up outputs, and how smooth they are.")
    for m in MODELS:
        p.add_argument(f"--{m}", type=Path, help=f"a trained {m} experiment folder")
    p.add_argument("--recording", help="dev recording to plot (default: the first)")
    p.add_argument("--start", type=float, default=0.0, help="seconds")
    p.add_argument("--duration", type=float, default=60.0, help="seconds")
    args = paper.settle(p.parse_args(argv))
    start = time.perf_counter()
    folders = {m: getattr(args, m) for m in MODELS}
    if any(f is None for f in folders.values()):
        examples, data_info = paper.load_examples(args)
        for m in MODELS:
            if folders[m] is None:
                folders[m] = args.out / m
                paper.train(examples, data_info, args, m, folders[m])
    tables = {m: paper.read_predictions(folders[m], "dev") for m in MODELS}
    ids = [i for i in tables["dilated"] if i in tables["downup"]]
    targets = [t for t in paper.TARGETS
               if all(t in tables[m][i] and f"{t}_gold" in tables[m][i] for m in MODELS for i in ids)]
    if not ids or not targets:
        raise SystemExit("the two folders share no labelled dev recordings")
    summary = {"folders": {m: str(f) for m, f in folders.items()}, "recordings": ids,
               "setting": paper.setting(args), "smoothness": {}, "dev_ccc": {}}
    from tinyemo.util.metrics import ccc
    for t in targets:
        gold = [tables["dilated"][i][f"{t}_gold"] for i in ids]
        summary["smoothness"][t] = {"gold": smoothness(gold)}
        summary["dev_ccc"][t] = {}
        for m in MODELS:
            pred = [tables[m][i][t] for i in ids]
            summary["smoothness"][t][m] = smoothness(pred)
            summary["dev_ccc"][t][m] = ccc(np.concatenate(pred), np.concatenate(gold))
    rid = args.recording or ids[0]
    if rid not in ids:
        raise SystemExit(f"no dev recording {rid!r}; have {ids}")
    time_s = tables["dilated"][rid]["time"]
    keep = (time_s >= args.start) & (time_s < args.start + args.duration)
    if not keep.any():
        raise SystemExit(f"{rid}: no frames between {args.start} s and {args.start + args.duration} s")
    gold = {t: tables["dilated"][rid][f"{t}_gold"][keep] for t in targets}
    preds = {m: {t: tables[m][rid][t][keep] for t in targets} for m in MODELS}
    summary["plotted"] = {"recording": rid, "start_s": float(time_s[keep][0]),
                          "end_s": float(time_s[keep][-1])}
    summary["seconds"] = round(time.perf_counter() - start, 1)
    paper.write_json(args.out / "fig5.json", summary)
    header = ["time"] + [f"{t}_{k}" for t in targets for k in ("gold",) + MODELS]
    cols = [time_s[keep]] + [gold[t] if k == "gold" else preds[k][t]
                             for t in targets for k in ("gold",) + MODELS]
    paper.write_csv(args.out / "fig5.csv", header,
                     [[float(v) for v in row] for row in zip(*cols)])
    from tinyemo.report.plot import plot_tracks
    names = {m: f"{label} (dev CCC " + " / ".join(f"{summary['dev_ccc'][t][m]:.2f}" for t in targets)
                + f", {' / '.join(targets)})" for m, label in (("dilated", "dilated"), ("downup", "down/up"))}
    plot_tracks(time_s[keep], gold, {names[m]: preds[m] for m in MODELS}, args.out / "fig5.png",
                title=f"Figure 5, output smoothness: {corpus_label(folders['dilated'])}, {rid} (dev), "
                      f"{summary['plotted']['start_s']:.0f}–{summary['plotted']['end_s']:.0f} s")
    for t in targets:
        s = summary["smoothness"][t]
        who = ("gold",) + MODELS
        print(f"{t}: power above 1 Hz  " + "  ".join(f"{w} {s[w]['power_above_1hz']:.4f}" for w in who)
              + ";  mean |Δ|/std  " + "  ".join(f"{w} {s[w]['mean_abs_change_rel']:.4f}" for w in who))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
