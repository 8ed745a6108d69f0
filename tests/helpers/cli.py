"""Shared by the command-line tests: one tiny synthetic corpus and feature cache per test
process (generated once, seconds), and the smallest training command line."""
from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path

import pytest

_CACHE: list[Path] = []

# The smallest useful training: the tiny corpus, one small dilated net, one run, one epoch.
SMALL = ["--preset", "tiny", "--arch", "dilated", "--width", "4", "--depth", "2",
         "--target", "arousal", "--runs", "1", "--epochs", "1", "--quiet"]


def test_cache() -> Path:
    """A TINYEMO_CACHE folder for this test process, removed at exit."""
    if not _CACHE:
        _CACHE.append(Path(tempfile.mkdtemp(prefix="tinyemo-test-cache-")))
        atexit.register(shutil.rmtree, _CACHE[0], True)
    return _CACHE[0]


test_cache.__test__ = False   # not a test, despite its name


@pytest.fixture
def tiny(monkeypatch) -> Path:
    """TINYEMO_CACHE pointing at the shared test cache, holding the tiny corpus (seed 0);
    returns the corpus folder."""
    monkeypatch.setenv("TINYEMO_CACHE", str(test_cache()))
    from tinyemo.data.cached import synthetic_corpus
    return synthetic_corpus("tiny", 0)


def config_of(out: Path) -> dict:
    return json.loads((Path(out) / "config.json").read_text())


def files_of(folder: Path) -> dict[Path, bytes]:
    """Every file under ``folder`` with its bytes (to show nothing changed)."""
    return {p: p.read_bytes() for p in Path(folder).rglob("*") if p.is_file()}
