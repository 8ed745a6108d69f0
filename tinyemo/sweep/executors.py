"""Where trials run: in this process, or in local worker processes (Dask: ``dask_executor``).

Every executor offers the same four calls to the sweep's driver::

    map(fn, items)        one task per item (feature extraction: one per recording), in order
    start(data)           ship the examples to the workers, once
    submit(task)          queue a trial
    wait(decide)          run until at least one trial ends; returns [(task, outcome)]

While a trial runs, its worker reports each epoch's dev CCC and asks whether to go on;
``decide(task, epoch, value) -> bool`` (True: prune) is the driver's answer, given wherever the
trial runs. Without a pruner (``task.ask`` false) the worker does not wait for the answer. ``slots`` is how many trials run at once. A worker process that dies mid-trial is
replaced and the trial restarted (it resumes from its checkpoints); after ``MAX_ATTEMPTS``
deaths on the same trial the trial is recorded as failed.
"""
from __future__ import annotations

import collections
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.connection import wait as wait_any

from tinyemo.sweep.objective import TrialData, TrialTask, run_trial
from tinyemo.util.runtime import configure_process

__all__ = ["InProcess", "LocalWorkers", "MAX_ATTEMPTS"]

MAX_ATTEMPTS = 3


class InProcess:
    """Trials one after another in this process."""

    slots = 1

    def __init__(self):
        self._queue: collections.deque = collections.deque()
        self._data: TrialData | None = None

    def map(self, fn, items) -> list:
        return [fn(item) for item in items]

    def start(self, data: TrialData) -> None:
        self._data = data

    def submit(self, task: TrialTask) -> None:
        self._queue.append(task)

    def wait(self, decide) -> list[tuple[TrialTask, dict]]:
        task = self._queue.popleft()
        return [(task, run_trial(task, self._data, lambda e, v: decide(task, e, v)))]

    def pid_of(self, task: TrialTask) -> int | None:
        return None

    def close(self) -> None:
        pass


