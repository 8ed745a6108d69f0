"""The sweep's driver: Optuna's ask/tell loop over an executor, then the chosen settings
trained with ``runs`` seeds into an ordinary experiment folder, test scored once.

Optuna (``pip install 'tinyemo[sweep]'``) samples the settings (grid, random, TPE), decides
pruning from the dev CCC reported after each epoch (successive halving, Hyperband) and keeps
every trial in ``OUT/optuna.journal``. Only this process touches that file; workers report
through their executor. One study per target. Sampling for trial n is seeded with (seed, n), so
a resumed sweep draws what an uninterrupted one would.

    OUT/sweep.json          what defines the sweep (compared on --resume)
    OUT/space.toml          the space file as given
    OUT/optuna.journal      Optuna's storage: every trial, its settings, reports, outcome
    OUT/trials/<target>/<n>/  the trial's seeds (see objective.py)
    OUT/trials/<target>/defaults/  the defaults trial: what the choice must beat
    OUT/folds.json          with --selection-folds: each fold's recordings
    OUT/trials.csv, trials.md, best.json, best-<target>.toml, results.md  (report.py)
    OUT/final-<target>-trial<n>/   the chosen settings, ``runs`` seeds: a train output folder
    OUT/final-<target>-defaults/   with --final-defaults: the defaults' settings, the same seeds
"""
from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from tinyemo.data.examples import Example, check_targets
from tinyemo.data.fingerprint import warn_shared_audio
from tinyemo.models.config import ModelConfig
from tinyemo.sweep import report
from tinyemo.sweep.checks import check_memory, check_space
from tinyemo.sweep.executors import InProcess
from tinyemo.sweep.folder import JOURNAL, check_folder, lock_folder
from tinyemo.sweep.folds import fold_data, speaker_folds
from tinyemo.sweep.objective import DEFAULTS, TrialData, TrialTask
from tinyemo.sweep.search import optuna_notices, pruner_of, sampler_of
from tinyemo.sweep.space import Space
from tinyemo.train.loop import TrainConfig
from tinyemo.util.fileio import write_json, write_text

__all__ = ["SweepConfig", "run_sweep", "SAMPLERS", "PRUNERS", "CHOOSE", "FINAL_ON", "DEFAULTS"]

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("none", "halving", "hyperband")
CHOOSE = ("best", "simplest-within-1se")
FINAL_ON = ("train", "train+dev")


