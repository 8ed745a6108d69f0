"""Corpora: recordings with label tracks on the 40 ms grid, their readers, and the synthetic corpus.

``load_corpus(path)`` reads a folder in the AVEC 2016 RECOLA layout or a ``.csv`` manifest;
``default_corpus()`` is the synthetic corpus tinyemo ships as its default data.
"""
from __future__ import annotations

from tinyemo.data.avec2016 import read_avec2016, read_individual_ratings
from tinyemo.data.corpus import Corpus, Recording
from tinyemo.data.grid import FRAME_S
from tinyemo.data.loading import load_corpus
from tinyemo.data.manifest import read_manifest
from tinyemo.data.synthetic import (
    PRESETS, SynthConfig, default_corpus, default_corpus_path, generate,
)

__all__ = ["Recording", "Corpus", "load_corpus", "read_avec2016", "read_manifest",
           "read_individual_ratings", "generate", "default_corpus", "default_corpus_path", "PRESETS",
           "SynthConfig", "FRAME_S"]
