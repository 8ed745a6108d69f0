"""Optuna's side of a sweep: the sampler that draws each trial's settings, the pruner that
stops weak trials (from a :class:`~tinyemo.sweep.driver.SweepConfig`), and Optuna's warnings
turned into tinyemo's. Optuna is imported by the caller (it is optional) and passed in."""
from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from tinyemo.train.loop import TrainConfig
from tinyemo.util.notices import TinyemoWarning, warn

__all__ = ["sampler_of", "pruner_of", "optuna_notices"]

SWEEP = Path(__file__).resolve().parent


def sampler_of(optuna, config, number: int):
    """The sampler that draws trial ``number``: seeded with (seed, number); a grid walks its
    points in one order fixed by ``seed``."""
    if config.sampler == "grid":
        return _Grid(config.space.grid(), seed=config.seed)
    seed = int(np.random.SeedSequence([config.seed, number]).generate_state(1)[0])
    if config.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=max(2, min(10, config.budget() // 3)))


def pruner_of(optuna, config):
    """Successive halving or Hyperband whose first rung is ``config.rung()``: no trial is
    pruned before that epoch (Optuna's ``min_resource``)."""
    if config.pruner == "none":
        return optuna.pruners.NopPruner()
    if config.pruner == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=config.rung(), reduction_factor=3)
    epochs = [v for v in config.space.values_of("epochs") if isinstance(v, (int, float))]
    most = int(max(epochs or [TrainConfig.epochs]))
    return optuna.pruners.HyperbandPruner(min_resource=min(config.rung(), most),
                                          reduction_factor=3, max_resource=most)


def _grid_class():
    import optuna  # optional (tinyemo[sweep]): imported when a grid is first made

    class Grid(optuna.samplers.GridSampler):
        """Optuna's grid, without its end-of-grid ``study.stop()`` (which only works inside
        ``study.optimize``); the driver stops asking at the grid's size itself."""

        def after_trial(self, study, trial, state, values) -> None:
            pass
    return Grid


def _Grid(search_space, seed):  # noqa: N802 - a class made on first use (Optuna is optional)
    return _grid_class()(search_space, seed=seed)


@contextmanager
def optuna_notices(optuna):
    """Within it, each warning Optuna gives is one :func:`tinyemo.util.notices.warn` (the
    command line's ``warning:`` line) instead of its own output: its Python warnings (which
    ``optuna_warn`` attributes to Optuna's caller, here tinyemo.sweep, on Python 3.12+) and its
    logger's messages at WARNING and above (its ``[W …]`` lines)."""
    logger = optuna.logging.get_logger("optuna")
    handler = _LogToWarn(logging.WARNING)
    optuna_dir = Path(optuna.__file__).resolve().parent
    original = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        where = Path(filename).resolve()
        if not issubclass(category, TinyemoWarning) and (where.is_relative_to(optuna_dir)
                                                         or where.is_relative_to(SWEEP)):
            warn(f"Optuna: {message}")
        else:
            original(message, category, filename, lineno, file, line)
    handlers = list(logger.handlers)       # restored exactly, in order, afterwards
    optuna.logging.disable_default_handler()
    logger.addHandler(handler)
    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = original
        logger.handlers[:] = handlers


class _LogToWarn(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        warn(f"Optuna: {record.getMessage()}")
