"""The training settings in a run: best-of-budget selection, the plateau schedule in the log,
augmentation (seeded per seed, epoch and recording), a resumed run with all of them (and
dropout) on equal to an uninterrupted one, and the z-normalisation per speaker or per
recording."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from tinyemo.data import generate, load_corpus
from tinyemo.data.examples import prepare
from tinyemo.models.config import ModelConfig
from tinyemo.runs.experiment import ExperimentConfig, train_experiment
from tinyemo.train.augment import augment, step_rng
from tinyemo.train.loop import TrainConfig, train_run
from tinyemo.util.settings import SettingError

from tests.train.test_training import _examples, _split

CFG = ModelConfig.for_arch("dilated", "arousal", in_channels=8, width=4, depth=2)
QUIET = dict(say=lambda s: None)


def _log(run_dir):
    with open(run_dir / "log.csv") as f:
        return list(csv.DictReader(f))


def test_budget_selection_trains_every_epoch_and_keeps_the_best(tmp_path):
    train, dev = _split(_examples())
    common = dict(epochs=8, patience=1, lr=0.05)       # a large lr: dev CCC goes up and down
    patience = train_run(CFG, TrainConfig(**common), train, dev, "arousal", 0, tmp_path / "p",
                         **QUIET)
    budget = train_run(CFG, TrainConfig(**common, selection="budget"), train, dev, "arousal", 0,
                       tmp_path / "b", **QUIET)
    dev_ccc = [float(r["dev_ccc"]) for r in _log(tmp_path / "b")]
    assert patience["epochs"] < 8 and budget["epochs"] == len(dev_ccc) == 8
    assert budget["best_epoch"] == 1 + int(np.argmax(dev_ccc))
    assert budget["best_dev_ccc"] == max(dev_ccc)
    # the first epochs are the same run: patience stopped the same trajectory early
    assert [r["dev_ccc"] for r in _log(tmp_path / "p")] == \
        [r["dev_ccc"] for r in _log(tmp_path / "b")][:patience["epochs"]]


def _weights(path):
    with np.load(path) as f:
        return {k: f[k].copy() for k in f.files if k.startswith("param/")}


def test_fixed_selection_trains_every_epoch_without_dev_and_keeps_the_last(tmp_path):
    train, dev = _split(_examples())
    common = dict(epochs=5, patience=1, lr=0.05)
    fixed = train_run(CFG, TrainConfig(**common, selection="fixed"), train, [], "arousal", 0,
                      tmp_path / "f", **QUIET)
    assert fixed["epochs"] == fixed["best_epoch"] == 5
    assert all(r["dev_ccc"] == "nan" for r in _log(tmp_path / "f"))
    # the trajectory does not depend on dev: the kept weights are the last ones of a budget run
    budget = train_run(CFG, TrainConfig(**common, selection="budget"), train, dev, "arousal", 0,
                       tmp_path / "b", **QUIET)
    assert budget["epochs"] == 5
    kept, last = _weights(tmp_path / "f" / "best.npz"), _weights(tmp_path / "b" / "checkpoint.npz")
    assert kept.keys() == last.keys() and kept
    for name in kept:
        np.testing.assert_array_equal(kept[name], last[name])
    # a dev given is scored for the log, not used to choose
    train_run(CFG, TrainConfig(**common, selection="fixed"), train, dev, "arousal", 0,
              tmp_path / "fd", **QUIET)
    assert [r["dev_ccc"] for r in _log(tmp_path / "fd")] == \
        [r["dev_ccc"] for r in _log(tmp_path / "b")]
    for name, value in _weights(tmp_path / "fd" / "best.npz").items():
        np.testing.assert_array_equal(value, last[name])
    with pytest.raises(ValueError, match="arousal: no dev recordings to select epochs on; "
                                         "selection 'patience' needs them"):
        train_run(CFG, TrainConfig(**common), train, [], "arousal", 0, tmp_path / "p", **QUIET)
    assert not (tmp_path / "p").exists()
    with pytest.raises(SettingError, match="plateau follows the dev CCC"):
        TrainConfig(selection="fixed", lr_schedule="plateau")


def test_plateau_schedule_lowers_the_logged_rate(tmp_path):
    train, dev = _split(_examples())
    cfg = TrainConfig(epochs=8, patience=8, lr=0.05, lr_schedule="plateau", lr_patience=0,
                      lr_factor=0.5, min_lr=0.01)
    train_run(CFG, cfg, train, dev, "arousal", 0, tmp_path / "r", **QUIET)
    rows = _log(tmp_path / "r")
    lrs, scores = [float(r["lr"]) for r in rows], [float(r["dev_ccc"]) for r in rows]
    expected, best = [0.05], -np.inf
    for s in scores[:-1]:        # patience 0: halve after every epoch that is not a new best
        expected.append(expected[-1] if s > best else max(expected[-1] * 0.5, 0.01))
        best = max(best, s)
    np.testing.assert_allclose(lrs, expected)
    assert min(lrs) < 0.05


def test_augmentation_is_seeded_per_seed_epoch_and_recording():
    x = np.random.default_rng(0).standard_normal((3, 500)).astype(np.float32)
    a = augment(x, step_rng(1, 2, "train_1", 1), 0.5, 3, 2.0)
    b = augment(x, step_rng(1, 2, "train_1", 1), 0.5, 3, 2.0)
    np.testing.assert_array_equal(a, b)
    for other in (step_rng(2, 2, "train_1", 1), step_rng(1, 3, "train_1", 1),
                  step_rng(1, 2, "train_2", 1), step_rng(1, 2, "train_1", 2)):
        assert not np.array_equal(augment(x, other, 0.5, 3, 2.0), a)
    assert a.dtype == np.float32 and not np.shares_memory(a, x)
    masked = np.all(a == 0, axis=0)
    assert 0 < masked.sum() <= 3 * 50                  # 3 masks of at most 2 s = 50 frames
    noise = augment(x, step_rng(0, 1, "r", 1), 0.5)
    np.testing.assert_allclose(np.std(noise - x), 0.5, rtol=0.05)
    masks_only = augment(x, step_rng(0, 1, "r", 1), 0.0, 4, 1.0)
    changed = np.any(masks_only != x, axis=0)
    np.testing.assert_array_equal(masks_only[:, changed], 0)
    np.testing.assert_array_equal(masks_only[:, ~changed], x[:, ~changed])


AUGMENTED = TrainConfig(epochs=5, patience=5, lr=3e-3, input_noise=0.3, time_masks=2,
                        time_mask_seconds=1.0, lr_schedule="plateau", lr_patience=0,
                        clip_grad_norm=0.5, decoupled_weight_decay=0.01, l2=0.04)


def test_resume_with_every_training_setting_on_equals_an_uninterrupted_run(tmp_path):
    train, dev = _split(_examples())
    model = ModelConfig.for_arch("dilated", "arousal", in_channels=8, width=4, depth=2,
                                 input_average=0.2, dropout=0.2, dropout_mode="element")
    train_run(model, AUGMENTED, train, dev, "arousal", 3, tmp_path / "a", **QUIET)

    def interrupt_after_epoch_2(line):
        if "epoch   2" in line:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        train_run(model, AUGMENTED, train, dev, "arousal", 3, tmp_path / "b",
                  say=interrupt_after_epoch_2)
    train_run(model, AUGMENTED, train, dev, "arousal", 3, tmp_path / "b", resume=True, **QUIET)
    for name in ("checkpoint.npz", "best.npz"):
        with np.load(tmp_path / "a" / name) as a, np.load(tmp_path / "b" / name) as b:
            assert set(a.files) == set(b.files)
            for k in a.files:
                if k != "meta":
                    np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa
    assert strip(_log(tmp_path / "a")) == strip(_log(tmp_path / "b"))
    # and the augmentation and dropout are really there: without either the run ends elsewhere
    plain = TrainConfig(**{**AUGMENTED.__dict__, "input_noise": 0.0, "time_masks": 0})
    train_run(model, plain, train, dev, "arousal", 3, tmp_path / "c", **QUIET)
    no_dropout = ModelConfig(**{**model.to_dict(), "dropout": 0.0})
    train_run(no_dropout, AUGMENTED, train, dev, "arousal", 3, tmp_path / "d", **QUIET)
    for other in ("c", "d"):
        assert _log(tmp_path / "a")[-1]["train_loss"] != _log(tmp_path / other)[-1]["train_loss"]


@pytest.fixture(scope="module")
def shared_speaker_corpus(tmp_path_factory):
    """Four short recordings, two of them (train_1, train_2) by one speaker."""
    root = generate(tmp_path_factory.mktemp("corpus") / "c", "tiny", seed=5, n_train=2,
                    n_dev=1, n_test=1, duration_s=8.0, workers=1)
    (root / "speakers.csv").write_text("id,speaker\ntrain_1,anna\ntrain_2,anna\n")
    return root


def test_normalisation_per_speaker_or_per_recording(shared_speaker_corpus, tmp_path):
    corpus = load_corpus(shared_speaker_corpus)
    by_speaker = prepare(corpus, cache=False)
    by_recording = prepare(corpus, cache=False, normalise="recording")

    def bins(ex):        # (40 mel bins, all 10-ms frames of the recording)
        n = ex.x.shape[1]
        return ex.x.reshape(4, 40, n).transpose(1, 0, 2).reshape(40, -1)
    for rec_id in ("train_1", "train_2"):
        np.testing.assert_allclose(bins(by_recording[rec_id]).mean(axis=1), 0, atol=0.02)
        np.testing.assert_allclose(bins(by_recording[rec_id]).std(axis=1), 1, atol=0.02)
    pooled = np.concatenate([bins(by_speaker["train_1"]), bins(by_speaker["train_2"])], axis=1)
    np.testing.assert_allclose(pooled.mean(axis=1), 0, atol=0.02)
    assert np.abs(bins(by_speaker["train_1"]).mean(axis=1)).max() > 0.1   # not per recording
    np.testing.assert_allclose(by_speaker["dev_1"].x, by_recording["dev_1"].x, atol=1e-5)
    with pytest.raises(ValueError, match="normalise must be one of speaker, recording"):
        prepare(corpus, cache=False, normalise="corpus")
    examples = prepare(corpus, cache=False)
    config = ExperimentConfig("dilated", ("arousal",), (0,), TrainConfig(epochs=1),
                              {"width": 4, "depth": 2}, normalise="recording")
    with pytest.raises(ValueError, match="z-normalised per speaker, the configuration asks for "
                                         "per recording"):
        train_experiment(examples, config, tmp_path / "x",
                         data_info={"root": "c", "normalise": "speaker"}, **QUIET)
    assert not (tmp_path / "x").exists()
    with pytest.raises(ValueError, match="normalise: must be one of speaker, recording"):
        ExperimentConfig(normalise="global")
    with pytest.raises(ValueError, match=r"up_kernel_size: must be >= 3"):
        ExperimentConfig(model={"up_kernel_size": 1})
    listed = ExperimentConfig(model={"kernel_size": (5, 3, 3, 3)}).model_configs(8)["arousal"]
    assert ModelConfig(**json.loads(json.dumps(listed.to_dict()))) == listed   # config.json


def test_a_folder_saved_with_weight_decay_reads_as_l2(tmp_path):
    """Before ``l2`` had its name, config.json said ``weight_decay`` (the same L2): such a folder
    still predicts, and resumes with the same setting."""
    from tinyemo.runs.ensemble import Ensemble
    from tinyemo.runs.folder import read_config
    examples = {e.id: e for e in _examples()}
    config = ExperimentConfig("dilated", ("arousal",), (0,), TrainConfig(epochs=1, l2=0.03),
                              {"width": 4, "depth": 2})
    out = tmp_path / "old"
    train_experiment(examples, config, out, **QUIET)
    path = out / "config.json"
    path.write_text(path.read_text().replace('"l2": 0.03', '"weight_decay": 0.03'))
    assert '"weight_decay"' in path.read_text()
    assert read_config(out)["train"]["l2"] == 0.03
    assert len(Ensemble(out).predict([examples["dev_4"]], "arousal")[0][0]) == 243
    train_experiment(examples, config, out, resume=True, **QUIET)     # the same settings
