"""Front end: Kaldi-compatible log mel filterbanks, frame stacking, speaker z-normalisation
and an on-disk feature cache. Pure NumPy/SciPy."""
from __future__ import annotations

from .audio import read_audio
from .cache import FeatureCache, extract
from .filterbank import fbank
from .features import align_to_labels, speaker_normalise, stack_frames
from .options import FbankOptions

__all__ = ["fbank", "FbankOptions", "read_audio", "stack_frames", "align_to_labels",
           "speaker_normalise", "FeatureCache", "extract"]
