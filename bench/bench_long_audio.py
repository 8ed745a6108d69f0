"""Long recordings: peak memory and time of ``tinyemo predict`` on 5 min, 1 h and 4 h of audio,
the bounded-memory path (blocks, two passes, overlapping windows: ``tinyemo.serve.longform``)
against the whole-file path it replaced (``prepare`` + ``Ensemble.predict`` +
``write_predictions``: all samples and features held at once), measured in the same run.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_long_audio.py
    python bench/bench_long_audio.py --minutes 1 5 --repeats 1      # quick

Each measurement runs in a fresh subprocess, which first predicts a 10 s file (imports, Numba
cache loads, first-touch: reported apart as "warm-up"), then the long file; the time is that
second call, the memory the process's RSS high-water mark (``VmHWM``) at the end (imports
included). The model is the main job's: down/up, 5 seeds × (arousal width 32, valence width
128), random weights (the speed does not depend on them). The audio: the real speech in
tests/testdata/speech tiled with a random gain per copy plus noise, 16 kHz 16-bit mono, written to
a temporary folder. Writes bench/results/long_audio.json and prints a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SPEECH = ROOT / "tests" / "testdata" / "speech" / "arctic_a0007.wav"
RATE = 16000


def write_audio(path: Path, seconds: float, seed: int = 0) -> None:
    import soundfile as sf
    speech, rate = sf.read(str(SPEECH), dtype="int16")
    assert rate == RATE
    rng = np.random.default_rng(seed)
    total = int(seconds * RATE)
    with sf.SoundFile(str(path), "w", RATE, 1, subtype="PCM_16") as f:
        done = 0
        while done < total:
            n = min(total - done, 60 * RATE)
            reps = -(-n // speech.size)
            gains = np.repeat(rng.uniform(0.3, 1.5, reps), speech.size)[:n]
            chunk = np.tile(speech, reps)[:n] * gains + rng.normal(0, 30, n)
            f.write(np.clip(chunk, -32768, 32767).astype(np.int16))
            done += n


def write_model(folder: Path, seeds: int = 5) -> None:
    from tinyemo.engine.checkpoint import save_checkpoint
    from tinyemo.models.nets import build_model
    from tinyemo.runs.experiment import ExperimentConfig, run_record
    experiment = ExperimentConfig("downup", ("arousal", "valence"), tuple(range(seeds)),
                                  sample_rate=RATE)
    models = experiment.model_configs(160)
    config = run_record(experiment, 160, {"root": "bench", "sample_rate": RATE})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    rng = np.random.default_rng(0)
    for target, cfg in models.items():
        for seed in range(seeds):
            state = build_model(cfg, seed=seed).state_dict()
            state = {k: v if v.any() else (0.1 * rng.standard_normal(v.shape)).astype(np.float32)
                     for k, v in state.items()}
            save_checkpoint(folder / target / f"seed{seed}" / "best.npz", state, {})


def child(mode: str, audio: Path, warm: Path, model: Path, out: Path, threads: int) -> None:
    """One measurement in this process; prints a JSON line."""
    from tinyemo.util.runtime import configure_process
    configure_process(threads)

    def run(path: Path) -> float:
        start = time.perf_counter()
        if mode == "bounded":
            from tinyemo.serve.predict import predict_files
            predict_files(model, [path], out)
        else:   # the whole-file path tinyemo predict took before tinyemo.serve.longform
            from tinyemo.data.corpus import Corpus, Recording
            from tinyemo.data.examples import prepare
            from tinyemo.frontend import FbankOptions
            from tinyemo.frontend.cache import FeatureCache
            from tinyemo.runs.ensemble import Ensemble
            from tinyemo.runs.predictions import write_predictions
            ensemble = Ensemble(model)
            corpus = Corpus([Recording(path.stem, path.stem, "predict", path)])
            examples = list(prepare(corpus, FbankOptions(**ensemble.config["fbank"]),
                                    cache=FeatureCache(out / "cache"),
                                    sample_rate=ensemble.sample_rate).values())
            by_target = {t: ensemble.predict(examples, t)[0] for t in ensemble.targets}
            write_predictions(out, examples, by_target)
        return time.perf_counter() - start

    warm_s = run(warm)
    seconds = run(audio)
    status = Path("/proc/self/status").read_text()
    hwm_kb = int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])
    print(json.dumps({"mode": mode, "seconds": seconds, "warmup_s": warm_s,
                      "peak_rss_mb": hwm_kb / 1024}))


def measure(mode, audio, warm, model, threads) -> dict:
    with tempfile.TemporaryDirectory(prefix="tinyemo-bench-out-") as out:
        done = subprocess.run([sys.executable, __file__, "--child", mode, "--audio", str(audio),
                               "--warm", str(warm), "--model", str(model), "--out", out,
                               "--threads", str(threads)], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{mode} on {audio.name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, nargs="+", default=[5, 60, 240])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "long_audio.json")
    p.add_argument("--child", choices=("bounded", "whole"))
    p.add_argument("--audio", type=Path)
    p.add_argument("--warm", type=Path)
    p.add_argument("--model", type=Path)
    args = p.parse_args()
    if args.child:
        child(args.child, args.audio, args.warm, args.model, Path(args.out), args.threads)
        return
    from tinyemo.util.fileio import write_json
    rows = []
    with tempfile.TemporaryDirectory(prefix="tinyemo-bench-") as tmp:
        tmp = Path(tmp)
        write_model(tmp / "model")
        write_audio(tmp / "warm.wav", 10.0, seed=1)
        for minutes in args.minutes:
            audio = tmp / f"audio-{minutes:g}min.wav"
            write_audio(audio, minutes * 60)
            runs = {"bounded": [], "whole": []}
            for _ in range(args.repeats):          # interleaved: load hits both alike
                for mode in runs:
                    runs[mode].append(measure(mode, audio, tmp / "warm.wav", tmp / "model",
                                              args.threads))
            row = {"minutes": minutes, "frames": int(minutes * 60 / 0.04) + 1}
            for mode, results in runs.items():
                secs = statistics.median(r["seconds"] for r in results)
                row[mode] = {"seconds": secs, "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
                             "audio_s_per_s": minutes * 60 / secs,
                             "warmup_s": statistics.median(r["warmup_s"] for r in results),
                             "runs": results}
            rows.append(row)
            audio.unlink()
            b, w = row["bounded"], row["whole"]
            print(f"| {minutes:g} min | {b['peak_rss_mb']:.0f} MB | {w['peak_rss_mb']:.0f} MB | "
                  f"{b['seconds']:.1f} s | {w['seconds']:.1f} s | {b['audio_s_per_s']:.0f} | "
                  f"{w['audio_s_per_s']:.0f} | {b['seconds'] / w['seconds']:.2f} |", flush=True)
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    write_json(args.out, {"threads": args.threads, "repeats": args.repeats, "rows": rows,
                          "model": "downup, 5 seeds x (arousal 32, valence 128), random weights",
                          "load_average_at_end": load})


if __name__ == "__main__":
    main()
