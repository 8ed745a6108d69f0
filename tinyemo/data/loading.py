"""``load_corpus``: a corpus from a path, whichever reader its form calls for."""
from __future__ import annotations

from pathlib import Path

from tinyemo.data.avec2016 import read_avec2016
from tinyemo.data.corpus import Corpus
from tinyemo.data.manifest import read_manifest

__all__ = ["load_corpus"]


def load_corpus(path: str | Path) -> Corpus:
    """Read a corpus: a folder in the AVEC 2016 layout, or a ``.csv`` manifest file."""
    path = Path(path)
    if path.is_dir():
        return read_avec2016(path)
    if path.is_file() and path.suffix.lower() == ".csv":
        return read_manifest(path)
    if not path.exists():
        raise ValueError(f"{path}: no such corpus folder or manifest file")
    raise ValueError(f"{path}: not a corpus: expected a folder in the AVEC 2016 layout or a "
                     f".csv manifest")