def _worker_main(conn, threads: int | None) -> None:
    """A worker process: examples arrive once, then trials and calls until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # Ctrl-C is the driver's to handle
    parent = os.getppid()

    def follow_parent():                             # a driver killed outright takes us along
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)
    threading.Thread(target=follow_parent, daemon=True).start()
    configure_process(threads)
    data = None
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        kind = msg[0]
        if kind == "stop":
            return
        if kind == "data":
            data = msg[1]
        elif kind == "call":
            _, ident, fn, item = msg
            try:
                conn.send(("done", ident, fn(item)))
            except Exception as exc:  # noqa: BLE001 - reported to the driver as its error
                conn.send(("error", ident, str(exc) if isinstance(exc, ValueError)
                           else f"{type(exc).__name__}: {exc}"))
        elif kind == "trial":
            task = msg[1]

            def report(epoch, value, task=task):
                conn.send(("report", task.key, epoch, value, task.ask))
                return conn.recv()[1] if task.ask else False
            conn.send(("done", task.key, run_trial(task, data, report)))


class _Worker:
    def __init__(self, ctx, threads):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, threads), daemon=True)
        self.proc.start()
        child.close()
        self.job = None                 # (kind, ident, payload) being run


class LocalWorkers:
    """``workers`` processes on this machine, ``threads`` BLAS/Numba threads each (spawned, so
    nothing of the driver's state is inherited)."""

    def __init__(self, workers: int, threads: int | None = None):
        if workers < 1:
            raise ValueError(f"--workers must be >= 1, got {workers}")
        self.slots = workers
        self._threads = threads
        self._ctx = multiprocessing.get_context("spawn")
        self._workers: list[_Worker] = []
        self._pending: collections.deque = collections.deque()
        self._attempts: collections.Counter = collections.Counter()
        self._data = None

    def _ensure_workers(self) -> None:
        for worker in [w for w in self._workers if w.job is None and not w.proc.is_alive()]:
            self._workers.remove(worker)
        while len(self._workers) < self.slots:
            worker = _Worker(self._ctx, self._threads)
            if self._data is not None:
                worker.conn.send(("data", self._data))
            self._workers.append(worker)

    def map(self, fn, items) -> list:
        items = list(items)
        self._pending.extend(("call", i, (fn, item)) for i, item in enumerate(items))
        out: dict = {}
        while len(out) < len(items):
            for kind, ident, value in self._step(None):
                if kind == "error":
                    raise ValueError(value)
                out[ident] = value
        return [out[i] for i in range(len(items))]

    def start(self, data: TrialData) -> None:
        self._data = data
        self._ensure_workers()
        for worker in self._workers:
            worker.conn.send(("data", data))

    def submit(self, task: TrialTask) -> None:
        self._pending.append(("trial", task.key, task))

    def wait(self, decide) -> list[tuple[TrialTask, dict]]:
        while True:
            done = self._step(decide)
            if done:
                return [(task, outcome) for _, task, outcome in done]

    def pid_of(self, task: TrialTask) -> int | None:
        for w in self._workers:
            if w.job and w.job[0] == "trial" and w.job[1] == task.key:
                return w.proc.pid
        return None

    def _step(self, decide) -> list[tuple]:
        """Hand out pending jobs, then handle what the workers say or whether they died."""
        self._ensure_workers()
        finished = []
        for worker in list(self._workers):
            if worker.job is None and self._pending:
                worker.job = job = self._pending.popleft()
                try:
                    worker.conn.send(("trial", job[2]) if job[0] == "trial"
                                     else ("call", job[1], *job[2]))
                except OSError:
                    finished += self._replace(worker)
        busy = [w for w in self._workers if w.job is not None]
        if not busy:
            return finished
        ready = wait_any([w.conn for w in busy] + [w.proc.sentinel for w in busy])
        for worker in busy:
            if worker.conn in ready:
                try:
                    msg = worker.conn.recv()
                except (EOFError, OSError):
                    msg = None
                if msg is not None:
                    finished += self._handle(worker, msg, decide)
                    continue
            if worker.proc.sentinel in ready or not worker.proc.is_alive():
                finished += self._replace(worker)
        return finished

    def _handle(self, worker: _Worker, msg: tuple, decide) -> list[tuple]:
        kind = msg[0]
        if kind == "report":
            prune = bool(decide(worker.job[2], msg[2], msg[3]))
            try:
                if msg[4]:                   # the worker waits for the answer
                    worker.conn.send(("prune", prune))
            except OSError:              # it died meanwhile; its sentinel will say so
                pass
            return []
        job, worker.job = worker.job, None
        if job[0] == "trial":
            return [("trial", job[2], msg[2])]
        return [("error" if kind == "error" else "done", job[1], msg[2])]

    def _replace(self, worker: _Worker) -> list[tuple]:
        """A worker died: start another; restart its job, or give up on it after MAX_ATTEMPTS."""
        worker.proc.join(timeout=1)
        code = worker.proc.exitcode
        self._workers.remove(worker)
        worker.conn.close()
        job = worker.job
        if job is None:
            return []
        self._attempts[job[1]] += 1
        if self._attempts[job[1]] < MAX_ATTEMPTS:
            self._pending.appendleft(job)
            return []
        message = f"a worker process died {MAX_ATTEMPTS} times running it (exit code {code})"
        if job[0] == "trial":
            return [("trial", job[2], {"status": "failed", "message": message})]
        return [("error", job[1], f"recording {job[2][1]}: {message}")]

    def close(self) -> None:
        """Stop the workers; one still in a trial is killed (its checkpoints stay resumable)."""
        for worker in self._workers:
            if worker.job is not None:
                worker.proc.kill()
                continue
            try:
                worker.conn.send(("stop",))
            except OSError:
                pass
        for worker in self._workers:
            worker.proc.join(timeout=5)
            if worker.proc.is_alive():
                worker.proc.kill()
                worker.proc.join(timeout=5)
        self._workers.clear()
