#!/usr/bin/env bash
# Download the wheels bench/gpu_check.py installs on a GPU machine that has no network
# (Python 3.12, manylinux x86_64) into .whl/ (ignored by git). Run from anywhere with pip and
# PyPI; the check installs them with `pip install --no-index --no-deps --target` into /tmp.
#
#   soundfile, cffi, pycparser: audio I/O (the synthetic corpus, features); the GPU image lacks
#                               them (its Python has numba, numba-cuda, numpy, scipy, PyTorch);
#   numba-cuda 0.30.4:          the version the CUDA kernels are tested with here (simulator and
#                               sm_90 PTX), in place of whatever the image carries;
#   numpy 2.4.6:                seen on the H200 image (2026-11-30): its numba-cuda fails to import
#                               with the image's numpy 2.5.2 (np.row_stack was removed); with 2.4.6
#                               carried, `train/predict/evaluate --device cuda` ran there.
# About 20 MB in all (the device tool carries at most 64 MiB with the working tree).
set -euo pipefail
cd "$(dirname "$0")/.."
WHEELS=(soundfile==0.14.0 cffi==2.1.1 pycparser==3.12 numba-cuda==0.30.4 numpy==2.4.6)
rm -rf .whl
mkdir -p .whl
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl "${WHEELS[@]}"
ls -l .whl
