"""One loader for every kind of saved model: a run folder of trained nets (``tinyemo train``)
or of a fitted baseline (``tinyemo baseline``) → :class:`Model`, whose methods are the same for
both; the kind-specific branch is here and nowhere else."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from tinyemo.baselines import BaselineModel
from tinyemo.data.corpus import Corpus, Recording
from tinyemo.data.examples import Example, prepare
from tinyemo.frontend import FbankOptions
from tinyemo.runs.ensemble import Ensemble
from tinyemo.runs.folder import CONFIG, is_baseline_config, read_config
from tinyemo.runs.predictions import write_predictions
from tinyemo.serve.longform import predict_files_long
from tinyemo.util.notices import warn

__all__ = ["Model", "load_model"]


class Model:
    """A saved model folder as one predictor. ``config`` (the folder's ``config.json``),
    ``name`` (the architecture or baseline kind), ``targets``, ``sample_rate`` (None: audio is
    used at its own rate); ``examples(corpus)`` computes the features it reads,
    ``predict(examples, target)`` → (ensemble mean per example, [per run]), and
    ``predict_files(audio, out)`` writes one CSV per file."""

    def __init__(self, folder: Path, device: str = "cpu"):
        self.folder = Path(folder)
        config = read_config(self.folder)     # every key checked: errors name the file and key
        self.predictor = (BaselineModel(self.folder) if is_baseline_config(config)
                          else Ensemble(self.folder, device))
        self.config = self.predictor.config
        self.is_baseline = isinstance(self.predictor, BaselineModel)

    @property
    def name(self) -> str:
        return self.config.get("arch") or self.config["baseline"]

    @property
    def targets(self) -> list[str]:
        return self.predictor.targets

    @property
    def sample_rate(self) -> int | None:
        return self.predictor.sample_rate

    @property
    def features(self) -> str:
        """The nets' inputs (``fbank``, ``lld``, ``fbank+lld``; folders saved before the
        setting: ``fbank``)."""
        return self.config.get("features", "fbank")

    def _known_rate(self) -> int | None:
        if self.sample_rate is None:
            warn(f"{self.folder / CONFIG} records no sample rate (saved by an older tinyemo): "
                 f"audio is used at its own rate")
        return self.sample_rate

    def examples(self, corpus: Corpus, progress=None,
                 dither: float | None = None) -> dict[str, Example]:
        """The model's input features for every recording of ``corpus``, by id; ``dither``:
        instead of the nets' fbank dither."""
        if self.is_baseline:
            return self.predictor.examples(corpus, progress)
        options = FbankOptions(**self.config.get("fbank", {}))
        if dither is not None:
            options = dataclasses.replace(options, dither=float(dither))
        return prepare(corpus, options, progress=progress,
                       sample_rate=self._known_rate(),
                       normalise=self.config.get("normalise", "speaker"),
                       features=self.features)

    def predict(self, examples: list[Example], target: str) -> tuple[list, list[list]]:
        return self.predictor.predict(examples, target)

    def predict_files(self, audio: list[Path], out: Path, progress=None,
                      dither: float | None = None) -> list[Path]:
        """``OUT/<stem>.csv`` for each audio file (see :func:`tinyemo.serve.predict.predict_files`)."""
        audio = [Path(a) for a in audio]
        stems = [a.stem for a in audio]
        if len(set(stems)) != len(stems):
            raise ValueError(f"two audio files share a name, their CSVs would collide: {stems}")
        # any length in bounded memory; openSMILE's descriptors only over whole signals here
        if not self.is_baseline and self.features == "fbank":
            return predict_files_long(self.predictor, audio, Path(out), dither=dither,
                                      sample_rate=self._known_rate(), progress=progress)
        corpus = Corpus([Recording(s, s, "predict", a) for s, a in zip(stems, audio)])
        examples = list(self.examples(corpus, progress, dither).values())
        by_target = {t: self.predict(examples, t)[0] for t in self.targets}
        write_predictions(Path(out), examples, by_target)
        return [Path(out) / f"{s}.csv" for s in stems]


def load_model(folder: Path, device: str = "cpu") -> Model:
    """The model saved in ``folder``: trained nets or a fitted baseline."""
    return Model(folder, device)
