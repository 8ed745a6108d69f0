"""Warnings the library gives while it carries on (audio resampled, a cache that cannot be
written, ...). They are ordinary Python warnings of class :class:`TinyemoWarning`, so a
program may filter or record them; the command line prints each as one ``warning:`` line on
stderr."""
from __future__ import annotations

import warnings

__all__ = ["TinyemoWarning", "warn"]


class TinyemoWarning(UserWarning):
    """Something the user should know about a result that tinyemo computed anyway."""


def warn(message: str) -> None:
    warnings.warn(message, TinyemoWarning, stacklevel=3)
