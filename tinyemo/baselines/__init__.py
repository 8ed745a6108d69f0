"""The literature's baselines as tinyemo models (the rows the paper's Tables 1 and 2 beat):

- ``avec2016``: the AVEC 2016 audio baseline — eGeMAPS descriptors (openSMILE) summarised over
  a centred window, linear SVR, delay and bias/scale post-processing (:mod:`.avec2016`; needs
  ``pip install 'tinyemo[baselines]'``);
- ``windowed``: statistics of tinyemo's log-mels over centred windows of several lengths,
  ridge regression, in the manner of Povolny et al. (:mod:`.windowed`; no extra).

Both choose their settings on dev and write the run folder of ``tinyemo train``
(:mod:`.common`). Importing this package imports neither openSMILE nor scikit-learn.
"""
from __future__ import annotations

from tinyemo.baselines.common import (
    KINDS, BaselineModel, baseline_module, is_baseline_folder, train_baseline,
)

__all__ = ["KINDS", "train_baseline", "BaselineModel", "baseline_module", "is_baseline_folder"]
