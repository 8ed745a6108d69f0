"""Trials on a Dask distributed cluster (``pip install 'tinyemo[dask]'``): an existing one
(``--scheduler tcp://HOST:PORT``, started with ``dask scheduler`` / ``dask worker``) or a
LocalCluster started here (``--dask-local N``). The calls are those of :mod:`.executors`.

What travels: the train and dev examples once, inside a task the trials depend on (the
scheduler keeps it, so a worker that dies with them costs their recomputation elsewhere, not the
sweep; each worker fetches them from a peer on its first trial), then per trial a small task (its settings, seeds,
folder) out and its outcome back. Each epoch the worker puts ``[trial, epoch, dev CCC]`` on a
Dask queue the driver reads and, with a pruner, waits on the trial's own queue for the answer
(go on or prune): all through the scheduler, a few hundred bytes. Workers never touch the Optuna storage.
A worker that dies mid-trial makes the scheduler run the trial again elsewhere (it resumes from
its checkpoints when the sweep folder is shared, e.g. on a LocalCluster or over NFS).
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
import uuid

from tinyemo.sweep.objective import TrialData, TrialTask, os_failure, run_trial

__all__ = ["DaskExecutor", "CONNECT_TIMEOUT_S"]

CONNECT_TIMEOUT_S = 5
WORKERS_TIMEOUT_S = 60
REPLY_TIMEOUT_S = 3600
_ADDRESS = re.compile(r"^((tcp|tls|ws|wss|ucx|inproc)://)?[^\s:/]+:\d+$")


def _dask():
    try:
        import distributed
    except ModuleNotFoundError:
        raise ValueError("Dask executors need dask.distributed: pip install 'tinyemo[dask]'") from None
    return distributed


# tinyemo's autograd switch (``no_grad``) is per process, so one process trains one trial at a
# time: trials given to a worker with several threads wait for each other here.
_ONE_TRIAL_PER_PROCESS = threading.Lock()


def _dask_trial(task: TrialTask, data: TrialData, queue_name: str) -> dict:
    """Runs on a Dask worker: the trial, asking the driver after each epoch."""
    with _ONE_TRIAL_PER_PROCESS:
        return _trial(task, data, queue_name)


def _trial(task: TrialTask, data: TrialData, queue_name: str) -> dict:
    from distributed import Queue
    reports, replies = Queue(queue_name), Queue(f"{queue_name}-{task.key}")

    def report(epoch: int, value: float) -> bool:
        reports.put([task.key, epoch, value, task.ask])
        if not task.ask:                  # no pruner: the report is news, not a question
            return False
        while True:                       # answers to an earlier, dead attempt are skipped
            answered, prune = replies.get(timeout=REPLY_TIMEOUT_S)
            if answered == epoch:
                return prune
    return run_trial(task, data, report)


def _examples(data: TrialData) -> TrialData:
    """The task that holds the examples on a worker (see :meth:`DaskExecutor.start`)."""
    return data


async def _identity(distributed, address: str):
    comm = await distributed.comm.connect(address, timeout=CONNECT_TIMEOUT_S)
    try:
        await comm.write({"op": "identity"})
        return await comm.read()
    finally:
        comm.abort()


def _check_scheduler(distributed, address: str) -> None:
    """Ask ``address`` who it is, within CONNECT_TIMEOUT_S for the connection and as long again
    for the answer (Dask's own handshake waits for ever on a socket that accepts and stays
    silent); ValueError unless a Dask scheduler answers."""
    try:
        reply = asyncio.run(asyncio.wait_for(_identity(distributed, address),
                                             2 * CONNECT_TIMEOUT_S))
    except (asyncio.TimeoutError, TimeoutError):
        reply = "no answer"
    except OSError as exc:
        if "Timed out trying to connect" in str(exc):
            raise
        reply = str(exc) or type(exc).__name__
    except Exception as exc:  # noqa: BLE001 - whatever garbage a non-Dask server sends
        reply = f"{type(exc).__name__}: {exc}"
    if not (isinstance(reply, dict) and reply.get("type") == "Scheduler"):
        raise ValueError(f"--scheduler {address}: not a Dask scheduler (it accepted the "
                         f"connection, then: {str(reply)[:80]}); give the address that "
                         f"`dask scheduler` prints") from None


class DaskExecutor:
    """Trials as Dask tasks, one per worker at a time (start workers with ``--nthreads 1``)."""

    def __init__(self, scheduler: str | None = None, local_workers: int | None = None,
                 processes: bool = True):
        distributed = _dask()
        if (scheduler is None) == (local_workers is None):
            raise ValueError("give a scheduler address or a number of local workers")
        self.cluster = None
        if scheduler is not None:
            if not _ADDRESS.match(scheduler):
                raise ValueError(f"--scheduler {scheduler!r}: expected an address such as "
                                 f"tcp://HOST:8786")
            try:
                _check_scheduler(distributed, scheduler)
                self.client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT_S,
                                                 set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise ValueError(f"--scheduler {scheduler}: no Dask scheduler answered within "
                                 f"{CONNECT_TIMEOUT_S} s ({exc}); start one with `dask scheduler` "
                                 f"and workers with `dask worker {scheduler}`") from None
            try:
                self.client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
            except (OSError, TimeoutError):
                self.client.close()
                raise ValueError(f"--scheduler {scheduler}: no worker joined within "
                                 f"{WORKERS_TIMEOUT_S} s; start some with `dask worker "
                                 f"{scheduler}`") from None
        else:
            if local_workers < 1:
                raise ValueError(f"--dask-local must be >= 1, got {local_workers}")
            self.cluster = distributed.LocalCluster(
                n_workers=local_workers, threads_per_worker=1, processes=processes,
                protocol="tcp://", host="127.0.0.1", dashboard_address="127.0.0.1:0",
                silence_logs=logging.ERROR)
            self.client = distributed.Client(self.cluster, set_as_default=False)
        self._name = f"tinyemo-sweep-{uuid.uuid4().hex}"
        self._reports = distributed.Queue(self._name, client=self.client)
        self._futures: dict = {}           # Future -> TrialTask
        self._finished = distributed.as_completed([], loop=self.client.loop)
        self._running: dict[str, TrialTask] = {}
        self._data = None
        self._decide = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def slots(self) -> int:
        """Trials at once: one per worker (see ``_ONE_TRIAL_PER_PROCESS``)."""
        return max(1, len(self.client.nthreads()))

    def map(self, fn, items) -> list:
        futures = self.client.map(fn, list(items), pure=False)
        try:
            return self.client.gather(futures)
        finally:
            self.client.cancel(futures)

    def start(self, data: TrialData) -> None:
        """The examples as a task whose result the trials depend on: the scheduler keeps the
        task (the examples inside it), so when the worker holding them dies another recomputes
        them (scattered data would be lost with it, and every trial after)."""
        import dask  # comes with distributed (optional, imported by _dask)
        with dask.config.set({"distributed.admin.large-graph-warning-threshold": "1 TiB"}):
            self._data = self.client.submit(_examples, data, pure=False,
                                            key=f"tinyemo-examples-{uuid.uuid4().hex[:8]}")

    def submit(self, task: TrialTask) -> None:
        future = self.client.submit(_dask_trial, task, self._data, self._name, pure=False,
                                    key=f"trial-{task.key}-{uuid.uuid4().hex[:8]}")
        self._futures[future] = task
        self._running[task.key] = task
        self._finished.add(future)

    def wait(self, decide) -> list[tuple[TrialTask, dict]]:
        distributed = _dask()
        self._decide = decide
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve_reports, daemon=True,
                                            name="tinyemo-sweep-reports")
            self._thread.start()
        done = [next(self._finished)] + self._finished.next_batch(block=False)
        out = []
        for future in done:
            task = self._futures.pop(future)
            self._running.pop(task.key, None)
            try:
                outcome = future.result()
            except distributed.KilledWorker as exc:
                outcome = {"status": "failed", "message": f"its Dask workers kept dying ({exc})"}
            except OSError as exc:       # the cluster's connections, not the settings
                outcome = os_failure(exc)
            except Exception as exc:  # noqa: BLE001 - the trial fails, the sweep goes on
                outcome = {"status": "failed", "message": f"{type(exc).__name__}: {exc}"}
            out.append((task, outcome))
        return out

    def _serve_reports(self) -> None:
        """Answer each epoch's report (on this thread, so trials never wait for the main loop);
        ``close`` wakes it with ``None``."""
        distributed = _dask()
        while True:
            try:
                item = self._reports.get()
            except Exception:  # noqa: BLE001 - the client is closing
                return
            if item is None or self._stop.is_set():
                return
            key, epoch, value, ask = item
            task = self._running.get(key)
            prune = bool(self._decide(task, epoch, value)) if task is not None else True
            if ask:
                distributed.Queue(f"{self._name}-{key}", client=self.client).put([epoch, prune])

    def pid_of(self, task: TrialTask) -> int | None:
        keys = {f.key: t for f, t in self._futures.items()}
        for address, running in self.client.processing().items():
            if any(keys.get(k) is task for k in running):
                return self.client.run(os.getpid, workers=[address])[address]
        return None

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._reports.put(None)
            self._thread.join(timeout=5)
        if self._futures:
            self.client.cancel(list(self._futures))
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
