"""Corpora: recordings with label tracks on the 40 ms grid, their readers, and the synthetic corpus.

``load_corpus(path)`` reads a folder in the AVEC 2016 RECOLA layout or a ``.csv`` manifest;
``default_corpus()`` is the synthetic corpus tinyemo ships as its default data.
"""
from __future__ import annotations

from .avec2016 import read_avec2016, read_individual_ratings
from .corpus import Corpus, Recording
from .grid import FRAME_S
from .loading import load_corpus
from .manifest import read_manifest
from .synthetic import PRESETS, SynthConfig, default_corpus, default_corpus_path, generate

__all__ = ["Recording", "Corpus", "load_corpus", "read_avec2016", "read_manifest",
           "read_individual_ratings", "generate", "default_corpus", "default_corpus_path", "PRESETS",
           "SynthConfig", "FRAME_S"]
