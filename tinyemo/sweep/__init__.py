"""``tinyemo sweep``: model selection on the development partition (Optuna), in this process,
in local worker processes or on a Dask cluster.

    space.py      the search space (TOML) → settings of ModelConfig / TrainConfig
    checks.py     what a space is refused for before the first trial
    objective.py  one trial: settings × seeds (× folds), dev CCC (what a worker runs)
    folds.py      speaker-disjoint folds of train + dev (--selection-folds)
    executors.py  in-process and local worker processes; dask_executor.py: Dask distributed
    search.py     Optuna's samplers and pruners (--prune-after: the first rung)
    folder.py     the sweep folder's guards (resume, lock)
    driver.py     Optuna's ask/tell loop, resume, the defaults trial, then the chosen settings
                  trained for real
    luck.py       the bootstrap over dev recordings; choice.py: --choose and the luck report
    report.py     trials.csv, trials.md, best.json, best-<target>.toml, results.md
    features.py   feature extraction as one task per recording on the executor
    command.py    the command line

Importing this package imports neither Optuna nor Dask; the functions that need them do.
"""
from tinyemo.sweep.driver import PRUNERS, SAMPLERS, SweepConfig, run_sweep
from tinyemo.sweep.objective import TrialData, TrialTask, run_trial
from tinyemo.sweep.space import Space, read_space

__all__ = ["SweepConfig", "run_sweep", "read_space", "Space", "TrialTask", "TrialData",
           "run_trial", "SAMPLERS", "PRUNERS"]
