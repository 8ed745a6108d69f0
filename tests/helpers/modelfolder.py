"""Model folders for deployment tests without training: every seed × target built from the
architecture's defaults (small overrides allowed) with random weights everywhere (training
starts the output layer at zero, which would make every prediction 0 and every comparison
trivially pass), saved as ``tinyemo train`` saves them."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tinyemo.engine.checkpoint import save_checkpoint
from tinyemo.frontend import FbankOptions
from tinyemo.models.nets import build_model
from tinyemo.train.loop import BEST


def make_model_folder(out: Path, arch: str = "downup", targets=("arousal", "valence"),
                      seeds=(0, 1), scale: float = 1.0, sample_rate: int | None = 16000,
                      fbank: FbankOptions | None = None, features: str = "fbank",
                      **overrides) -> Path:
    from tinyemo.frontend.descriptors import feature_dims
    from tinyemo.runs.experiment import ExperimentConfig, run_record
    out = Path(out)
    fbank = fbank or FbankOptions()
    in_channels = 4 * feature_dims(features, fbank)
    experiment = ExperimentConfig(arch, tuple(targets), tuple(seeds), model=overrides,
                                  fbank=fbank, sample_rate=sample_rate, features=features)
    models = experiment.model_configs(in_channels)
    config = run_record(experiment, in_channels, {"root": "synthetic"} if sample_rate is None
                        else {"root": "synthetic", "sample_rate": sample_rate})
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(config))
    for target, cfg in models.items():
        for seed in seeds:
            model = build_model(cfg, seed=seed)
            rng = np.random.default_rng([seed, *target.encode()])
            state = {}
            for name, w in model.state_dict().items():
                if w.any():      # hidden layers keep their He-uniform start (signal survives)
                    state[name] = w
                    continue     # zero-initialised biases and output layer: random too
                fan_in = np.prod(w.shape[1:]) if w.ndim > 1 else 1
                std = scale / np.sqrt(fan_in) if w.ndim > 1 else 0.1 * scale
                state[name] = (std * rng.standard_normal(w.shape)).astype(np.float32)
            save_checkpoint(out / target / f"seed{seed}" / BEST, state, {"target": target})
    return out
