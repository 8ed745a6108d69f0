"""``tinyemo sweep``: model selection on the development partition (Optuna), in this process,
in local worker processes or on a Dask cluster.

    space.py      the search space (TOML) → settings of ModelConfig / TrainConfig
    objective.py  one trial: settings × seeds, dev CCC (what a worker runs)
    executors.py  in-process and local worker processes; dask_executor.py: Dask distributed
    driver.py     Optuna's ask/tell loop, resume, then the chosen settings trained for real
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
