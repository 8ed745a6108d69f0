"""What a sweep refuses before its first trial: settings no trial can run, a setting the
architecture does not use, grids too large to list, a step that does not divide its range (one
warning), --prune-after without a pruner; and where pruning may start."""
from __future__ import annotations

import time
import warnings

import pytest

from tinyemo.sweep import SweepConfig, read_space
from tinyemo.sweep.checks import MAX_GRID
from tinyemo.util.notices import TinyemoWarning


def _config(tmp_path, text, **kw):
    path = tmp_path / "space.toml"
    path.write_text(text)
    return SweepConfig(read_space(path), **kw)


@pytest.mark.parametrize("text, message", [
    ('arch = "transformer"\n', r"space.toml: arch: unknown architecture 'transformer'; expected "
                               r"one of single, dilated, downup, blstm"),
    ('arch = ["downup", "rnn"]\n', r"arch: unknown architecture 'rnn'"),
    ("width = -3\n", r"space.toml: width: value -3 is invalid in every trial \(width: must be "
                     r">= 1, got -3\)"),
    ("lr = nan\n", r"space.toml: lr: value nan is invalid in every trial \(lr: must be a finite "
                   r"number, got nan\)"),
    ("lr = { low = -1.0, high = 1e-2 }\n", r"space.toml: lr: low end -1.0 is invalid in every "
                                           r"trial \(lr: must be > 0, got -1.0\)"),
    ("dropout = { low = 0.5, high = 1.5 }\n", r"dropout: high end 1.5 is invalid in every trial"),
    ('activation = ["relu", "sigmoid"]\n', r"space.toml: activation: choice 'sigmoid' is invalid "
                                           r"in every trial \(activation: must be one of"),
    ('arch = "dilated"\npool = [2, 3]\n', r"space.toml: pool: the dilated architecture does not "
                                          r"use it; remove it from the space"),
    ('arch = ["dilated", "downup"]\npool = [2, 3]\n', r"pool: the dilated architecture does not "
                                                      r"use it \(arch can be dilated, downup\)"),
    ('arch = "downup"\nkernel_size = [[3, 3, 3]]\ndepth = 4\n',
     r"kernel_size: choice \[3, 3, 3\] is invalid in every trial \(kernel_size: a list needs"),
    ("lr = 1e-3\nmin_lr = 1e-2\nlr_schedule = 'plateau'\n", r"is invalid in every trial \(min_lr: "
                                                            r"must not exceed lr"),
])
def test_settings_no_trial_can_run_are_refused_naming_them(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        _config(tmp_path, text)


def test_a_value_valid_with_some_other_choice_is_accepted(tmp_path):
    # a list of 3 kernels fits depth 3 (one trial in two); width 0 fits none
    _config(tmp_path, 'arch = "downup"\ndepth = [2, 3]\nkernel_size = [[3, 3, 3], 5]\n')
    _config(tmp_path, "lr = { low = 1e-5, high = 1e-1, log = true }\nwidth = { low = 1, high = 9 }\n")
    with pytest.raises(ValueError, match=r"width: choice 0 is invalid in every trial"):
        _config(tmp_path, "width = [0, 4]\ndepth = [1, 2]\n")


def test_a_grid_too_large_is_refused_at_once_with_its_size(tmp_path):
    start = time.monotonic()
    with pytest.raises(ValueError, match=r"space.toml: the grid has 99,999,997 points, more than "
                                         rf"the {MAX_GRID:,} a grid search lists; search it with "
                                         r"--sampler tpe --trials N"):
        _config(tmp_path, "width = { low = 4, high = 100000000 }\n", sampler="grid", trials=5)
    assert time.monotonic() - start < 5            # counted, never listed
    cfg = _config(tmp_path, "width = { low = 4, high = 100 }\nlr = [1e-3, 1e-2]\n", sampler="grid")
    assert cfg.space.grid_size() == 194 == len(cfg.space.grid()["width"]) * 2
    assert cfg.budget() == 20


def test_a_step_that_does_not_divide_its_range_is_one_warning(tmp_path):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        cfg = _config(tmp_path, "dropout = { low = 0.0, high = 0.5, step = 0.2 }\n"
                                "width = { low = 4, high = 11, step = 3 }\n", sampler="grid")
        grid = cfg.space.grid()
    assert [(w.category, str(w.message)) for w in seen] == [
        (TinyemoWarning, f"{tmp_path / 'space.toml'}: dropout: step 0.2 does not divide the range "
                         f"0.0 .. 0.5; the range ends at 0.4"),
        (TinyemoWarning, f"{tmp_path / 'space.toml'}: width: step 3 does not divide the range "
                         f"4 .. 11; the range ends at 10")]
    assert grid == {"dropout": [0.0, 0.2, 0.4], "width": [4, 7, 10]}


def test_prune_after_defaults_to_the_patience_never_below_two(tmp_path):
    assert _config(tmp_path, "patience = 6\n", pruner="halving").rung() == 6
    assert _config(tmp_path, "patience = [4, 8]\n", pruner="hyperband").rung() == 4
    assert _config(tmp_path, "patience = 1\n", pruner="halving").rung() == 2
    assert _config(tmp_path, "lr = 1e-3\n", pruner="halving").rung() == 10   # TrainConfig's
    assert _config(tmp_path, "patience = 1\n", pruner="halving", prune_after=1).rung() == 1
    assert _config(tmp_path, "patience = 6\n").rung() is None
    with pytest.raises(ValueError, match=r"--prune-after needs a pruner \(--pruner halving or "
                                         r"hyperband\)"):
        _config(tmp_path, "patience = 6\n", prune_after=3)
    with pytest.raises(ValueError, match=r"--prune-after must be >= 1, got 0"):
        _config(tmp_path, "patience = 6\n", pruner="halving", prune_after=0)
