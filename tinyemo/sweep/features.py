"""Features for a sweep, extracted once, one task per recording on the sweep's executor (on a
cluster each worker reads the audio and keeps the log-mels in its own feature cache); the
driver then normalises, stacks and aligns them, and ships the examples to the workers once."""
from __future__ import annotations

from pathlib import Path

from ..pipeline import Example, examples_from_features

__all__ = ["load_examples_on"]


def _extract(audio: str):
    """One recording's (T10, 40) log-mels, from (or into) the feature cache where this runs."""
    from ..frontend.cache import extract
    return extract(audio)


def load_examples_on(executor, source: Path) -> tuple[dict[str, Example], dict]:
    """(examples, data_info) of the corpus at ``source``, as :func:`tinyemo.pipeline.
    load_examples` gives them, with the extraction spread over ``executor``."""
    from ..data.loading import load_corpus
    corpus = load_corpus(source)
    feats = executor.map(_extract, [str(rec.audio) for rec in corpus])
    examples = examples_from_features(corpus, {rec.id: f for rec, f in zip(corpus, feats)})
    return examples, {"root": str(source), "recordings": len(corpus)}
