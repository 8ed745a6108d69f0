"""How much of a choice is luck: the bootstrap over dev recordings against a slow loop that
concatenates every draw, the one-standard-error rule, and a sweep's report of both against the
defaults trial."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tinyemo.models.config import ModelConfig
from tinyemo.models.nets import build_model
from tinyemo.sweep import SweepConfig, read_space, run_sweep
from tinyemo.sweep.luck import bootstrap, draws_of, save_predictions, simplest_within_1se
from tinyemo.sweep.objective import trial_configs
from tinyemo.util.metrics import ccc

from tests.helpers.sweep import examples, read_trials, slow_bootstrap, space_file


def test_the_bootstrap_is_the_slow_loop_over_concatenated_draws(tmp_path):
    rng = np.random.default_rng(0)
    labels = [rng.standard_normal(n).astype(np.float32) for n in (50, 80, 35, 120, 64)]
    per_seed = {s: [0.6 * y + rng.standard_normal(y.size).astype(np.float32) * (0.5 + 0.3 * s)
                    + 0.1 * s for y in labels] for s in (0, 1, 2)}
    save_predictions(tmp_path, per_seed, labels)
    boot = bootstrap(tmp_path, draws_of(len(labels), seed=7, draws=200))
    slow = slow_bootstrap(per_seed, labels, seed=7, draws=200)
    np.testing.assert_allclose(boot.draws, slow, rtol=0, atol=1e-9)
    full = np.mean([ccc(np.concatenate(p), np.concatenate(labels)) for p in per_seed.values()])
    assert boot.value == pytest.approx(full, abs=1e-12)
    assert boot.se == pytest.approx(np.std(slow), abs=1e-12)
    assert boot.interval == pytest.approx(tuple(np.percentile(slow, [2.5, 97.5])), abs=1e-12)
    # paired: the difference of two trials is taken draw by draw
    other = {s: [p + 0.5 * rng.standard_normal(p.size) for p in ps] for s, ps in per_seed.items()}
    save_predictions(tmp_path / "b", other, labels)
    b = bootstrap(tmp_path / "b", draws_of(len(labels), seed=7, draws=200))
    diff = slow - slow_bootstrap(other, labels, seed=7, draws=200)
    assert boot.minus(b) == pytest.approx((boot.value - b.value, *np.percentile(diff, [2.5, 97.5])),
                                          abs=1e-9)


def test_the_one_standard_error_rule():
    scored = [("a", 0.50, 900), ("b", 0.47, 300), ("c", 0.44, 100), ("d", 0.47, 300)]
    assert simplest_within_1se(scored, se=0.04) == "b"      # c is 0.06 below; b before d
    assert simplest_within_1se(scored, se=0.07) == "c"
    assert simplest_within_1se(scored, se=0.0) == "a"


@pytest.mark.slow
def test_a_sweep_reports_its_luck_and_chooses_the_simplest_within_one_se(tmp_path):
    text = "arch = 'downup'\ndepth = 2\nwidth = [4, 8, 16]\nlr = [3e-3, 1e-2]\nepochs = 3\npatience = 3\n"
    cfg = SweepConfig(read_space(space_file(tmp_path, text)), targets=("arousal",), trials=6,
                      sampler="grid", seeds_per_trial=2, runs=0, choose="simplest-within-1se")
    data = examples(n_dev=4)
    summary = run_sweep(data, cfg, tmp_path / "out", say=lambda s: None)["arousal"]
    luck = summary["luck"]
    rows = {int(r["trial"]): r for r in read_trials(tmp_path / "out") if r["status"] == "complete"}
    best = max(rows, key=lambda n: float(rows[n]["dev_ccc_mean"]))
    # recomputed apart: the trials within one bootstrap SE of the best, then the fewest weights
    weights = {n: build_model(trial_configs({"arch": "downup", "depth": 2, "width": int(r["width"]),
                                             "lr": float(r["lr"])}, "arousal", 6)[0]).num_parameters()
               for n, r in rows.items()}
    near = [n for n in rows if float(rows[n]["dev_ccc_mean"]) >= float(rows[best]["dev_ccc_mean"])
            - luck["best_se"]]
    expect = min(near, key=lambda n: (weights[n], -float(rows[n]["dev_ccc_mean"]), n))
    assert summary["trial"] == luck["chosen"]["trial"] == expect
    assert luck["draws"] == 1000 and luck["recordings"] == 4 and luck["best_se"] > 0
    assert luck["chosen"]["dev_ccc"] == pytest.approx(float(rows[expect]["dev_ccc_mean"]), abs=1e-5)
    low, high = luck["chosen"]["interval"]
    assert low < luck["chosen"]["dev_ccc"] < high
    assert luck["chosen"]["seed_std"] == pytest.approx(float(rows[expect]["dev_ccc_std"]), abs=1e-6)
    # the defaults trial: the space's fixed settings, width and lr at tinyemo train's defaults
    saved = json.loads((tmp_path / "out" / "trials" / "arousal" / "defaults" / "result.json")
                       .read_text())
    assert saved["identity"]["settings"] == {"arch": "downup", "depth": 2, "epochs": 3, "patience": 3}
    d = luck["defaults"]
    assert d["dev_ccc"] == pytest.approx(saved["outcome"]["dev_ccc_mean"], abs=1e-5)
    assert d["chosen_minus"][0] == pytest.approx(luck["chosen"]["dev_ccc"] - d["dev_ccc"])
    assert d["beaten"] == (d["chosen_minus"][1] > 0 and d["chosen_minus"][0] > max(
        d["seed_std"], luck["chosen"]["seed_std"]))
    text = (tmp_path / "out" / "results.md").read_text()
    assert "## How much is luck" in text and "1000 draws of the 4 dev recordings" in text
    assert f"| chosen | {expect} | {luck['chosen']['dev_ccc']:.3f} | {low:.3f} … {high:.3f} |" in text
    assert ("The chosen trial beats the defaults" if d["beaten"] else
            "The chosen trial does not beat the defaults") in text


@pytest.mark.slow
def test_final_defaults_trains_the_defaults_and_compares_both_on_test(tmp_path):
    # lr 1e-2 and 3e-2 learn in 3 epochs what the default 1e-3 does not: a searched trial wins
    text = "arch = 'downup'\ndepth = 2\nwidth = [4, 8]\nlr = [1e-2, 3e-2]\nepochs = 3\npatience = 3\n"
    cfg = SweepConfig(read_space(space_file(tmp_path, text)), targets=("arousal",), trials=4,
                      sampler="grid", seeds_per_trial=1, runs=2, final_defaults=True)
    data = examples(n_dev=3, n_test=5)
    out = tmp_path / "out"
    summary = run_sweep(data, cfg, out, say=lambda s: None)["arousal"]
    assert summary["trial"] != "defaults"
    final = summary["final"]
    a = final["against_defaults"]
    chosen, defaults = out / f"final-arousal-trial{summary['trial']}", out / "final-arousal-defaults"
    assert a["chosen"]["folder"] == str(chosen) and a["defaults"]["folder"] == str(defaults)
    # the defaults' final runs: the defaults trial's settings (width at tinyemo train's default),
    # the same seeds as the chosen settings' final runs
    saved_chosen = json.loads((chosen / "config.json").read_text())
    saved_defaults = json.loads((defaults / "config.json").read_text())
    assert saved_defaults["seeds"] == saved_chosen["seeds"] == [0, 1]
    assert saved_defaults["models"]["arousal"]["width"] == ModelConfig.width
    assert saved_chosen["models"]["arousal"]["width"] in (4, 8)
    assert saved_defaults["models"]["arousal"]["depth"] == saved_chosen["models"]["arousal"]["depth"] == 2
    # recomputed apart: each ensemble's test CCC over the 5 test recordings concatenated (from
    # its own results.json), and a slow bootstrap of the prediction files concatenating each draw
    results = {k: json.loads((f / "results.json").read_text())["arousal"]["test"]["ccc"]
               for k, f in (("chosen", chosen), ("defaults", defaults))}
    assert a["chosen"]["test_ccc"] == pytest.approx(results["chosen"], abs=1e-5)
    assert a["defaults"]["test_ccc"] == pytest.approx(results["defaults"], abs=1e-5)
    ids = sorted(data, key=lambda k: (len(k), k))
    ids = [k for k in ids if k.startswith("test")]
    labels = [data[k].y["arousal"] for k in ids]
    preds = {}
    for k, f in (("chosen", chosen), ("defaults", defaults)):
        preds[k] = [np.loadtxt(f / "predictions" / "test" / f"{i}.csv", delimiter=",",
                               skiprows=1)[:, 1] for i in ids]
    slow = {k: slow_bootstrap({0: p}, labels, seed=0, draws=1000) for k, p in preds.items()}
    assert a["chosen"]["interval"] == pytest.approx(np.percentile(slow["chosen"], [2.5, 97.5]),
                                                    abs=1e-4)
    diff = slow["chosen"] - slow["defaults"]
    d, low, high = a["chosen_minus"]
    assert d == pytest.approx(a["chosen"]["test_ccc"] - a["defaults"]["test_ccc"])
    assert (low, high) == pytest.approx(tuple(np.percentile(diff, [2.5, 97.5])), abs=1e-4)
    assert a["beaten"] == (low > 0) and a["recordings"] == 5
    assert "## The chosen settings against the defaults, on test" in (out / "results.md").read_text()


def test_final_defaults_needs_final_runs(tmp_path):
    with pytest.raises(ValueError, match="--final-defaults needs final runs"):
        SweepConfig(read_space(space_file(tmp_path, "arch = 'downup'\nwidth = [4, 8]\n")),
                    runs=0, final_defaults=True)


@pytest.mark.slow
def test_the_defaults_trial_competes_and_wins_when_nothing_searched_beats_it(tmp_path):
    """Searched learning rates too small to learn anything in 3 epochs: the defaults trial (lr
    1e-3) is the best on dev, so the sweep chooses it and trains the defaults' settings; there
    is nothing to compare them with on test."""
    text = "arch = 'downup'\ndepth = 2\nlr = [1e-7, 2e-7]\nepochs = 3\npatience = 3\n"
    cfg = SweepConfig(read_space(space_file(tmp_path, text)), targets=("arousal",), trials=2,
                      sampler="grid", seeds_per_trial=1, runs=1, final_defaults=True)
    out = tmp_path / "out"
    summary = run_sweep(examples(n_dev=3), cfg, out, say=lambda s: None)["arousal"]
    rows = [r for r in read_trials(out) if r["status"] == "complete"]
    saved = json.loads((out / "trials" / "arousal" / "defaults" / "result.json").read_text())
    assert saved["outcome"]["dev_ccc_mean"] > max(float(r["dev_ccc_mean"]) for r in rows)
    assert summary["trial"] == summary["luck"]["chosen"]["trial"] == "defaults"
    assert summary["settings"] == {"arch": "downup", "depth": 2, "epochs": 3, "patience": 3}
    assert summary["final"]["folder"] == str(out / "final-arousal-defaults")
    assert "against_defaults" not in summary["final"] and "defaults" not in summary["luck"]
    assert json.loads((out / "final-arousal-defaults" / "config.json").read_text())["train"]["lr"] == 1e-3
    assert "The chosen settings are the defaults" in (out / "results.md").read_text()
    assert (out / "best-arousal.toml").read_text().startswith("# the settings of arousal the "
                                                              "defaults trial")
