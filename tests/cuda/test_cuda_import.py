"""CUDA loads only when asked for: ``import tinyemo`` (and CPU work) never imports numba.cuda,
and asking for CUDA where it cannot run is a clear ``RuntimeError``, not a crash."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.no_cuda_needed


def _run(code: str, **env_changes) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env.update(env_changes)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)


def test_import_tinyemo_and_cpu_work_do_not_import_numba_cuda():
    result = _run(
        "import sys, numpy as np\n"
        "import tinyemo, tinyemo.engine.nn, tinyemo.engine.optim, tinyemo.models, tinyemo.train.loop\n"
        "from tinyemo import functional as F\n"
        "x = tinyemo.Tensor(np.linspace(-1, 1, 8, dtype=np.float32), requires_grad=True)\n"
        "F.relu(x).sum().backward()\n"
        "assert x.grad.sum() == 4, x.grad\n"
        "print(sorted(m for m in sys.modules if m.startswith('numba.cuda') or m == 'numba_cuda'))\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


_ASK_FOR_CUDA = (
    "import numpy as np\n"
    "from tinyemo.engine import backend\n"
    "try:\n"
    "    backend.to_device(np.zeros(3, np.float32), 'cuda')\n"
    "except RuntimeError as exc:\n"
    "    print('RuntimeError:', exc)\n")


def test_asking_for_cuda_without_a_gpu_is_a_clear_error():
    result = _run(_ASK_FOR_CUDA, CUDA_VISIBLE_DEVICES="")  # hides any GPU there is
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("RuntimeError: device='cuda' was asked for but no usable "
                                    "CUDA GPU was found"), result.stdout + result.stderr


def test_asking_for_cuda_without_numba_cuda_names_the_extra():
    result = _run("import sys\nsys.modules['numba.cuda'] = None  # as if not installed\n"
                  + _ASK_FOR_CUDA)
    assert result.returncode == 0, result.stderr
    assert "pip install 'tinyemo[cuda]'" in result.stdout, result.stdout + result.stderr


def test_moving_a_model_to_cuda_without_a_gpu_is_a_clear_error():
    result = _run("from tinyemo.models import ModelConfig, build_model\n"
                  "model = build_model(ModelConfig(arch='dilated', in_channels=2, width=2, depth=1))\n"
                  "try:\n"
                  "    model.to('cuda')\n"
                  "except RuntimeError as exc:\n"
                  "    print('RuntimeError:', exc)\n", CUDA_VISIBLE_DEVICES="")
    assert result.returncode == 0, result.stderr
    assert "no usable CUDA GPU" in result.stdout, result.stdout + result.stderr
