"""Many files on a Dask distributed cluster (``pip install 'tinyemo[dask]'``), one task per
file: an existing cluster (``scheduler="tcp://HOST:8786"``, started with ``dask scheduler`` /
``dask worker``; the workers must see the audio files and the model folder at the same paths,
e.g. over NFS) or a LocalCluster started here (``local_workers=N``). What travels: the file's
path out, its track (a few hundred kB per hour of audio) back. Each worker loads the model once
and predicts one file at a time (tinyemo's ``no_grad`` switch is per process); the numbers are
those of one process."""
from __future__ import annotations

import logging
import re
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from tinyemo.util.runtime import available_cores, configure_process

__all__ = ["DaskCluster", "dask_available", "CONNECT_TIMEOUT_S"]

CONNECT_TIMEOUT_S = 5
WORKERS_TIMEOUT_S = 60
_ADDRESS = re.compile(r"^((tcp|tls|ws|wss|ucx|inproc)://)?[^\s:/]+:\d+$")

_MODELS: dict = {}                   # on a worker: (folder, device) → its loaded model
_ONE_FILE_PER_PROCESS = threading.Lock()


def _distributed():
    try:
        import distributed  # optional (tinyemo[dask]): only Dask runs need it
    except ImportError:
        raise RuntimeError("Dask runs need dask.distributed, which is not installed: "
                           "pip install 'tinyemo[dask]'") from None
    return distributed


def dask_available() -> None:
    """RuntimeError naming the extra when dask.distributed is not installed."""
    _distributed()


def _predict_on_worker(loader, folder: str, device: str, threads: int | None, path: str, dither):
    with _ONE_FILE_PER_PROCESS:
        key = (folder, device)
        if key not in _MODELS:
            configure_process(threads)
            _MODELS[key] = loader(Path(folder), device)
        return _MODELS[key].predict_file(path, dither=dither, resampling_warning=False)


@dataclass(frozen=True)
class DaskCluster:
    """Where the files go: ``scheduler`` (an address) or ``local_workers`` (a LocalCluster of
    that many single-threaded processes)."""
    scheduler: str | None = None
    local_workers: int | None = None

    def __post_init__(self):
        if (self.scheduler is None) == (self.local_workers is None):
            raise ValueError("give a Dask scheduler address or a number of local workers")
        if self.scheduler is not None and not _ADDRESS.match(self.scheduler):
            raise ValueError(f"scheduler {self.scheduler!r}: expected an address such as "
                             f"tcp://HOST:8786")
        if self.local_workers is not None and not (int(self.local_workers) == self.local_workers
                                                   and self.local_workers >= 1):
            raise ValueError(f"local Dask workers must be a whole number >= 1, got "
                             f"{self.local_workers!r}")

    def _client(self, distributed):
        if self.scheduler is None:
            cluster = distributed.LocalCluster(
                n_workers=int(self.local_workers), threads_per_worker=1, processes=True,
                protocol="tcp://", host="127.0.0.1", dashboard_address="127.0.0.1:0",
                silence_logs=logging.ERROR)
            return cluster, distributed.Client(cluster, set_as_default=False)
        try:
            client = distributed.Client(self.scheduler, timeout=CONNECT_TIMEOUT_S,
                                        set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"scheduler {self.scheduler}: no Dask scheduler answered within "
                             f"{CONNECT_TIMEOUT_S} s ({exc})") from None
        try:
            client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
        except (OSError, TimeoutError):
            client.close()
            raise ValueError(f"scheduler {self.scheduler}: no worker joined within "
                             f"{WORKERS_TIMEOUT_S} s; start some with `dask worker "
                             f"{self.scheduler}`") from None
        return None, client

    def predictions(self, model, files: list[str], dither=None, progress=None):
        """Yield (i, Prediction) for each of ``files`` as each is done."""
        distributed = _distributed()
        cluster, client = self._client(distributed)
        run = uuid.uuid4().hex[:8]
        try:
            # a LocalCluster's workers share this machine's cores; a remote worker keeps its own
            threads = (max(1, available_cores() // int(self.local_workers))
                       if self.scheduler is None else None)
            futures = {client.submit(_predict_on_worker, type(model), str(model.folder),
                                     model.device, threads, str(f), dither, pure=False,
                                     key=f"tinyemo-predict-{run}-{i}"): i
                       for i, f in enumerate(files)}
            finished = distributed.as_completed(futures, loop=client.loop)
            for done, future in enumerate(finished, 1):
                yield futures[future], future.result()
                if progress:
                    progress(done, len(files))
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
