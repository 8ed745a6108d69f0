"""``bench/gpu_check.py``, the one-shot GPU check: its logic end to end in the CUDA simulator
(every step, carried wheels, the working-tree shim, the CPU/GPU comparison, the files written),
and its argument checks, time budget and comparison rules without running anything."""
from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.helpers import ROOT as REPO
import pytest

ROOT = REPO
SCRIPT = ROOT / "bench" / "gpu_check.py"


def _module():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SCRIPT.parent))
    return module


def _wheel(folder: Path, name="gpucheck_probe", version="1.2") -> Path:
    """A minimal pure-Python wheel (one module), as ``pip download`` would carry."""
    files = {f"{name}.py": b"VALUE = 42\n",
             f"{name}-{version}.dist-info/METADATA":
                 f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
             f"{name}-{version}.dist-info/WHEEL":
                 b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = "".join(
        f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},"
        f"{len(data)}\n" for path, data in files.items())
    files[f"{name}-{version}.dist-info/RECORD"] = (record + f"{name}-{version}.dist-info/RECORD,,\n").encode()
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for member, data in files.items():
            z.writestr(member, data)
    return path


def _run(*args, **env):
    environ = {k: v for k, v in os.environ.items()
               if k not in ("NUMBA_ENABLE_CUDASIM", "TINYEMO_CUDA_THREADS_PER_BLOCK")}
    environ.update(env)
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, env=environ, timeout=600)


@pytest.mark.slow
def test_the_whole_check_runs_in_the_simulator(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _wheel(wheels)
    out = tmp_path / "out"
    result = _run(out, "--simulate", "--wheels", wheels)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("ALL OK")

    report = json.loads((out / "gpu_check.json").read_text())
    steps = report["steps"]
    assert list(steps) == ["environment", "tests", "kernels", "epoch", "train-cpu", "train-cuda",
                           "accuracy", "epoch-pool-off"]
    assert all(step["ok"] for step in steps.values()) and report["ok"] and report["simulate"]
    probe = steps["environment"]["probe"]
    assert probe["simulator"] and probe["cuda_available"]
    assert probe["carried"]["gpucheck_probe"].startswith("1.2 @ ")  # installed from the wheel
    assert probe["kernels_shim"] == str(ROOT / "kernels" / "__init__.py")
    assert probe["tinyemo"].endswith(str(ROOT / "tinyemo"))  # the working tree, not a copy
    assert steps["tests"]["passed"] >= 2 and steps["tests"]["failed"] == 0
    assert steps["kernels"]["rows"] and steps["epoch"]["rows"][0]["tinyemo_epoch_ms"] > 0
    agreement = report["agreement"]["targets"]["arousal"]
    assert agreement["ok"] and agreement["abs_diff"] <= agreement["tolerance"]
    assert set(agreement["epoch1_abs_diff"]) == {"train_loss", "dev_ccc"}
    assert steps["accuracy"]["max"]["cuda_fp32"] < 1e-5

    written = sorted(p.name for p in out.iterdir())  # at most 8 files: the device tool's limit
    assert written == ["accuracy-cuda.json", "epoch-cuda-pool-off.json", "epoch-cuda.json",
                       "gpu_check.json", "gpu_check.log", "kernels-cuda.json", "tests-cuda.xml"]
    log = (out / "gpu_check.log").read_text()
    for name in steps:
        if name != "environment":
            assert f"===== {name}:" in log


@pytest.mark.parametrize("args, message", [
    (["--budget", "0"], "--budget must be positive"),
    (["--wheels", "README.md"], "not a folder"),
])
def test_bad_arguments_are_refused_before_anything_is_created(tmp_path, args, message):
    out = tmp_path / "out"
    result = _run(out, *args)
    assert result.returncode == 2 and message in result.stderr
    assert not out.exists()


def test_a_folder_with_files_is_refused(tmp_path):
    (tmp_path / "old.json").write_text("{}")
    result = _run(tmp_path)
    assert result.returncode == 2 and "exists and is not an empty folder" in result.stderr


def test_steps_that_no_longer_fit_the_budget_are_skipped_and_reported(tmp_path):
    result = _run(tmp_path / "out", "--budget", "5", "--steps", "tests")
    assert result.returncode == 1
    report = json.loads((tmp_path / "out" / "gpu_check.json").read_text())
    assert report["steps"]["environment"]["skipped"].startswith("out of time")
    assert report["ok"] is False


def _training(train_loss, dev1, final):
    return {"targets": {"arousal": {"dev_ccc": final, "epoch1": {"train_loss": train_loss,
                                                                  "dev_ccc": dev1}}}}


@pytest.mark.parametrize("gpu, ok", [
    (_training(0.8001, 0.2752, 0.74), True),    # epoch 1 close, final within 0.05
    (_training(0.8001, 0.2752, 0.64), False),   # final beyond the tolerance
    (_training(0.8100, 0.2752, 0.70), False),   # epoch 1 apart: something differs in the maths
])
def test_training_comparison(gpu, ok):
    check = _module()
    verdict = check.compare_training(_training(0.8000, 0.2750, 0.70), gpu)
    assert verdict["ok"] is ok and verdict["targets"]["arousal"]["tolerance"] == 0.05
    assert check.compare_training(_training(0.8, 0.2, 0.7), {"targets": {}})["ok"] is False


def test_junit_counts(tmp_path):
    xml = tmp_path / "t.xml"
    xml.write_text('<testsuites><testsuite tests="4" skipped="1"><testcase classname="a" name="x"/>'
                   '<testcase classname="a" name="y"><failure/></testcase>'
                   '<testcase classname="a" name="z"/><testcase classname="a" name="s"><skipped/>'
                   '</testcase></testsuite></testsuites>')
    counts = _module()._junit_counts(xml)
    assert (counts["tests"], counts["passed"], counts["failed"], counts["skipped"]) == (4, 2, 1, 1)
    assert counts["failures"] == ["a::y"]
