"""Write tinyemo's synthetic speech-emotion corpus in the AVEC 2016 layout.

    python scripts/make_synthetic.py --preset quick --out DIR --seed N
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from tinyemo.data import PRESETS, generate
from tinyemo.data.synthetic import RECOLA_LABEL_STATS


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="quick")
    ap.add_argument("--out", type=Path, required=True, help="output folder (must be empty or new)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--overwrite", action="store_true", help="replace a corpus already in --out")
    ap.add_argument("--workers", type=int, default=None, help="processes (default: automatic)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    try:
        root = generate(args.out, args.preset, args.seed, overwrite=args.overwrite, workers=args.workers)
    except ValueError as e:
        ap.error(str(e))
    seconds = time.perf_counter() - t0
    meta = json.loads((root / "metadata.json").read_text())
    n = len(meta["recordings"])
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    print(f"wrote {root}: {n} recordings x {meta['config']['duration_s']:g} s "
          f"({size / 2**20:.1f} MiB) in {seconds:.1f} s")
    print("  recordings_audio/*.wav, ratings_gold_standard/{arousal,valence}/*.arff, "
          "ratings_individual/{arousal,valence}/*.csv, latents.npz, metadata.json")
    group = "train+dev" if "train+dev" in meta["label_statistics"] else "all"
    print(f"label statistics ({group}; RECOLA train+dev in brackets):")
    for target, s in meta["label_statistics"][group].items():
        ref = RECOLA_LABEL_STATS[target]
        spline = ", ".join(f"f={f}: {v:.3f} [{ref['spline_rebuild_ccc'].get(f, float('nan')):.3f}]"
                           for f, v in s["spline_rebuild_ccc"].items())
        print(f"  {target:8s} mean {s['mean']:+.3f} [{ref['mean']:+.2f}]  std {s['std']:.3f} "
              f"[{ref['std']:.2f}]  range [{s['min']:+.2f}, {s['max']:+.2f}] "
              f"[{ref['min']:+.2f}, {ref['max']:+.2f}]")
        print(f"  {'':8s} power < 1 Hz {s['power_below_1hz']:.4f} [> {ref['power_below_1hz']}]  "
              f"ACF half-time, median of recordings {s['acf_halftime_s']:.2f} s "
              f"[{ref['acf_halftime_s']}]" + (f"  spline-rebuild CCC {spline}" if spline else ""))
        print(f"  {'':8s} one rater vs gold CCC: recordings concatenated "
              f"{s['annotator_ccc_concatenated']:.3f} [{ref['annotator_ccc_concatenated']:.3f}], "
              f"mean of per-recording CCCs {s['annotator_ccc_per_recording_mean']:.3f} "
              f"[{ref['annotator_ccc_per_recording_mean']:.3f}]")

if __name__ == "__main__":
    main()
