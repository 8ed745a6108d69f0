"""Figures and the paper's experiment scripts' shared plumbing: prediction plots (Figure 5),
:mod:`.paper` for ``scripts/fig*.py`` and ``scripts/tables.py``."""
