"""Front end: Kaldi-compatible log mel filterbanks, frame stacking, speaker z-normalisation
and an on-disk feature cache. Pure NumPy/SciPy."""
from __future__ import annotations

from tinyemo.frontend.audio import read_audio
from tinyemo.frontend.cache import FeatureCache, extract
from tinyemo.frontend.features import align_to_labels, speaker_normalise, stack_frames
from tinyemo.frontend.filterbank import fbank
from tinyemo.frontend.options import FbankOptions

__all__ = ["fbank", "FbankOptions", "read_audio", "stack_frames", "align_to_labels",
           "speaker_normalise", "FeatureCache", "extract"]
