"""The one-shot GPU check: every CUDA test, benchmark and agreement figure in one command.

    python3 bench/gpu_check.py OUT              # on a machine with an NVIDIA GPU, from the repo root
    python bench/gpu_check.py OUT --simulate    # the same steps in numba's CUDA simulator, tiny

Needs no network and installs nothing outside /tmp: wheels carried in ``.whl/`` (made by
``scripts/prepare_gpu_wheels.sh`` where pip works) are installed with ``pip --target`` into a
scratch folder put on PYTHONPATH, and the working tree runs in place: the scratch folder's
``sitecustomize.py`` maps ``tinyemo.kernels`` to ``kernels/``, what ``pip install -e .``'s
package-dir mapping does, so neither pip nor setuptools has to build anything there. The steps,
in order, each in its own process with a time limit, all within ``--budget`` seconds (default
450, under the 8 minutes a check may take; a step that no longer fits is recorded as skipped):

1. environment: versions, the GPU, NVVM (``CUDA_HOME=/usr/local/cuda`` is tried when numba-cuda
   does not find it), PyTorch's CUDA, whether the memory pool is numba's memory manager;
2. tests: ``pytest tests/cuda`` without the simulator (kernels, autograd, pool, PTX);
3. kernels: ``bench/bench_kernels.py --device cuda`` (PyTorch CUDA as the peer);
4. epoch: ``bench/bench_epoch.py --device cuda --threads 1`` (PyTorch CUDA as the peer);
5. train-cpu, train-cuda: ``scripts/train.py --arch downup --preset quick --runs 1`` on each
   device, same seed and threads, compared (see ``compare_training``);
6. accuracy: ``bench/cuda_accuracy.py`` (what float32 accumulation costs, full shapes);
7. epoch-pool-off: the down/up-32 epoch again with ``TINYEMO_CUDA_POOL=0`` (what the pool buys).

Writes to OUT (at most 8 files, what the device tool brings back): ``gpu_check.json`` (every
step's command, seconds, exit status and figures; rewritten after each step), ``gpu_check.log``
(every step's output), ``tests-cuda.xml``, ``kernels-cuda.json``, ``epoch-cuda.json``,
``epoch-cuda-pool-off.json``, ``accuracy-cuda.json``. Exit status 0 when every step ran and
passed, 1 otherwise, 2 for a bad command line. ``--simulate`` (``tests/bench/test_gpu_check.py``) runs
the same logic with NUMBA_ENABLE_CUDASIM=1 on the least work that exercises it (the simulator
starts a Python thread per CUDA thread): the mirror tests, one kernel row, width-1 nets on 9
frames, a two-tap single-filter net trained for one epoch on three 3-second recordings.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpu_check_steps import (  # noqa: E402
    REPO,
    _junit_counts,
    compare_training,
    step_accuracy,
    step_environment,
    step_epoch,
    step_kernels,
    step_tests,
    step_train,
)

__all__ = ["main", "compare_training", "_junit_counts"]


class Check:
    """The steps' shared state: paths, environment, time budget, the report and the log."""

    python = sys.executable  # the steps' interpreter: the one running the check

    def __init__(self, out, wheels, simulate, budget):
        self.out, self.wheels, self.simulate = out, wheels, simulate
        self.deadline = time.monotonic() + budget
        self.step_deadline = self.deadline  # main() moves it back to leave later steps time
        self.scratch = tempfile.mkdtemp(prefix="tinyemo-gpu-check-")
        self.site = os.path.join(self.scratch, "site")
        self.env = dict(os.environ, PYTHONUNBUFFERED="1",
                        TINYEMO_CACHE=os.path.join(self.scratch, "cache"))
        for name in ("TINYEMO_CUDA_POOL", "TINYEMO_CUDA_THREADS_PER_BLOCK"):
            self.env.pop(name, None)
        if simulate:  # the simulator starts a Python thread per CUDA thread: small blocks
            self.env.update(NUMBA_ENABLE_CUDASIM="1", TINYEMO_CUDA_THREADS_PER_BLOCK="8")
        else:
            self.env.pop("NUMBA_ENABLE_CUDASIM", None)
        self.report = {"check": "gpu", "simulate": simulate, "command": " ".join(sys.argv),
                       "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "budget_s": budget,
                       "steps": {}}
        self.log = open(os.path.join(out, "gpu_check.log"), "a+", encoding="utf-8")

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def step_left(self) -> float:
        return self.step_deadline - time.monotonic()

    def save(self) -> None:
        path = os.path.join(self.out, "gpu_check.json")
        fd, tmp = tempfile.mkstemp(dir=self.out, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(self.report, f, indent=1)
            f.write("\n")
        os.replace(tmp, path)

    def run(self, name, argv, limit, env=None) -> dict:
        """Run ``argv`` (from the repository root) for at most ``limit`` seconds; its output goes
        to the log as it comes (so a check stopped from outside keeps it) and is returned."""
        limit = max(1.0, min(limit, self.step_left()))
        shown = " ".join("<code>" if "\n" in a else a for a in argv)
        self.log.write(f"\n===== {name}: {shown} (limit {limit:.0f} s)\n")
        self.log.flush()
        begin = os.path.getsize(self.log.name)
        start = time.monotonic()
        proc = subprocess.Popen(argv, cwd=REPO, env=env or self.env, stdout=self.log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            proc.wait(timeout=limit)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the step and every process it started
            proc.wait()
            timed_out = True
        seconds = time.monotonic() - start
        self.log.seek(0, os.SEEK_END)
        with open(self.log.name, "rb") as f:
            f.seek(begin)
            output = f.read().decode("utf-8", errors="replace")
        self.log.write(f"===== {name}: exit {proc.returncode}, {seconds:.1f} s"
                       f"{' (timed out)' if timed_out else ''}\n")
        self.log.flush()
        if proc.returncode != 0:  # the device tool returns the check's stdout: show the end
            print(f"--- {name} failed; its last lines:\n" + "\n".join(output.splitlines()[-30:]),
                  flush=True)
        return {"command": shown, "seconds": round(seconds, 1),
                "returncode": proc.returncode, "timed_out": timed_out, "output": output}


# (name, function, least seconds worth starting it with), in the order they run
STEPS = [
    ("environment", step_environment, 20),
    ("tests", step_tests, 60),
    ("kernels", step_kernels, 30),
    ("epoch", step_epoch, 45),
    ("train-cpu", lambda c: step_train(c, "cpu"), 40),
    ("train-cuda", lambda c: step_train(c, "cuda"), 40),
    ("accuracy", step_accuracy, 15),
    ("epoch-pool-off", lambda c: step_epoch(c, pool_off=True), 30),
]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", help="folder for the results (created; must be empty if it exists)")
    p.add_argument("--wheels", default=os.path.join(REPO, ".whl"),
                   help="folder of wheels to install first (default .whl; missing: none)")
    p.add_argument("--simulate", action="store_true",
                   help="run the steps in numba's CUDA simulator with tiny shapes")
    p.add_argument("--budget", type=float, default=450.0, help="seconds for all steps")
    p.add_argument("--steps", nargs="+", choices=[s[0] for s in STEPS],
                   help="run only these steps (environment always runs)")
    args = p.parse_args(argv)
    out = os.path.abspath(args.out)
    if os.path.exists(out) and (not os.path.isdir(out) or os.listdir(out)):
        p.error(f"{args.out}: exists and is not an empty folder")
    if os.path.exists(args.wheels) and not os.path.isdir(args.wheels):
        p.error(f"--wheels {args.wheels}: not a folder")
    if args.budget <= 0:
        p.error("--budget must be positive")
    os.makedirs(out, exist_ok=True)
    check = Check(out, args.wheels, args.simulate, args.budget)
    wanted = {"environment"} | set(args.steps or [s[0] for s in STEPS])
    steps = [s for s in STEPS if s[0] in wanted]
    try:
        for i, (name, function, least) in enumerate(steps):
            allowed = check.left() - sum(s[2] for s in steps[i + 1:])  # leave later steps theirs
            if allowed < least:
                result = {"skipped": f"out of time ({check.left():.0f} s left)", "ok": False}
            else:
                check.step_deadline = time.monotonic() + allowed
                started = time.monotonic()
                try:
                    result = function(check)
                except Exception:  # a step's own bug (or a surprise there) ends that step only
                    result = {"error": traceback.format_exc(limit=5), "ok": False}
                    print(result["error"], flush=True)
                result["step_seconds"] = round(time.monotonic() - started, 1)
            result.pop("output", None)
            check.report["steps"][name] = result
            print(f"{name}: {'ok' if result.get('ok') else 'NOT OK'}"
                  f" ({result.get('step_seconds', 0):.0f} s)", flush=True)
            check.save()
            if name == "environment" and not result["ok"]:
                print("environment not usable: see gpu_check.json and gpu_check.log", flush=True)
                break
        steps_done = check.report["steps"]
        if "train-cpu" in steps_done and "train-cuda" in steps_done:
            check.report["agreement"] = compare_training(steps_done["train-cpu"],
                                                         steps_done["train-cuda"])
        check.report["ok"] = (all(s.get("ok") for s in steps_done.values())
                              and len(steps_done) == len(steps)
                              and check.report.get("agreement", {"ok": True})["ok"])
        check.report["seconds"] = round(args.budget - check.left(), 1)
        check.save()
    finally:
        check.log.close()
        shutil.rmtree(check.scratch, ignore_errors=True)
    print(f"{'ALL OK' if check.report['ok'] else 'NOT OK'}: {os.path.join(out, 'gpu_check.json')}")
    return 0 if check.report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
