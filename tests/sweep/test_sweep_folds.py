"""Cross-validated selection (``--selection-folds K``): speaker-disjoint folds of train + dev,
each trial scored as independent runs on every fold score, the folds listed in the sweep
folder, the final runs on train with early stopping on dev or (``--final-on train+dev``) on
both for the folds' median best epoch, test never read before them, and the luck report's
bootstrap over the pooled held-out recordings."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tinyemo.data.corpus import Recording
from tinyemo.data.examples import Example
from tinyemo.models.config import ModelConfig
from tinyemo.sweep import SweepConfig, read_space, run_sweep
from tinyemo.engine.checkpoint import load_checkpoint
from tinyemo.models.nets import build_model
from tinyemo.runs import experiment
from tinyemo.sweep.folds import speaker_folds
from tinyemo.sweep.objective import trial_configs
from tinyemo.train.loop import TrainConfig, predict_examples, train_run
from tinyemo.util.metrics import ccc

from tests.helpers.sweep import ReadWatch, examples, read_trials, slow_bootstrap, space_file


def _speakers(lengths: dict[str, list[int]]) -> list[Example]:
    out = []
    for speaker, sizes in lengths.items():
        for j, t in enumerate(sizes):
            rec = Recording(f"{speaker}-{j}", speaker, "train" if j else "dev", f"/x/{speaker}-{j}.wav")
            out.append(Example(rec, np.zeros((2, t), np.float32), {}))
    return out


def test_folds_are_speaker_disjoint_cover_train_and_dev_once_and_balance_frames():
    data = _speakers({"a": [300, 100], "b": [200], "c": [150, 150], "d": [120], "e": [90, 20],
                      "f": [60]})
    folds = speaker_folds(data, 3, seed=0)
    ids = [i for f in folds for i in f]
    assert sorted(ids) == sorted(ex.recording.id for ex in data)          # each once
    speaker_of = {ex.recording.id: ex.recording.speaker for ex in data}
    held = [{speaker_of[i] for i in f} for f in folds]
    assert all(not (held[i] & held[j]) for i in range(3) for j in range(i + 1, 3))
    frames = {ex.recording.id: ex.x.shape[1] for ex in data}
    sizes = sorted(sum(frames[i] for i in f) for f in folds)
    # by hand, largest speaker first to the lightest fold: a 400, c 300, b 200, then d 120 to
    # b's fold (320), e 110 to c's (410), f 60 to b's (380)
    assert sizes == [380, 400, 410]
    assert speaker_folds(data, 3, seed=0) == folds                        # seeded
    with pytest.raises(ValueError, match=r"--selection-folds 7: train and dev hold 6 speakers; "
                                         r"give between 2 and 6 folds"):
        speaker_folds(data, 7, seed=0)


@pytest.mark.slow
def test_each_trial_is_scored_on_every_fold_as_independent_runs_and_test_is_not_read(tmp_path):
    text = "arch = 'downup'\ndepth = 2\nwidth = 4\nlr = [3e-3, 1e-2]\nepochs = 4\npatience = 2\n"
    data = examples(n_train=4, n_dev=2, n_test=2)
    cfg = SweepConfig(read_space(space_file(tmp_path, text)), targets=("arousal",), trials=2,
                      sampler="grid", seeds_per_trial=1, runs=1, selection_folds=3)
    summary = run_sweep(data, cfg, tmp_path / "out", say=lambda s: None)["arousal"]
    out = tmp_path / "out"
    folds = json.loads((out / "folds.json").read_text())
    held_out = [folds[f"fold{i}"] for i in range(3)]
    train_dev = [k for k, e in data.items() if e.recording.partition != "test"]
    assert sorted(i for f in held_out for i in f) == sorted(train_dev)
    rows = read_trials(out)
    assert [r["status"] for r in rows] == ["complete", "complete"]
    for r in rows:
        per_fold = []
        for i, held in enumerate(held_out):
            train = [data[k] for k in train_dev if k not in held]
            dev = [data[k] for k in held]
            alone = train_run(ModelConfig.for_arch("downup", "arousal", in_channels=6, depth=2,
                                                   width=4),
                              TrainConfig(epochs=4, patience=2, lr=float(r["lr"])), train, dev,
                              "arousal", 0, tmp_path / f"alone-{r['trial']}-{i}",
                              say=lambda s: None)
            per_fold.append(alone["best_dev_ccc"])
        assert [float(v) for v in r["dev_ccc_seeds"].split(";")] == pytest.approx(per_fold, abs=1e-6)
        assert float(r["dev_ccc_mean"]) == pytest.approx(np.mean(per_fold), abs=1e-6)
    # the final run trains on train, stopping on dev, and scores test once
    final = json.loads((out / f"final-arousal-trial{summary['trial']}" / "results.json")
                       .read_text())["arousal"]
    assert {"dev", "test"} <= set(final)
    assert "selection on 3 speaker-disjoint folds of train + dev" in (out / "results.md").read_text()
    # test labels scrambled: the same folds, trials and choice
    rng = np.random.default_rng(1)
    scrambled = {k: e if e.recording.partition != "test" else
                 Example(e.recording, e.x, {t: rng.standard_normal(len(y)).astype(np.float32)
                                            for t, y in e.y.items()}) for k, e in data.items()}
    again = run_sweep(scrambled, SweepConfig(cfg.space, targets=("arousal",), trials=2,
                                             sampler="grid", seeds_per_trial=1, runs=0,
                                             selection_folds=3), tmp_path / "b", say=lambda s: None)
    assert (tmp_path / "b" / "folds.json").read_text() == (out / "folds.json").read_text()
    assert read_trials(tmp_path / "b") == rows and again["arousal"]["trial"] == summary["trial"]


def _weights(path):
    with np.load(path) as f:
        return {k: f[k].copy() for k in f.files if k.startswith("param/")}


@pytest.mark.slow
def test_final_runs_on_train_and_dev_train_the_folds_median_best_epoch_and_resume(tmp_path,
                                                                                monkeypatch):
    text = "arch = 'downup'\ndepth = 2\nwidth = 4\nlr = [3e-3, 1e-2]\nepochs = 6\npatience = 2\n"
    out = tmp_path / "out"

    def final_started() -> bool:
        return any(out.glob("final-*/arousal/seed*/log.csv"))
    data = examples(n_train=4, n_dev=2, n_test=2)
    watched = {}
    for k, ex in data.items():
        if ex.recording.partition == "test":
            ex = Example(ex.recording, ex.x, ReadWatch(ex.y, final_started))
            watched[k] = ex
        data[k] = ex
    cfg = SweepConfig(read_space(space_file(tmp_path, text)), targets=("arousal",), trials=2,
                      sampler="grid", seeds_per_trial=2, runs=1, selection_folds=3,
                      final_on="train+dev")
    # the final run is interrupted after its second epoch, then the sweep is resumed
    real = experiment.train_run

    def interrupted(*args, **kwargs):
        def stop(state):
            if state.epoch == 2:
                raise KeyboardInterrupt
        return real(*args, **kwargs, on_epoch=stop)
    monkeypatch.setattr(experiment, "train_run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(data, cfg, out, say=lambda s: None)
    monkeypatch.setattr(experiment, "train_run", real)
    summary = run_sweep(data, cfg, out, resume=True, say=lambda s: None)["arousal"]
    # test labels were read only once the final runs had trained
    reads = [r for ex in watched.values() for r in ex.y.reads]
    assert reads and all(reads)
    # epochs: the median of the chosen trial's best epochs over 3 folds x 2 seeds, halves up
    best = sorted(summary["best_epochs"])
    assert len(best) == 6
    epochs = int((best[2] + best[3]) / 2 + 0.5)
    final = summary["final"]
    assert final["epochs"] == epochs and final["trained_on"] == "train+dev"
    # the final weights: a direct run of that many epochs on train + dev, no dev held out
    lr = float(next(r["lr"] for r in read_trials(out) if int(r["trial"]) == summary["trial"]))
    fit = [e for e in data.values() if e.recording.partition == "train"] + \
        [e for e in data.values() if e.recording.partition == "dev"]
    train_run(ModelConfig.for_arch("downup", "arousal", in_channels=6, depth=2, width=4),
              TrainConfig(epochs=epochs, patience=2, lr=lr, selection="fixed"), fit, [],
              "arousal", 0, tmp_path / "direct", say=lambda s: None)
    folder = out / f"final-arousal-trial{summary['trial']}"
    direct, kept = _weights(tmp_path / "direct" / "best.npz"), _weights(folder / "arousal" /
                                                                         "seed0" / "best.npz")
    assert direct.keys() == kept.keys() and direct
    for name in direct:
        np.testing.assert_array_equal(kept[name], direct[name])
    # dev is not held out: its scores are kept apart and the tables say n/a
    results = json.loads((folder / "results.json").read_text())["arousal"]
    assert "dev" not in results and {"dev_trained_on", "test", "train"} <= set(results)
    assert "dev" not in final and final["test"] == results["test"]
    assert json.loads((folder / "config.json").read_text())["train_on"] == "train+dev"
    assert "| n/a | n/a |" in (folder / "results.md").read_text()
    assert "| n/a (trained on) |" in (out / "results.md").read_text()
    # a resume of the finished sweep changes nothing; one with the paper's final is refused
    again = run_sweep(data, cfg, out, resume=True, say=lambda s: None)["arousal"]
    assert again["final"] == final
    paper = SweepConfig(cfg.space, targets=("arousal",), trials=2, sampler="grid",
                        seeds_per_trial=2, runs=1, selection_folds=3)
    with pytest.raises(ValueError, match="--resume with a changed sweep \\(final_on: "
                                         "'train\\+dev' -> 'train'\\)"):
        run_sweep(data, paper, out, resume=True, say=lambda s: None)


def test_final_on_train_and_dev_needs_folds(tmp_path):
    space = read_space(space_file(tmp_path, "arch = 'downup'\nlr = [1e-3, 1e-2]\n"))
    with pytest.raises(ValueError, match="--final-on train\\+dev needs --selection-folds"):
        SweepConfig(space, final_on="train+dev")
    with pytest.raises(ValueError, match="--final-on must be one of train, train\\+dev"):
        SweepConfig(space, selection_folds=3, final_on="dev")


@pytest.mark.slow
def test_with_folds_the_luck_is_a_bootstrap_of_the_pooled_held_out_recordings(tmp_path):
    text = ("arch = 'downup'\ndepth = 2\nwidth = [4, 8]\nlr = [3e-3, 1e-2]\nepochs = 3\n"
            "patience = 3\n")
    data = examples(n_train=4, n_dev=2, n_test=2)
    cfg = SweepConfig(read_space(space_file(tmp_path, text)), targets=("arousal",), trials=4,
                      sampler="grid", seeds_per_trial=2, runs=0, selection_folds=3,
                      choose="simplest-within-1se")
    out = tmp_path / "out"
    summary = run_sweep(data, cfg, out, say=lambda s: None)["arousal"]
    luck = summary["luck"]
    folds = json.loads((out / "folds.json").read_text())
    rows = {int(r["trial"]): r for r in read_trials(out) if r["status"] == "complete"}
    assert len(rows) == 4
    # the defaults trial competes too (width 32 and lr 1e-3: tinyemo train's defaults)
    outcome = json.loads((out / "trials" / "arousal" / "defaults" / "result.json").read_text())
    rows[-1] = {"dev_ccc_mean": outcome["outcome"]["dev_ccc_mean"], "width": 32, "lr": 1e-3}
    slow, weights = {}, {}
    for n, r in rows.items():              # each seed's best weights, predicted fold by fold
        settings = {"arch": "downup", "depth": 2, "width": int(r["width"]), "lr": float(r["lr"])}
        model_cfg = trial_configs(settings, "arousal", 6)[0]
        weights[n] = build_model(model_cfg).num_parameters()
        pooled, labels = {0: [], 1: []}, []
        folder = out / "trials" / "arousal" / ("defaults" if n < 0 else f"{n:04d}")
        for i in range(3):
            held = [data[k] for k in folds[f"fold{i}"]]
            labels += [ex.y["arousal"] for ex in held]
            for s in (0, 1):
                model = build_model(model_cfg)
                load_checkpoint(folder / f"fold{i}-seed{s}" / "best.npz", model)
                pooled[s] += predict_examples(model, held)
        slow[n] = (slow_bootstrap(pooled, labels, seed=0, draws=1000),
                   [ccc(np.concatenate(pooled[s]), np.concatenate(labels)) for s in (0, 1)])
    slow["defaults"] = slow[-1]
    assert luck["draws"] == 1000 and luck["recordings"] == 6 and luck["folds"] == 3
    best = max(rows, key=lambda n: (float(rows[n]["dev_ccc_mean"]), -n))
    assert luck["best_se"] == pytest.approx(np.std(slow[best][0]), abs=1e-6)
    near = [n for n in rows if float(rows[n]["dev_ccc_mean"]) >= float(rows[best]["dev_ccc_mean"])
            - luck["best_se"]]
    expect = min(near, key=lambda n: (weights[n], -float(rows[n]["dev_ccc_mean"]), n))
    assert summary["trial"] == luck["chosen"]["trial"] == (expect if expect >= 0 else "defaults")
    draws, per_seed = slow[expect]
    chosen = luck["chosen"]
    assert chosen["dev_ccc"] == pytest.approx(np.mean(per_seed), abs=1e-6)
    assert chosen["interval"] == pytest.approx(list(np.percentile(draws, [2.5, 97.5])), abs=1e-6)
    assert chosen["seed_std"] == pytest.approx(np.std(per_seed), abs=1e-6)
    runner_up = luck["runner_up"]
    assert runner_up["chosen_minus"][1:] == pytest.approx(
        list(np.percentile(draws - slow[runner_up["trial"]][0], [2.5, 97.5])), abs=1e-6)
    text = (out / "results.md").read_text()
    assert "1000 draws of the 6 held-out recordings" in text and "| held-out CCC |" in text
