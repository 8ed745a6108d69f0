"""Cross-validated selection (``--selection-folds K``): speaker-disjoint folds of train + dev,
each trial scored as independent runs on every fold score, the folds listed in the sweep
folder, the final runs on train with early stopping on dev, and test never read before them."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tinyemo.data.corpus import Recording
from tinyemo.data.examples import Example
from tinyemo.models.config import ModelConfig
from tinyemo.sweep import SweepConfig, read_space, run_sweep
from tinyemo.sweep.folds import speaker_folds
from tinyemo.train.loop import TrainConfig, train_run

from tests.helpers.sweep import examples, read_trials, space_file


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
