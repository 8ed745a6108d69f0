"""Pruning that waits for evidence: no trial is pruned before ``--prune-after`` (default: the
space's patience), on curves like valence's (noise about zero for the first epochs, then the
settings separate) and in a real sweep, whose completed trials score as in an unpruned one."""
from __future__ import annotations

import numpy as np
import optuna
import pytest

from tinyemo.sweep import SweepConfig, read_space, run_sweep
from tinyemo.sweep.search import pruner_of

from tests.helpers.sweep import examples, read_trials, space_file

optuna.logging.set_verbosity(optuna.logging.WARNING)
EPOCHS, FLAT = 12, 4          # dev CCC is noise about 0 for FLAT epochs, then rises


def _curves(n=12, seed=3):
    """Each trial's dev CCC per epoch (best so far, as the sweep reports): |noise| < 0.01 for
    the first FLAT epochs, then rising towards its own final quality."""
    rng = np.random.default_rng(seed)
    quality = np.append(rng.permutation(np.linspace(0.1, 0.55, n - 1)), 0.6)   # best: last
    noise = 0.003 * rng.standard_normal((n, EPOCHS))
    ramp = np.clip((np.arange(1, EPOCHS + 1) - FLAT) / 4, 0, 1)
    return quality, np.maximum.accumulate(noise + quality[:, None] * ramp, axis=1)


def _prune(pruner) -> dict[int, int]:
    """Trial -> the epoch it was pruned at (trials run one after another, as --workers 1; the
    study named as the sweep names it, since Hyperband picks brackets from the name)."""
    _, curves = _curves()
    study = optuna.create_study(study_name="valence", direction="maximize", pruner=pruner)
    pruned = {}
    for i, curve in enumerate(curves):
        trial = study.ask()
        for epoch, value in enumerate(curve, start=1):
            trial.report(float(value), epoch)
            if trial.should_prune():
                pruned[i] = epoch
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                break
        else:
            study.tell(trial, float(curve[-1]))
    return pruned


@pytest.mark.parametrize("kind", ["halving", "hyperband"])
def test_no_trial_is_pruned_before_the_rung_and_the_best_survive(tmp_path, kind):
    quality, _ = _curves()
    space = read_space(space_file(tmp_path, f"epochs = {EPOCHS}\npatience = {FLAT + 2}\n"))
    cfg = SweepConfig(space, pruner=kind)
    assert cfg.rung() == FLAT + 2
    pruned = _prune(pruner_of(optuna, cfg))
    assert pruned and min(pruned.values()) >= FLAT + 2
    best = int(np.argmax(quality))
    assert best not in pruned
    # the completed trials rank as their final qualities do (those of an unpruned run)
    done = [i for i in range(len(quality)) if i not in pruned]
    assert sorted(done, key=lambda i: -_curves()[1][i, -1]) == sorted(done, key=lambda i: -quality[i])
    # Optuna's default first rung (one epoch) prunes on noise: the best goes in the first rung
    early = _prune(optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
                   if kind == "halving" else
                   optuna.pruners.HyperbandPruner(min_resource=1, max_resource=EPOCHS,
                                                  reduction_factor=3))
    assert min(early.values()) < FLAT and best in early


@pytest.mark.slow
def test_a_pruned_sweep_prunes_after_the_rung_and_scores_its_completed_trials_as_unpruned(tmp_path):
    text = "depth = 2\nwidth = 4\nlr = { low = 1e-5, high = 3e-2, log = true }\nepochs = 6\npatience = 6\n"
    runs = {}
    for pruner, after in (("none", None), ("halving", 3)):
        space = read_space(space_file(tmp_path, text, name=f"{pruner}.toml"))
        cfg = SweepConfig(space, targets=("arousal",), trials=8, sampler="random",
                          seeds_per_trial=1, runs=0, pruner=pruner, prune_after=after)
        run_sweep(examples(), cfg, tmp_path / pruner, say=lambda s: None)
        runs[pruner] = read_trials(tmp_path / pruner)
    whole, cut = runs["none"], runs["halving"]
    assert [r["lr"] for r in whole] == [r["lr"] for r in cut]       # the same trials
    pruned = [r for r in cut if r["status"] == "pruned"]
    assert pruned and all(int(r["epochs_trained"]) >= 3 for r in pruned)
    for a, b in zip(whole, cut):
        if b["status"] == "complete":
            assert a["dev_ccc_mean"] == b["dev_ccc_mean"]
    best = max(whole, key=lambda r: float(r["dev_ccc_mean"]))
    assert cut[int(best["trial"])]["status"] == "complete"
