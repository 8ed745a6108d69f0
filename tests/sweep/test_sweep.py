"""``run_sweep`` in this process on tiny in-memory data: the scores it records against
independent recomputations, selection blind to test labels, failed and pruned trials, grids,
resume, and the guards on the sweep folder."""
from __future__ import annotations

import errno
import json
from pathlib import Path

import numpy as np
import optuna
import pytest

from tinyemo.data.examples import Example
from tinyemo.engine.checkpoint import load_checkpoint
from tinyemo.models.config import ModelConfig
from tinyemo.models.nets import build_model
from tinyemo.runs.ensemble import Ensemble
from tinyemo.sweep import SweepConfig, read_space, run_sweep
from tinyemo.train.loop import TrainConfig, predict_examples, train_run
from tinyemo.util.metrics import ccc

from tests.helpers.sweep import examples, read_trials, space_file

QUIET = dict(say=lambda s: None)


def _sweep(tmp_path, text=None, name="out", data=None, **kw):
    space = read_space(space_file(tmp_path, *(() if text is None else (text,)),
                                  name=f"{name}.toml"))
    cfg = SweepConfig(space, **{"trials": 3, "sampler": "random", "seeds_per_trial": 2,
                                "runs": 0, **kw})
    out = tmp_path / name
    return run_sweep(data or examples(), cfg, out, **QUIET), out, cfg


def _dev_train(data, target="arousal"):
    return ([e for e in data.values() if e.recording.partition == "train"],
            [e for e in data.values() if e.recording.partition == "dev"])


def test_trials_score_dev_as_independent_runs_do_and_the_best_is_trained(tmp_path):
    """Each seed of a trial (in lockstep, paused after every epoch, early stopping at its own
    epoch, the last one running on alone) equals one uninterrupted run of that seed."""
    text = ("depth = 2\nwidth = [4, 8]\nlr = { low = 1e-2, high = 2e-1, log = true }\n"
            "epochs = 6\npatience = 2\n")
    summary, out, cfg = _sweep(tmp_path, text, runs=2, targets=("arousal",))
    rows = read_trials(out)
    assert [r["trial"] for r in rows] == ["0", "1", "2"]
    assert all(r["status"] == "complete" for r in rows)
    train, dev = _dev_train(examples())
    stopped = []
    for r in rows:
        seeds = [float(v) for v in r["dev_ccc_seeds"].split(";")]
        assert float(r["dev_ccc_mean"]) == pytest.approx(np.mean(seeds), abs=1e-6)
        assert float(r["dev_ccc_std"]) == pytest.approx(np.std(seeds), abs=1e-6)
        # each seed, trained in lockstep with pauses, equals one uninterrupted run of it
        folder = out / "trials" / "arousal" / f"{int(r['trial']):04d}"
        settings = json.loads((folder / "result.json").read_text())["identity"]["settings"]
        assert float(r["lr"]) == pytest.approx(settings["lr"], rel=1e-7)
        mcfg = ModelConfig.for_arch("downup", "arousal", in_channels=6, depth=2, width=settings["width"])
        tcfg = TrainConfig(epochs=6, patience=2, lr=settings["lr"])
        preds = []
        for k, seed in enumerate((0, 1)):
            alone = train_run(mcfg, tcfg, train, dev, "arousal", seed,
                              tmp_path / f"alone{r['trial']}-{seed}", say=lambda s: None)
            assert seeds[k] == pytest.approx(alone["best_dev_ccc"], abs=1e-6)
            assert r["best_epochs"].split(";")[k] == str(alone["best_epoch"])
            assert r["epochs_trained"].split(";")[k] == str(alone["epochs"])
            stopped.append(alone["epochs"])
            model = build_model(mcfg)
            load_checkpoint(folder / f"seed{seed}" / "best.npz", model)
            preds.append(predict_examples(model, dev))
        ensemble = ccc(np.concatenate([(a + b) / 2 for a, b in zip(*preds)]),
                       np.concatenate([ex.y["arousal"] for ex in dev]))
        assert float(r["dev_ccc_ensemble"]) == pytest.approx(ensemble, abs=1e-5)
    assert min(stopped) < 6                       # early stopping happened somewhere
    best = max(rows, key=lambda r: float(r["dev_ccc_mean"]))
    chosen = summary["arousal"]
    assert chosen["trial"] == int(best["trial"])
    assert json.loads((out / "best.json").read_text())["arousal"]["trial"] == chosen["trial"]
    # the chosen settings as a space file of fixed values, and an ordinary experiment folder
    again = read_space(out / f"best-arousal.toml")
    assert again.varying == [] and again.fixed() == chosen["settings"]
    final = Path(chosen["final"]["folder"])
    assert final.name == f"final-arousal-trial{chosen['trial']}"
    assert Ensemble(final).targets == ["arousal"]
    results = json.loads((final / "results.json").read_text())
    assert {"dev", "test"} <= set(results["arousal"]) and len(results["arousal"]["runs"]) == 2
    assert "| arousal |" in (out / "results.md").read_text()
    assert "| 1 | " in (out / "trials.md").read_text()


