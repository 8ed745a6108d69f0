"""The same sweep in local worker processes and on Dask LocalClusters (loopback, tiny shapes):
identical per-trial results to this process, feature extraction as one task per recording, a
worker killed mid-trial costing only that trial's restart, and a scheduler that does not answer."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from tinyemo.data import generate
from tinyemo.data.examples import load_examples
from tinyemo.sweep import SweepConfig, read_space, run_sweep
from tinyemo.sweep.features import load_examples_on

from tests.helpers.sweep import examples, read_trials, reported, space_file

pytestmark = pytest.mark.slow


def _config(tmp_path):
    space = read_space(space_file(tmp_path))
    return SweepConfig(space, targets=("arousal",), trials=3, sampler="random", seeds_per_trial=2,
                       runs=0, threads=1)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The sweep in this process, one thread."""
    from tinyemo.util.runtime import set_threads
    tmp = tmp_path_factory.mktemp("reference")
    set_threads(1)
    run_sweep(examples(), _config(tmp), tmp / "out", say=lambda s: None)
    return read_trials(tmp / "out"), reported(tmp / "out")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A four-recording corpus of 4 s each, and its features computed in this process."""
    root = generate(tmp_path_factory.mktemp("corpus") / "c", "tiny", n_train=2, n_dev=1,
                    n_test=1, duration_s=4.0)
    return root, load_examples(root)[0]


def _same_features(executor, corpus):
    """One extraction task per recording on the workers gives this process's log-mels, and the
    examples built from them are those of ``load_examples``."""
    from tinyemo.data import load_corpus
    from tinyemo.frontend import extract
    from tinyemo.sweep.features import _extract
    root, expected = corpus
    paths = [str(rec.audio) for rec in load_corpus(root)]
    for path, feats in zip(paths, executor.map(_extract, [(p, 16000) for p in paths])):
        np.testing.assert_array_equal(feats, extract(path, cache=False, sample_rate=16000))
    got, info = load_examples_on(executor, root)
    assert info["recordings"] == 4 and list(got) == list(expected)
    for key in expected:
        np.testing.assert_array_equal(got[key].x, expected[key].x)


def _killer(executor, number=1, epoch=1):
    """on_report: SIGKILL the worker running trial ``number`` at its ``epoch`` report, once."""
    killed = []

    def on_report(task, at, value):
        if task.number == number and at == epoch and not killed:
            pid = executor.pid_of(task)
            assert pid is not None and pid != os.getpid()
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    return on_report, killed


def _check_restarted_once(out, reference, killed):
    assert len(killed) == 1
    rows = read_trials(out, drop=("seconds",))
    assert [r["attempts"] for r in rows] == ["1", "2", "1"]    # only the killed trial restarted
    assert (read_trials(out), reported(out)) == reference      # every trial once, same results


def test_local_workers_match_this_process_and_survive_a_killed_worker(tmp_path, reference, corpus):
    from tinyemo.sweep.executors import LocalWorkers
    executor = LocalWorkers(2, threads=1)
    try:
        _same_features(executor, corpus)
        on_report, killed = _killer(executor)
        run_sweep(examples(), _config(tmp_path), tmp_path / "out", executor=executor,
                  say=lambda s: None, on_report=on_report)
    finally:
        executor.close()
    _check_restarted_once(tmp_path / "out", reference, killed)


def test_dask_threads_match_this_process(tmp_path, reference, corpus):
    from tinyemo.sweep.dask_executor import DaskExecutor
    executor = DaskExecutor(local_workers=2, processes=False)
    try:
        assert executor.slots == 2
        _same_features(executor, corpus)
        run_sweep(examples(), _config(tmp_path), tmp_path / "out", executor=executor,
                  say=lambda s: None)
    finally:
        executor.close()
    assert (read_trials(tmp_path / "out"), reported(tmp_path / "out")) == reference


@pytest.mark.parametrize("workers", [2, 1])
def test_dask_worker_killed_mid_trial_costs_only_that_trial(tmp_path, reference, workers):
    """With one worker, the examples it held die with it and are recomputed on its
    replacement."""
    from tinyemo.sweep.dask_executor import DaskExecutor
    executor = DaskExecutor(local_workers=workers, processes=True)
    try:
        on_report, killed = _killer(executor)
        run_sweep(examples(), _config(tmp_path), tmp_path / "out", executor=executor,
                  say=lambda s: None, on_report=on_report)
    finally:
        executor.close()
    _check_restarted_once(tmp_path / "out", reference, killed)


def test_a_scheduler_that_does_not_answer_is_a_clear_error_within_seconds():
    from tinyemo.sweep.dask_executor import DaskExecutor
    with socket.socket() as s:                   # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(ValueError, match=rf"--scheduler tcp://127.0.0.1:{port}: no Dask scheduler "
                                         rf"answered within 5 s"):
        DaskExecutor(scheduler=f"tcp://127.0.0.1:{port}")
    assert time.monotonic() - start < 15
    with pytest.raises(ValueError, match=r"--scheduler 'http://x': expected an address such as"):
        DaskExecutor(scheduler="http://x")


@pytest.fixture
def external_cluster(tmp_path):
    """``dask scheduler`` and ``dask worker`` (one process behind a nanny) on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    log = open(tmp_path / "cluster.log", "w")
    cli = [sys.executable, "-m"]
    procs = [subprocess.Popen(cli + ["distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                     "--port", str(port), "--dashboard-address", ":0"],
                              stdout=log, stderr=log, cwd=tmp_path)]
    try:
        procs.append(subprocess.Popen(cli + ["distributed.cli.dask_worker", address,
                                             "--nworkers", "1", "--nthreads", "1",
                                             "--host", "127.0.0.1", "--dashboard-address", ":0"],
                                      stdout=log, stderr=log, cwd=tmp_path))
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        log.close()


def test_an_external_worker_killed_mid_trial_costs_only_that_trial(tmp_path, reference,
                                                                   external_cluster):
    from tinyemo.sweep.dask_executor import DaskExecutor
    executor = DaskExecutor(scheduler=external_cluster)
    try:
        on_report, killed = _killer(executor)
        run_sweep(examples(), _config(tmp_path), tmp_path / "out", executor=executor,
                  say=lambda s: None, on_report=on_report)
    finally:
        executor.close()
    _check_restarted_once(tmp_path / "out", reference, killed)
