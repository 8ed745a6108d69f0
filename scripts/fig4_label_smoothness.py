#!/usr/bin/env python
"""The paper's Figure 4: how smooth the gold-standard labels are. Per target, over the chosen
partitions' recordings:

- the CCC between the labels and their rebuild from frames 0, f, 2f, ... only (not-a-knot
  cubic spline, f = 2 … 128), recordings concatenated;
- the fraction of label power below 1 Hz (per-recording mean removed, pooled);
- the autocorrelation half-time, the median of the recordings' own half-times;
- where the corpus has individual ratings (``ratings_individual``), one rater against the gold
  standard, as a CCC over the concatenated recordings and as a mean of per-recording CCCs.

    python scripts/fig4_label_smoothness.py --out runs/fig4                      # synthetic
    python scripts/fig4_label_smoothness.py --out runs/fig4r --data /path/RECOLA  # the real one

Writes OUT/fig4.json, OUT/fig4.csv (factor, CCC per target) and OUT/fig4.png, with RECOLA's
measured values (DESIGN.md) beside the corpus's own.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from tinyemo.data.synthetic import RECOLA_LABEL_STATS
from tinyemo.report import paper

FACTORS = [2 ** k for k in range(1, 8)]     # 2 … 128
DEFINITIONS = {
    "spline_rebuild_ccc": "CCC of the labels and their not-a-knot cubic-spline rebuild from "
                          "frames 0, f, 2f, ... (extrapolated past the last kept frame), "
                          "recordings concatenated",
    "power_below_1hz": "fraction of label power below 1 Hz, per-recording mean removed, pooled",
    "acf_halftime_s": "median over recordings of the first lag at which the recording's "
                      "autocorrelation (mean removed) falls to 0.5",
    "annotator_ccc_concatenated": "mean over annotators of CCC(annotator, gold standard), each "
                                  "over the concatenated recordings",
    "annotator_ccc_per_recording_mean": "mean over annotators and recordings of "
                                        "CCC(annotator, gold standard) per recording",
}


def statistics(gold: list[np.ndarray], factors: list[int],
               ratings: list[np.ndarray] | None = None) -> dict:
    """Power below 1 Hz, autocorrelation half-time, spline-rebuild CCC and (with ``ratings``,
    a list of (T_r, A)) rater agreement for one target."""
    # tinyemo.data.latents computes these for the synthetic corpus's metadata: reuse them
    from tinyemo.data.latents import (
        acf_halftime, annotator_agreement, low_power_fraction, spline_rebuild_ccc,
    )
    shortest = min(len(t) for t in gold)
    low = low_power_fraction(gold)
    out = {"power_below_1hz": low, "power_above_1hz": 1.0 - low,
           "acf_halftime_s": acf_halftime(gold),
           "acf_halftime_s_per_recording": [acf_halftime([t]) for t in gold],
           "frames": int(sum(len(t) for t in gold)), "recordings": len(gold),
           "spline_rebuild_ccc": {str(f): spline_rebuild_ccc(gold, f) for f in factors
                                  if shortest > 2 * f}}
    if ratings is not None:
        agreement = annotator_agreement(gold, ratings)
        out["annotator_ccc_concatenated"] = agreement["concatenated"]
        out["annotator_ccc_per_recording_mean"] = agreement["per_recording_mean"]
    return out


def individual_ratings(root: Path, recs, target: str) -> list[np.ndarray] | None:
    """Each recording's (T, A) individual ratings, trimmed to the gold standard's length, or
    None when the corpus has none for some recording."""
    from tinyemo.data import read_individual_ratings
    from tinyemo.data.avec2016 import INDIVIDUAL_DIR
    if not all((root / INDIVIDUAL_DIR / target / f"{r.id}.csv").is_file() for r in recs):
        return None
    out = []
    for r in recs:
        ratings = read_individual_ratings(root, r.id, target)[1].astype(np.float64)
        n = min(len(ratings), len(r.labels[target]))
        out.append(ratings[:n])
    return out


def cumulative_power(gold: list[np.ndarray], freqs: np.ndarray) -> np.ndarray:
    """Fraction of the (per-recording mean-removed, pooled) label power below each of ``freqs``."""
    from tinyemo.data.latents import low_power_fraction
    return np.array([low_power_fraction(gold, f) for f in freqs])


def plot(summary: dict, spectra: dict, out) -> None:
    plt = paper.pyplot()
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.3, 1]})
    name = summary["name"]
    for target, colour in zip(summary["targets"], ("tab:red", "tab:blue", "tab:green")):
        s = summary[target]
        cc = s["spline_rebuild_ccc"]
        fs = [int(f) for f in cc]
        ax.plot(fs, [cc[str(f)] for f in fs], marker="o", color=colour,
                label=f"{target}, {name} (ACF half-time {s['acf_halftime_s']:.1f} s)")
        ref = RECOLA_LABEL_STATS.get(target)
        if ref and name != "RECOLA":
            fr = {int(k): v for k, v in ref["spline_rebuild_ccc"].items()}
            ax.plot(list(fr), list(fr.values()), marker="x", ls="none", ms=10, mew=2,
                    color=colour, label=f"{target}, RECOLA (measured; ACF half-time "
                                        f"{ref['acf_halftime_s']:.1f} s)")
        freqs, cum = spectra[target]
        bx.plot(freqs, 100 * cum, color=colour,
                label=f"{target}, {name}: {100 * s['power_below_1hz']:.2f} % below 1 Hz")
    ax.axhline(0.95, color="grey", ls=":", lw=1)
    ax.set_xscale("log", base=2)
    ax.set_xticks(FACTORS, [str(f) for f in FACTORS])
    ax.set_xlabel("down-sampling factor f (labels kept every f frames = every 0.04·f s)")
    ax.set_ylabel("CCC, spline rebuild vs original (concatenated)")
    ax.set_title("(a) labels rebuilt from every f-th frame", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    bx.axvline(1.0, color="grey", ls=":", lw=1)
    bx.axhline(100 * RECOLA_LABEL_STATS["arousal"]["power_below_1hz"], color="k", ls="--", lw=1,
               label="RECOLA (measured): > 99.8 % below 1 Hz")
    bx.axhline(95, color="grey", ls=":", lw=1, label="paper's claim: > 95 % below 1 Hz")
    bx.set_xscale("log")
    bx.set_ylim(80, 100.5)
    bx.set_xlabel("frequency (Hz)")
    bx.set_ylabel("% of label power below frequency")
    bx.set_title("(b) cumulative label power spectrum", fontsize=10)
    bx.grid(alpha=0.3, which="both")
    bx.legend(fontsize=7, loc="lower right")
    preset = summary["setting"].get("preset") if "data" not in summary["setting"] else None
    fig.suptitle(f"Figure 4, label smoothness: {name} gold standard"
                 + (f" ('{preset}' preset)" if preset else "")
                 + f", {' + '.join(summary['partitions'])}, "
                 f"{summary[summary['targets'][0]]['recordings']} recordings", fontsize=11)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    p = paper.parser("Figure 4: label power below 1 Hz and spline-rebuild CCC vs down-sampling.",
                      training=False)
    p.add_argument("--partitions", nargs="+", default=["train", "dev"],
                   help="partitions pooled (default train dev, as measured on RECOLA)")
    p.add_argument("--factors", type=int, nargs="+", default=FACTORS)
    p.add_argument("--name", help="the corpus's name in the plot (default: 'synthetic', or the "
                                  "--data folder's name)")
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
    name = args.name or (Path(args.data).name if args.data else "synthetic")
    summary = {"source": str(root), "name": name, "partitions": args.partitions,
               "targets": targets, "setting": paper.setting(args), "definitions": DEFINITIONS,
               "recola_measured": RECOLA_LABEL_STATS}
    spectra = {}
    freqs = np.geomspace(0.01, 12.5, 200)
    for t in targets:
        gold = [r.labels[t].astype(np.float64) for r in recs]
        summary[t] = statistics(gold, args.factors, individual_ratings(Path(root), recs, t))
        spectra[t] = (freqs, cumulative_power(gold, freqs))
    summary["seconds"] = round(time.perf_counter() - start, 2)
    paper.write_json(args.out / "fig4.json", summary)
    factors = [f for f in args.factors if all(str(f) in summary[t]["spline_rebuild_ccc"]
                                              for t in targets)]
    paper.write_csv(args.out / "fig4.csv", ["factor"] + [f"{t}_ccc" for t in targets],
                     [[f] + [summary[t]["spline_rebuild_ccc"][str(f)] for t in targets]
                      for f in factors])
    plot(summary, spectra, args.out / "fig4.png")
    for t in targets:
        s = summary[t]
        print(f"{t}: {100 * s['power_below_1hz']:.2f} % of power below 1 Hz; spline-rebuild CCC "
              "(concatenated) " + ", ".join(f"f={f}: {v:.3f}" for f, v in s["spline_rebuild_ccc"].items())
              + f"; ACF half-time {s['acf_halftime_s']:.2f} s (median of recordings)")
        if "annotator_ccc_concatenated" in s:
            print(f"{'':{len(t) + 2}s}one rater vs gold CCC {s['annotator_ccc_concatenated']:.3f} "
                  f"(recordings concatenated), {s['annotator_ccc_per_recording_mean']:.3f} "
                  "(mean of per-recording CCCs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
