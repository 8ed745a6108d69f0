"""What the tests share: the repository's folders, and (in the modules beside this one) the
gradient checks, model folders without training, the tiny corpus of the command-line tests,
the sweep tests' spaces and the baselines' slow references."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "testdata"    # real recordings and Kaldi outputs, with their licences
SPEECH = DATA / "speech"
