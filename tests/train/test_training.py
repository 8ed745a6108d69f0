"""The trainer on small in-memory data: learning, determinism, resume after an interruption,
checkpoint errors, and the guards on partitions and labels."""
from __future__ import annotations

import numpy as np
import pytest

from tinyemo.data.corpus import Recording
from tinyemo.data.examples import Example
from tinyemo.models.config import ModelConfig
from tinyemo.runs.ensemble import Ensemble
from tinyemo.runs.experiment import ExperimentConfig, train_experiment
from tinyemo.train.loop import TrainConfig, train_run


def _examples(n_train=4, n_dev=2, t=243, seed=0, c=8):
    """Features whose slow first channel drives the label, plus noise channels."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_train + n_dev):
        part = "train" if i < n_train else "dev"
        latent = np.convolve(rng.standard_normal(t + 40), np.ones(40) / 40, "valid")[:t]
        x = rng.standard_normal((c, t)).astype(np.float32)
        x[0] += 4 * latent
        rec = Recording(f"{part}_{i}", f"spk{i}", part, f"/nonexistent/{part}_{i}.wav")
        out.append(Example(rec, x, {"arousal": latent.astype(np.float32)}))
    return out


CFG = ModelConfig.for_arch("downup", "arousal", in_channels=8, width=8, depth=2)


def _split(examples):
    return ([e for e in examples if e.recording.partition == "train"],
            [e for e in examples if e.recording.partition == "dev"])


def test_training_lowers_the_loss_and_beats_a_constant_predictor(tmp_path):
    train, dev = _split(_examples())
    cfg = TrainConfig(epochs=25, patience=25, lr=3e-3)
    summary = train_run(CFG, cfg, train, dev, "arousal", 0, tmp_path / "run", say=lambda s: None)
    log = (tmp_path / "run" / "log.csv").read_text().splitlines()
    losses = [float(row.split(",")[1]) for row in log[1:]]
    assert len(losses) == 25 and losses[-1] < 0.5 * losses[0]
    assert summary["best_dev_ccc"] > 0.5          # a constant predictor scores 0


def test_resume_after_an_interruption_gives_the_same_weights(tmp_path):
    train, dev = _split(_examples())
    cfg = TrainConfig(epochs=6, patience=6, lr=3e-3)
    train_run(CFG, cfg, train, dev, "arousal", 3, tmp_path / "a", say=lambda s: None)

    def interrupt_after_epoch_3(line):
        if "epoch   3" in line:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        train_run(CFG, cfg, train, dev, "arousal", 3, tmp_path / "b", say=interrupt_after_epoch_3)
    with pytest.raises(ValueError, match="--resume"):   # nothing saved is overwritten silently
        train_run(CFG, cfg, train, dev, "arousal", 3, tmp_path / "b", say=lambda s: None)
    train_run(CFG, cfg, train, dev, "arousal", 3, tmp_path / "b", resume=True, say=lambda s: None)
    for name in ("checkpoint.npz", "best.npz"):
        with np.load(tmp_path / "a" / name) as a, np.load(tmp_path / "b" / name) as b:
            params = [k for k in a.files if k.startswith("param/")]
            assert params and set(a.files) == set(b.files)
            for k in params:
                np.testing.assert_array_equal(a[k], b[k])
    assert (tmp_path / "a" / "log.csv").read_text().count("\n") == 7


def test_corrupt_or_truncated_checkpoint_is_a_clear_error(tmp_path):
    train, dev = _split(_examples())
    cfg = TrainConfig(epochs=2, patience=2)
    train_run(CFG, cfg, train, dev, "arousal", 0, tmp_path / "run", say=lambda s: None)
    ckpt = tmp_path / "run" / "checkpoint.npz"
    data = ckpt.read_bytes()
    ckpt.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"checkpoint\.npz.*(corrupt|truncated)"):
        train_run(CFG, cfg, train, dev, "arousal", 0, tmp_path / "run", resume=True)


def test_a_checkpoint_from_another_configuration_is_refused(tmp_path):
    train, dev = _split(_examples())
    cfg = TrainConfig(epochs=2, patience=2)
    train_run(CFG, cfg, train, dev, "arousal", 0, tmp_path / "run", say=lambda s: None)
    other = ModelConfig.for_arch("downup", "arousal", in_channels=8, width=4, depth=2)
    with pytest.raises(ValueError, match=r"checkpoint\.npz: saved with a different identity"):
        train_run(other, cfg, train, dev, "arousal", 0, tmp_path / "run", resume=True)


def test_experiment_folder_and_its_guards(tmp_path):
    examples = {e.id: e for e in _examples()}
    cfg = TrainConfig(epochs=3, patience=3, lr=3e-3)
    out = tmp_path / "exp"
    config = ExperimentConfig("downup", ("arousal",), (0, 1), cfg, {"width": 8, "depth": 2})
    results = train_experiment(examples, config, out, say=lambda s: None)
    assert set(results["arousal"]) == {"runs", "train", "dev"}
    assert len(results["arousal"]["runs"]) == 2 and "ccc" in results["arousal"]["dev"]
    pred = (out / "predictions" / "dev" / "dev_4.csv").read_text().splitlines()
    assert pred[0] == "time,arousal,arousal_gold" and len(pred) == 1 + 243
    saved = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(ValueError, match=r"config\.json: this folder already holds"):
        train_experiment(examples, config, out)
    with pytest.raises(ValueError, match=r"config\.json: saved with another configuration"):
        train_experiment(examples, ExperimentConfig("downup", ("arousal",), (0, 1), cfg,
                                                    {"width": 4, "depth": 2}), out, resume=True)
    assert saved == {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}  # nothing lost
    mean, per_run = Ensemble(out).predict([examples["dev_4"]], "arousal")
    np.testing.assert_allclose(mean[0], (per_run[0][0] + per_run[1][0]) / 2, rtol=1e-6)


ONE_EPOCH = ExperimentConfig("downup", ("arousal",), (0,), TrainConfig(epochs=1))


def test_empty_partition_and_constant_labels_are_named(tmp_path):
    examples = _examples()
    only_train = {e.id: e for e in examples if e.recording.partition == "train"}
    with pytest.raises(ValueError, match="'dev' partition.* is empty"):
        train_experiment(only_train, ONE_EPOCH, tmp_path / "x")
    flat = examples[0]
    examples[0] = Example(flat.recording, flat.x, {"arousal": np.full(243, 0.2, np.float32)})
    with pytest.raises(ValueError, match=r"train_0\.wav: the arousal labels .* are constant"):
        train_experiment({e.id: e for e in examples}, ONE_EPOCH, tmp_path / "y")
    assert not (tmp_path / "y").exists()


def test_mse_loss_takes_a_prediction_and_a_flat_target():
    """The trainer's alternative loss: (1, T) predictions against a (T,) track."""
    from tinyemo.engine import functional as F
    from tinyemo.engine.autograd import Tensor
    rng = np.random.default_rng(0)
    p, t = rng.standard_normal((1, 50)), rng.standard_normal(50)
    prediction = Tensor(p, requires_grad=True)
    loss = F.mse_loss(prediction, t)
    loss.backward()
    assert loss.item() == pytest.approx(np.mean((p[0] - t) ** 2), rel=1e-12)
    np.testing.assert_allclose(prediction.grad, 2 * (p - t) / 50, rtol=1e-12)
    with pytest.raises(ValueError, match=r"prediction \(1, 50\) and target \(49,\) hold "
                                         r"different numbers of elements"):
        F.mse_loss(prediction, t[:-1])