@dataclass(frozen=True)
class SweepConfig:
    """How to search ``space``: per target ``trials`` trials of ``seeds_per_trial`` seeds each,
    then the best settings trained with ``runs`` seeds (0: none) on ``final_on``: ``train``
    (early stopping on dev, the paper) or, with ``selection_folds``, ``train+dev`` (for the
    median over folds and seeds of the chosen trial's best epoch). ``final_defaults``: the
    defaults trial's settings trained the same way, and both compared on test. ``threads``: per
    trial."""

    space: Space
    targets: tuple[str, ...] = ("arousal", "valence")
    trials: int = 20
    sampler: str = "tpe"
    pruner: str = "none"
    prune_after: int | None = None
    choose: str = "best"
    selection_folds: int | None = None
    final_on: str = "train"
    final_defaults: bool = False
    seeds_per_trial: int = 3
    runs: int = 5
    seed: int = 0
    device: str = "cpu"
    threads: int | None = None

    def __post_init__(self):
        if self.sampler not in SAMPLERS:
            raise ValueError(f"--sampler must be one of {', '.join(SAMPLERS)}, got {self.sampler!r}")
        if self.pruner not in PRUNERS:
            raise ValueError(f"--pruner must be one of {', '.join(PRUNERS)}, got {self.pruner!r}")
        for name, value, least in (("--trials", self.trials, 1), ("--runs", self.runs, 0), ("--seed", self.seed, 0),
                                   ("--seeds-per-trial", self.seeds_per_trial, 1)):
            if value < least:
                raise ValueError(f"{name} must be >= {least}, got {value}")
        if not self.targets or len(set(self.targets)) != len(self.targets):
            raise ValueError(f"targets must be distinct and at least one, got {self.targets}")
        if self.choose not in CHOOSE:
            raise ValueError(f"--choose must be one of {', '.join(CHOOSE)}, got {self.choose!r}")
        if self.selection_folds is not None:
            if self.selection_folds < 2:
                raise ValueError(f"--selection-folds must be >= 2, got {self.selection_folds}")
        if self.final_on not in FINAL_ON:
            raise ValueError(f"--final-on must be one of {', '.join(FINAL_ON)}, "
                             f"got {self.final_on!r}")
        if self.final_defaults and not self.runs:
            raise ValueError("--final-defaults needs final runs (--runs >= 1)")
        if self.final_on == "train+dev" and not self.selection_folds:
            raise ValueError("--final-on train+dev needs --selection-folds: the folds give the "
                             "number of epochs to train for without a held-out dev")
        if self.prune_after is not None:
            if self.pruner == "none":
                raise ValueError("--prune-after needs a pruner (--pruner halving or hyperband)")
            if self.prune_after < 1:
                raise ValueError(f"--prune-after must be >= 1, got {self.prune_after}")
        check_space(self.space, self.targets, self.sampler)
        if self.sampler == "grid":
            self.space.grid()          # ValueError for a range a grid cannot walk

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(range(self.seed, self.seed + self.seeds_per_trial))

    def rung(self) -> int | None:
        """The first epoch at which a trial can be pruned (None without a pruner): --prune-after,
        or the space's patience (its smallest), never below 2: on a hard target the first
        epochs' dev CCC is noise, whatever the settings."""
        if self.pruner == "none":
            return None
        if self.prune_after is not None:
            return self.prune_after
        patience = [v for v in self.space.values_of("patience") if isinstance(v, (int, float))]
        return max(2, int(min(patience or [TrainConfig.patience])))

    def defaults(self) -> dict:
        """The defaults trial's settings: the space's fixed ones; every searched setting left
        to tinyemo train's default (a searched arch: the default one if among the choices)."""
        settings = self.space.fixed()
        archs = self.space.values_of("arch")
        if "arch" in self.space.varying:
            settings["arch"] = ModelConfig.arch if ModelConfig.arch in archs else archs[0]
        return settings

    def budget(self) -> int:
        """Trials per target (a grid: at most its size)."""
        if self.sampler != "grid":
            return self.trials
        return min(self.trials, self.space.grid_size())

    def identity(self, data_info: dict | None) -> dict:
        """What a resumed sweep must share with the saved one (``trials`` may grow)."""
        return json.loads(json.dumps({
            "space": self.space.to_dict(), "targets": list(self.targets), "sampler": self.sampler,
            "pruner": self.pruner, "prune_after": self.rung(),
            "selection_folds": self.selection_folds, "final_on": self.final_on,
            "seeds_per_trial": self.seeds_per_trial,
            "runs": self.runs, "seed": self.seed, "device": self.device,
            "data": {k: v for k, v in (data_info or {}).items()
                     if k in ("root", "recordings", "fingerprint")}}))


