"""Front-end throughput: seconds of audio per second of compute, one 5-minute 16 kHz recording,
tinyemo's fbank against kaldi-native-fbank in the same run, one thread.

    python bench/bench_frontend.py [--repeats 7] [--seconds 300]

Writes bench/results/frontend.json and prints Markdown table rows. Both sides run Kaldi's
defaults with 40 mel bins and dither off (kaldi-native-fbank's dither default differs from
Kaldi's); tinyemo with its default seeded dither is timed as well. The audio is the real speech
in tests/testdata/speech tiled to length (synthetic noise if that folder is absent).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from tinyemo.frontend import fbank, read_audio
from tinyemo.util.fileio import write_json

RATE = 16000
ROOT = Path(__file__).resolve().parents[1]
SPEECH = ROOT / "tests" / "testdata" / "speech"


def recording(seconds: float) -> tuple[np.ndarray, str]:
    n = int(seconds * RATE)
    files = sorted(SPEECH.glob("*.wav")) if SPEECH.is_dir() else []
    if files:
        speech = np.concatenate([read_audio(p, sample_rate=RATE)[0] for p in files])
        return np.resize(speech, n), f"real speech tiled ({len(files)} files)"
    rng = np.random.default_rng(0)
    envelope = 1 + np.sin(2 * np.pi * 3 * np.arange(n) / RATE)
    return rng.normal(0, 2000, n) * envelope, "synthetic modulated noise"


def median_time(fn, repeats: int) -> tuple[float, list[float]]:
    fn()  # warm-up: first-touch allocations, cached windows and mel banks
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def knf_runner(wave: np.ndarray, dither: float = 0.0):
    import kaldi_native_fbank as knf

    opts = knf.FbankOptions()
    opts.frame_opts.dither = dither
    opts.frame_opts.samp_freq = RATE
    opts.mel_opts.num_bins = 40
    wave32 = wave.astype(np.float32)

    def run():  # the features as an array, as tinyemo returns them
        comp = knf.OnlineFbank(opts)
        comp.accept_waveform(RATE, wave32)
        comp.input_finished()
        return np.array([comp.get_frame(i) for i in range(comp.num_frames_ready)], np.float32)
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=300.0)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "frontend.json")
    args = ap.parse_args()

    wave, source = recording(args.seconds)
    cases = {"tinyemo (dither 0)": lambda: fbank(wave, RATE, dither=0.0),
             "tinyemo (dither 1, seeded)": lambda: fbank(wave, RATE)}
    try:
        import kaldi_native_fbank as knf
        knf_version = getattr(knf, "__version__", "unknown")
        cases["kaldi-native-fbank (dither 0)"] = knf_runner(wave)
        cases["kaldi-native-fbank (dither 1)"] = knf_runner(wave, dither=1.0)
    except ImportError:
        knf_version = None
        print("kaldi-native-fbank is not installed (`pip install kaldi-native-fbank`)")
    rows = {}
    with threadpool_limits(limits=1):
        for name, fn in cases.items():
            med, times = median_time(fn, args.repeats)
            rows[name] = {"median_s": med, "times_s": times, "audio_s_per_s": args.seconds / med}
        if knf_version is not None:
            diff = np.abs(fbank(wave, RATE, dither=0.0) - cases["kaldi-native-fbank (dither 0)"]())

    result = {
        "benchmark": "frontend fbank throughput",
        "audio_seconds": args.seconds, "sample_rate": RATE, "audio": source,
        "options": "Kaldi defaults, num_mel_bins=40", "threads": 1, "repeats": args.repeats,
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpu_count": os.cpu_count(), "python": platform.python_version(),
                    "numpy": np.__version__,
                    "kaldi_native_fbank": knf_version},
        "results": rows,
        "max_abs_diff_vs_knf": None if knf_version is None else float(diff.max()),
    }
    write_json(args.out, result)
    print(f"| implementation | median s for {args.seconds:.0f} s | audio s per s |")
    print("|---|---|---|")
    for name, row in rows.items():
        print(f"| {name} | {row['median_s']:.4f} | {row['audio_s_per_s']:.0f} |")
    if knf_version is not None:
        print(f"\nmax |tinyemo - kaldi-native-fbank| (dither 0) = {diff.max():.2e}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
