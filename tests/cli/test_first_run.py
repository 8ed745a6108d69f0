"""The first run compiles Numba's kernels for ~25 s before anything shows: it says so (and
only when a kernel really compiles, not when Numba's cache has it), and generating the
synthetic corpus reports its progress."""
from __future__ import annotations

import importlib.util

import pytest

from tinyemo.util.compile_notice import MESSAGE, announce_compilation

SOURCE = '''
from numba import njit


@njit(cache=True)
def cached(x):
    return x + 1


@njit
def uncached(x):
    return x * 2
'''


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compiling_is_announced_once_and_a_cache_hit_is_not(tmp_path):
    path = tmp_path / "kernels_here.py"
    path.write_text(SOURCE)
    first = _load(path, "kernels_first")
    said: list[str] = []
    with announce_compilation(said.append):
        assert first.uncached(2) == 4       # a kernel Numba never caches: not "first run only"
        assert said == []
        assert first.cached(1) == 2 and first.cached(1.5) == 2.5   # two compilations
        assert said == [MESSAGE]
    assert len(said) == 2 and said[1].startswith("kernels compiled in ")
    assert said[1].endswith(" s; later runs load them from Numba's cache")
    # a later run: a fresh dispatcher finds the kernel in Numba's cache and compiles nothing
    later = _load(path, "kernels_later")
    said.clear()
    with announce_compilation(said.append):
        assert later.cached(1) == 2
    assert said == [] and sum(later.cached.stats.cache_hits.values()) == 1


@pytest.mark.slow
def test_generating_the_corpus_reports_each_recording_once_ready_nothing(tmp_path, monkeypatch):
    from tinyemo.data import PRESETS
    from tinyemo.data.cached import synthetic_corpus
    monkeypatch.setenv("TINYEMO_CACHE", str(tmp_path))
    calls: list[tuple[int, int]] = []
    path = synthetic_corpus("tiny", 3, progress=lambda done, total: calls.append((done, total)))
    total = len(PRESETS["tiny"].ids())
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    assert all(a[0] <= b[0] and a[1] == total for a, b in zip(calls, calls[1:]))
    assert len(list((path / "recordings_audio").glob("*.wav"))) == total
    assert path.name.startswith("tiny-seed3-")                  # -<generator fingerprint>
    assert not list(path.parent.glob(f".{path.name}.*"))        # no lock or temporary left
    calls.clear()
    assert synthetic_corpus("tiny", 3, progress=lambda *a: calls.append(a)) == path
    assert calls == []
