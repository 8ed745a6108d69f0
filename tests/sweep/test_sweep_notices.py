"""Optuna's warnings during a sweep are tinyemo's: one ``warning:`` line each on the command
line, for its Python warnings and its logger's alike, and its own output is back afterwards."""
from __future__ import annotations

import argparse
from types import SimpleNamespace

import optuna
import pytest

from tinyemo.cli.boundary import run_command
from tinyemo.sweep.search import optuna_notices, sampler_of
from tinyemo.util.notices import TinyemoWarning

REPORTED = ("warning: Optuna: The reported value is ignored because this `step=1` is already "
            "reported.")
EXHAUSTED = ("warning: Optuna: `GridSampler` is re-evaluating a configuration because the grid "
             "has been exhausted. This may happen due to a timing issue during distributed "
             "optimization or when re-running optimizations on already finished studies.")


def _optuna_warns() -> None:
    """Two warnings Optuna really gives: a step reported twice (a Python warning) and a grid
    asked past its end (a message of its logger), as a resumed sweep's grid can be."""
    grid = SimpleNamespace(sampler="grid", seed=0, space=SimpleNamespace(grid=lambda: {"x": [1]}))
    study = optuna.create_study(sampler=sampler_of(optuna, grid, 0))      # the sweep's grid
    trial = study.ask()
    trial.suggest_int("x", 1, 1)
    trial.report(0.1, 1)
    trial.report(0.2, 1)
    study.tell(trial, 0.1)
    study.ask()


def test_optunas_warnings_become_one_warning_line_each(capsys):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    handlers = list(optuna.logging.get_logger("optuna").handlers)

    def command() -> int:
        with optuna_notices(optuna):
            _optuna_warns()
        return 0
    assert run_command(argparse.ArgumentParser(), command) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == [REPORTED, EXHAUSTED]
    # afterwards Optuna speaks for itself again: its own handlers, its own warning class
    assert optuna.logging.get_logger("optuna").handlers == handlers
    with pytest.warns(UserWarning, match="already reported") as caught:
        _optuna_warns()
    assert not any(issubclass(w.category, TinyemoWarning) for w in caught)