def _optuna():
    try:
        import optuna
    except ModuleNotFoundError:
        raise ValueError("tinyemo sweep needs Optuna: pip install 'tinyemo[sweep]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def run_sweep(examples: dict[str, Example], config: SweepConfig, out: Path, *, executor=None,
              data_info: dict | None = None, resume: bool = False,
              say: Callable[[str], None] = print, progress: bool = False,
              on_report: Callable | None = None, compared=()) -> dict:
    """Search ``config.space`` on ``examples`` (train partition to fit, dev to score; test is
    used only by the final runs) into ``out``, then train the best settings per target.
    ``executor``: where trials run (default: this process; the caller closes one it passes).
    ``on_report(task, epoch, value)`` sees every epoch's report. ``compared``: (name, results)
    of other run folders (``report.read_compared``) for ``results.md``. Returns the summary
    written to ``best.json``."""
    optuna = _optuna()
    out = Path(out)
    parts = {p: [ex for ex in examples.values() if ex.recording.partition == p] for p in ("train", "dev")}
    root = data_info.get("root") if data_info else None
    for target in config.targets:
        check_targets(parts["train"], target, "train", root)
        check_targets(parts["dev"], target, "dev", root)
    warn_shared_audio(ex.recording for ex in examples.values())
    check_memory(config.space, config.targets, [ex.x.shape[-1] for ex in examples.values()],
                 next(iter(examples.values())).x.shape[0])
    folds = []
    if config.selection_folds:
        folds = speaker_folds(parts["train"] + parts["dev"], config.selection_folds, config.seed)
    check_folder(out, config, data_info, resume)
    lock = contextlib.ExitStack()      # held until the sweep ends (closed in ``finally``)
    lock.enter_context(lock_folder(out))
    try:
        with optuna_notices(optuna):   # its warnings: one warning: line each
            if not (out / "sweep.json").exists() and Path(config.space.path).is_file():
                write_text(out / "space.toml", Path(config.space.path).read_text())
            write_json(out / "sweep.json", dict(config.identity(data_info), trials=config.budget()))
            executor = executor or _in_process()
            if folds:
                write_json(out / "folds.json", {f"fold{i}": ids for i, ids in enumerate(folds)})
            executor.start(TrialData(tuple(parts["train"]), tuple(parts["dev"]),
                                     fold_data(parts["train"] + parts["dev"], folds)))
            driver = _Driver(optuna, config, out, say, progress, on_report)
            start = time.perf_counter()
            driver.run(executor)
            defaults = driver.run_defaults(executor)
            if driver.interrupted:
                raise RuntimeError(f"{len(driver.interrupted)} trial(s) failed for a reason of "
                                   f"the system, not of their settings "
                                   f"({driver.interrupted[0]}); nothing was chosen: fix the "
                                   f"cause, then continue with --resume --out {out}")
            seconds = time.perf_counter() - start
            summary = report.choose(driver.studies(), config, out, examples, data_info, say,
                                    defaults)
            report.write_summary(out, config, driver.studies(), summary, seconds, compared)
            return summary
    finally:
        lock.close()


def _in_process():
    return InProcess()


