"""Saying so when Numba compiles kernels, which the first run does for ~25 s before any
progress shows.

Numba announces every real compilation (a signature not found in its on-disk cache) as a
``numba:compile`` event (``numba.core.event``); loading a kernel from the cache raises none.
:func:`announce_compilation` listens for them: at the first compilation of a kernel that Numba
caches, it says "compiling kernels (first run only)…", and at the end of the block how long
compiling took.
Nothing is said when every kernel comes from the cache.
"""
from __future__ import annotations

import contextlib
import threading
import time
from typing import Callable, Iterator

__all__ = ["announce_compilation", "MESSAGE"]

MESSAGE = "compiling kernels (first run only)…"


@contextlib.contextmanager
def announce_compilation(say: Callable[[str], None]) -> Iterator[None]:
    """Within the block, report Numba compiling cached kernels through ``say``."""
    try:
        from numba.core import event  # numba loads with the first kernel: import tinyemo stays light
        from numba.core.caching import NullCache  # (as above)
    except ImportError:   # pragma: no cover - a Numba without the event API
        yield
        return
    listener = _Listener(event.Listener, NullCache, say)
    with event.install_listener("numba:compile", listener):
        yield
    if listener.count:
        say(f"kernels compiled in {listener.seconds:.0f} s; later runs load them from Numba's "
            f"cache")


def _Listener(base, null_cache, say):
    class Listener(base):
        """Counts outermost compilations of cached dispatchers and their time."""

        def __init__(self):
            self.count, self.seconds, self.depth, self.started = 0, 0.0, 0, 0.0
            self.lock = threading.Lock()

        def on_start(self, ev):
            dispatcher = (ev.data or {}).get("dispatcher")
            cached = not isinstance(getattr(dispatcher, "_cache", None), (null_cache, type(None)))
            with self.lock:
                if self.depth == 0:
                    if not cached:
                        return
                    if self.count == 0:
                        say(MESSAGE)
                    self.count += 1
                    self.started = time.perf_counter()
                self.depth += 1

        def on_end(self, ev):
            with self.lock:
                if self.depth == 0:
                    return
                self.depth -= 1
                if self.depth == 0:
                    self.seconds += time.perf_counter() - self.started

    return Listener()