def test_selection_never_reads_test_labels(tmp_path):
    """Test labels scrambled: every trial, the choice and the final dev scores are unchanged;
    only the final test score moves."""
    data = examples()
    rng = np.random.default_rng(5)
    scrambled = {k: Example(e.recording, e.x, {t: rng.standard_normal(len(y)).astype(np.float32)
                                                for t, y in e.y.items()})
                 if e.recording.partition == "test" else e for k, e in data.items()}
    a, out_a, _ = _sweep(tmp_path, name="a", data=data, runs=1, targets=("arousal",))
    b, out_b, _ = _sweep(tmp_path, name="b", data=scrambled, runs=1, targets=("arousal",))
    assert read_trials(out_a) == read_trials(out_b)
    assert a["arousal"]["settings"] == b["arousal"]["settings"]
    assert a["arousal"]["final"]["dev"] == b["arousal"]["final"]["dev"]
    assert a["arousal"]["final"]["test"]["ccc"] != b["arousal"]["final"]["test"]["ccc"]


def test_invalid_and_diverging_trials_fail_with_their_message_and_the_sweep_goes_on(tmp_path):
    # ReLU nets at lr 1e12 overflow to NaN (tanh ones stay bounded): a diverging trial; a list
    # of two kernels fits depth 2 but not 3: invalid in those trials only (so not refused)
    text = ("arch = 'downup'\nactivation = 'relu'\ndepth = [2, 3]\nwidth = 4\n"
            "kernel_size = [[3, 3], 3]\nlr = [3e-3, 1e12]\nepochs = 2\npatience = 2\n")
    _, out, _ = _sweep(tmp_path, text, sampler="grid", trials=10, targets=("arousal",))
    rows = {(r["depth"], r["kernel_size"], r["lr"]): r for r in read_trials(out)}
    assert len(rows) == 8
    for key, r in rows.items():
        if key[:2] == ("3", "3;3"):
            assert r["status"] == "failed"
            assert r["message"].startswith("invalid settings: kernel_size: a list needs")
        elif key[2] == "1e+12":
            assert r["status"] == "failed"
            assert r["message"].startswith("arousal, seed 0, epoch 1: training diverged (the "
                                           "training loss is nan")
        else:
            assert r["status"] == "complete"
    assert "failed: arousal, seed 0, epoch 1: training diverged" in (out / "trials.md").read_text()


def test_grid_visits_each_point_once(tmp_path):
    text = "depth = 2\nwidth = [4, 8]\nlr = [1e-3, 3e-3, 1e-2]\nepochs = 2\npatience = 2\n"
    _, out, cfg = _sweep(tmp_path, text, sampler="grid", trials=50, seeds_per_trial=1,
                         targets=("valence",))
    assert cfg.budget() == 6
    assert sorted((r["width"], r["lr"]) for r in read_trials(out)) == sorted(
        (w, lr) for w in ("4", "8") for lr in ("0.001", "0.003", "0.01"))