class _Driver:
    """Asks Optuna for settings, hands trials to the executor, answers reports, tells outcomes."""

    def __init__(self, optuna, config: SweepConfig, out: Path, say, progress: bool, on_report):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock
        self.optuna, self.config, self.out, self.say, self.on_report = optuna, config, out, say, on_report
        journal = str(out / JOURNAL)
        self.storage = JournalStorage(JournalFileBackend(journal, JournalFileOpenLock(journal)))
        self.pruner = pruner_of(optuna, config)
        for target in config.targets:
            optuna.create_study(study_name=target, storage=self.storage, direction="maximize",
                                load_if_exists=True)
        self.lock = threading.Lock()
        self.live: dict[str, object] = {}          # task key -> optuna Trial
        self.reported: dict[str, set] = {}
        self.interrupted: list[str] = []          # trials an OS error stopped (see finish)
        self.bar = _bar(progress, len(config.targets) * config.budget())

    def study(self, target: str, sampler=None):
        return self.optuna.load_study(study_name=target, storage=self.storage,
                                      sampler=sampler, pruner=self.pruner)

    def studies(self) -> dict:
        return {t: self.study(t) for t in self.config.targets}

    def run(self, executor) -> None:
        from optuna.trial import TrialState
        queue = []
        for target in self.config.targets:        # trials a killed sweep left running
            study = self.study(target)
            for frozen in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
                queue.append(self._resume(study, target, frozen))
        done = sum(len(self.study(t).trials) for t in self.config.targets) - len(queue)
        self.bar.update(done)
        running = 0
        while True:
            submitted = False
            while running < executor.slots:
                task = queue.pop(0) if queue else self._ask()
                if task is None:
                    break
                executor.submit(task)
                running += 1
                submitted = True
            if running == 0:
                break
            if submitted:                          # trials.csv lists the running ones too
                report.write_trials(self.out, self.studies(), self.config)
            for task, outcome in executor.wait(self.decide):
                running -= 1
                self.finish(task, outcome)
        self.bar.close()

    def _task(self, target: str, number: int, settings: dict) -> TrialTask:
        folder = self.out / "trials" / target / f"{number:04d}"
        return TrialTask(target, number, settings, self.config.seeds, str(folder),
                         self.config.device, self.config.threads,
                         ask=self.config.pruner != "none")

    def _ask(self) -> TrialTask | None:
        """A new trial of the target with the most budget left, or None when all is spent."""
        left = {t: self.config.budget() - len(self.study(t).get_trials(deepcopy=False))
                for t in self.config.targets}
        target = max(self.config.targets, key=lambda t: left[t])
        if left[target] <= 0:
            return None
        number = self.config.budget() - left[target]
        study = self.study(target, sampler_of(self.optuna, self.config, number))
        with self.lock:
            trial = study.ask()
            settings = self.config.space.suggest(trial)
            self.live[f"{target}-{trial.number}"] = trial
        return self._task(target, trial.number, settings)

    def _resume(self, study, target: str, frozen) -> TrialTask:
        settings = {}
        for p in self.config.space.params:
            value = p.value if p.kind == "fixed" else frozen.params.get(p.name)
            settings[p.name] = json.loads(value) if p.as_list and p.kind == "choice" else value
        trial = self.optuna.trial.Trial(study, frozen._trial_id)
        key = f"{target}-{frozen.number}"
        self.live[key] = trial
        self.reported[key] = set(frozen.intermediate_values)
        return self._task(target, frozen.number, settings)

    def run_defaults(self, executor) -> dict[str, dict]:
        """Per target, the defaults trial (:meth:`SweepConfig.defaults`; never pruned, not one
        of Optuna's): the reference the chosen settings must beat by more than luck."""
        for target in self.config.targets:
            task = TrialTask(target, DEFAULTS, self.config.defaults(), self.config.seeds,
                             str(self.out / "trials" / target / "defaults"), self.config.device,
                             self.config.threads, ask=False)
            executor.submit(task)
        outcomes: dict[str, dict] = {}
        while len(outcomes) < len(self.config.targets):
            for task, outcome in executor.wait(self.decide):
                outcomes[task.target] = outcome
                self.say(report.trial_line(task, outcome, self.config.space))
        return outcomes

    def decide(self, task: TrialTask, epoch: int, value: float) -> bool:
        """A trial's report after ``epoch``: record it; True when the pruner stops the trial."""
        if task.number == DEFAULTS:
            return False
        with self.lock:
            trial = self.live.get(task.key)
            if trial is None:
                return True
            steps = self.reported.setdefault(task.key, set())
            if epoch not in steps:
                trial.report(value, epoch)
                steps.add(epoch)
            prune = trial.should_prune()
        if self.on_report is not None:
            self.on_report(task, epoch, value)
        return prune

    def finish(self, task: TrialTask, outcome: dict) -> None:
        from optuna.trial import TrialState
        with self.lock:
            trial = self.live.pop(task.key)
            steps = self.reported.pop(task.key, set())
            for epoch, value in outcome.get("reports", []):   # any report that came late
                if epoch not in steps:
                    trial.report(value, epoch)
                    steps.add(epoch)
            for key, value in {"message": "", "retry": False, **outcome}.items():
                if key not in ("status", "reports"):
                    trial.set_user_attr(key, value)
            status = outcome["status"]
            if outcome.get("retry"):           # left running in the storage: --resume reruns it
                self.interrupted.append(f"{task.target} trial {task.number}: {outcome['message']}")
            elif status == "complete":
                trial.study.tell(trial, outcome["dev_ccc_mean"])
            else:
                trial.study.tell(trial, state=TrialState.PRUNED if status == "pruned"
                                 else TrialState.FAIL)
        self.say(report.trial_line(task, outcome, self.config.space))
        report.write_trials(self.out, self.studies(), self.config)
        best = {t: s.best_value for t, s in self.studies().items() if _has_complete(s)}
        self.bar.set_postfix_str("  ".join(f"best {t} {v:.3f}" for t, v in best.items()))
        self.bar.update(1)


def _has_complete(study) -> bool:
    from optuna.trial import TrialState
    return bool(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


class _NoBar:
    def update(self, n=1):
        pass

    def set_postfix_str(self, s):
        pass

    def close(self):
        pass


def _bar(progress: bool, total: int):
    if not progress:
        return _NoBar()
    return tqdm(total=total, desc="sweep", unit="trial", leave=True)