@pytest.mark.parametrize("seeds", [1, 2])
def test_pruned_trials_stop_early_and_reports_are_the_seeds_mean_best_so_far(tmp_path, seeds):
    """Every report (lockstep, or the last seed left running alone) is recomputed from the
    seeds' logs; early stopping (patience 2) and pruning both end seeds at their own epochs."""
    text = ("depth = 2\nwidth = 4\nlr = { low = 1e-5, high = 3e-2, log = true }\n"
            "epochs = 6\npatience = 2\n")
    _, out, _ = _sweep(tmp_path, text, trials=8, pruner="hyperband", seeds_per_trial=seeds,
                       targets=("arousal",))
    rows = read_trials(out)
    assert {r["status"] for r in rows} == {"complete", "pruned"}
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(
        str(out / "optuna.journal")))
    trials = optuna.load_study(study_name="arousal", storage=storage).trials
    for r, t in zip(rows, trials):
        folder = out / "trials" / "arousal" / f"{t.number:04d}"
        logs = [np.loadtxt(folder / f"seed{s}" / "log.csv", delimiter=",", skiprows=1, ndmin=2)
                for s in range(seeds)]
        for epoch, value in t.intermediate_values.items():
            expect = np.mean([log[:epoch, 2].max() for log in logs])
            assert value == pytest.approx(expect, abs=1e-6)
        trained = [int(e) for e in r["epochs_trained"].split(";")]
        assert trained == [len(log) for log in logs]
        assert sorted(t.intermediate_values) == list(range(1, max(trained) + 1))
        if r["status"] == "pruned":
            assert max(trained) < 6 and r["message"] == f"pruned after epoch {max(trained)}"
            assert not (folder / "seed0" / "checkpoint.npz").exists()
        else:
            for log, best in zip(logs, r["best_epochs"].split(";")):
                assert len(log) == 6 or len(log) - int(best) == 2   # budget or patience


def test_resume_continues_the_interrupted_trial_and_counts_each_once(tmp_path):
    _, whole, _ = _sweep(tmp_path, name="whole", targets=("arousal",))
    space = read_space(space_file(tmp_path, name="cut.toml"))
    cfg = SweepConfig(space, targets=("arousal",), trials=3, sampler="random", seeds_per_trial=2,
                      runs=0)
    out = tmp_path / "cut"

    def interrupt(task, epoch, value):
        if task.number == 1 and epoch == 2:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        run_sweep(examples(), cfg, out, on_report=interrupt, **QUIET)
    first = out / "trials" / "arousal" / "0000" / "result.json"
    stamp = first.stat().st_mtime_ns
    assert [r["status"] for r in read_trials(out)] == ["complete", "running"]
    seen = []
    with pytest.raises(ValueError, match="this folder already holds a sweep; pass --resume"):
        run_sweep(examples(), cfg, out, **QUIET)
    run_sweep(examples(), cfg, out, resume=True, on_report=lambda t, e, v: seen.append((t.number, e)),
              **QUIET)
    assert seen[0] == (1, 3)                       # trial 1 went on from its epoch-2 checkpoint
    assert first.stat().st_mtime_ns == stamp       # trial 0 was not run again
    rows = read_trials(out, drop=("seconds",))
    assert [r["trial"] for r in rows] == ["0", "1", "2"]
    assert [r["attempts"] for r in rows] == ["1", "2", "1"]
    assert read_trials(out) == read_trials(whole)


def test_resume_refuses_a_changed_sweep_and_writes_nothing(tmp_path):
    _, out, cfg = _sweep(tmp_path, targets=("arousal",))
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    changed = read_space(space_file(tmp_path, "arch = 'downup'\ndepth = 3\nwidth = [4, 8]\n"
                                    "lr = { low = 1e-3, high = 3e-2, log = true }\nepochs = 3\n",
                                    name="changed.toml"))
    with pytest.raises(ValueError, match=r"--resume with a changed sweep \(space: depth: 2 -> 3; "
                                         r"space: lr: .*-> \{\"low\": 0.001, \"high\": 0.03.*"
                                         r"space: patience removed; seeds_per_trial: 2 -> 3\)"):
        run_sweep(examples(), SweepConfig(changed, targets=("arousal",), trials=3,
                                          sampler="random", seeds_per_trial=3, runs=0),
                  out, resume=True, **QUIET)
    fewer = SweepConfig(cfg.space, targets=("arousal",), trials=2, sampler="random",
                        seeds_per_trial=2, runs=0)
    with pytest.raises(ValueError, match=r"sweep.json: --resume with --trials 2, fewer than the 3 "
                                         r"per target this sweep was started with; give "
                                         r"--trials 3 or more"):
        run_sweep(examples(), fewer, out, resume=True, **QUIET)
    with pytest.raises(ValueError, match="no sweep to resume here"):
        run_sweep(examples(), cfg, tmp_path / "elsewhere", resume=True, **QUIET)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="full: exists and is not an empty folder"):
        run_sweep(examples(), cfg, tmp_path / "full", **QUIET)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert not (tmp_path / "elsewhere").exists()


def test_bad_sweep_options_are_named():
    from tinyemo.sweep.space import Param, Space
    s = Space((Param("lr", "float", low=1e-4, high=1e-2, log=True),), "s.toml")
    for kw, msg in ((dict(sampler="bayes"), "--sampler must be one of tpe, random, grid"),
                    (dict(pruner="median"), "--pruner must be one of none, halving, hyperband"),
                    (dict(trials=0), "--trials must be >= 1"),
                    (dict(seeds_per_trial=0), "--seeds-per-trial must be >= 1"),
                    (dict(runs=-1), "--runs must be >= 0"),
                    (dict(sampler="grid"), "s.toml: lr: a grid search needs choices")):
        with pytest.raises(ValueError, match=msg):
            SweepConfig(s, **kw)


def test_a_trial_stopped_by_the_system_is_rerun_by_resume_and_one_failed_by_its_settings_not(
        tmp_path, monkeypatch):
    from tinyemo.sweep import objective
    _, whole, _ = _sweep(tmp_path, name="whole", targets=("arousal",))
    space = read_space(space_file(tmp_path, name="full.toml"))
    cfg = SweepConfig(space, targets=("arousal",), trials=3, sampler="random", seeds_per_trial=2,
                      runs=0)
    out = tmp_path / "full"
    real = objective.train_run

    def disk_full(*args, **kw):
        if "/0001/seed1" in str(args[6]):              # trial 1's second seed, once
            raise OSError(errno.ENOSPC, "No space left on device", str(args[6]))
        return real(*args, **kw)
    monkeypatch.setattr(objective, "train_run", disk_full)
    with pytest.raises(RuntimeError, match=r"1 trial\(s\) failed for a reason of the system, not "
                                           r"of their settings \(arousal trial 1: OSError: .*0001/"
                                           r"seed1: No space left on device\); nothing was "
                                           r"chosen: fix the cause, then continue with --resume"):
        run_sweep(examples(), cfg, out, **QUIET)
    rows = read_trials(out)
    assert [r["status"] for r in rows] == ["complete", "interrupted", "complete"]
    assert not (out / "best.json").exists()
    monkeypatch.setattr(objective, "train_run", real)
    run_sweep(examples(), cfg, out, resume=True, **QUIET)
    assert [r["attempts"] for r in read_trials(out, drop=("seconds",))] == ["1", "2", "1"]
    assert read_trials(out) == read_trials(whole)
    # a trial that failed for its settings (divergence) stays failed: --resume does not rerun it
    text = "activation = 'relu'\ndepth = 2\nwidth = 4\nlr = [3e-3, 1e12]\nepochs = 2\npatience = 2\n"
    _, bad, cfg = _sweep(tmp_path, text, name="bad", sampler="grid", targets=("arousal",))
    before = read_trials(bad, drop=("seconds",))
    assert sorted(r["status"] for r in before) == ["complete", "failed"]
    run_sweep(examples(), cfg, bad, resume=True, **QUIET)
    assert read_trials(bad, drop=("seconds",)) == before
