"""One loader for every kind of saved model: a run folder of trained nets (``tinyemo train``)
or of a fitted baseline (``tinyemo baseline``) → :class:`Model`, whose methods are the same for
both; the kind-specific branch is here and nowhere else."""
from __future__ import annotations

import dataclasses
import math
import tempfile
from pathlib import Path

import numpy as np

from tinyemo.baselines import BaselineModel
from tinyemo.data.corpus import Corpus, Recording
from tinyemo.data.examples import Example, prepare, warn_resampling
from tinyemo.data.grid import FRAME_S
from tinyemo.frontend import FbankOptions
from tinyemo.frontend.audio import INT16_SCALE, read_audio
from tinyemo.frontend.blocks import BLOCK_SAMPLES, audio_blocks, audio_info
from tinyemo.runs.ensemble import Ensemble
from tinyemo.runs.folder import CONFIG, is_baseline_config, read_config
from tinyemo.serve import collection
from tinyemo.serve.longform import iter_block_predictions, iter_predictions
from tinyemo.serve.result import Prediction
from tinyemo.serve.streaming import model_options
from tinyemo.serve.windowed import ensemble_context, latency_seconds
from tinyemo.util.notices import warn

__all__ = ["Model", "load_model"]


class Model:
    """A saved model folder as one predictor. ``config`` (the folder's ``config.json``),
    ``name`` (the architecture or baseline kind), ``targets``, ``sample_rate`` (None: audio is
    used at its own rate), ``frame_period`` (0.04 s), ``latency``, ``corpus`` and ``settings``
    (what it was trained on and with).

    Data in, data out: :meth:`predict` (a signal in memory) and :meth:`predict_file` (a file or
    part of one, in bounded memory) → :class:`~tinyemo.serve.result.Prediction`;
    :meth:`process_files`, :meth:`process_folder`, :meth:`process_index` → one pandas
    DataFrame indexed by ``(file, start, end)`` (audformat's segmented index), per frame or per
    segment (``segments=``). Underneath: ``examples(corpus)`` computes the features it reads,
    ``predict_examples(examples, target)`` → (ensemble mean per example, [per run]), and
    ``predict_files(audio, out)`` writes one CSV per file."""

    frame_period = FRAME_S

    def __init__(self, folder: Path, device: str = "cpu"):
        self.folder, self.device = Path(folder), device
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

    @property
    def whole_files(self) -> bool:
        """Whether its features are computed over whole recordings (a baseline's windows),
        not block by block in bounded memory (nets, openSMILE's descriptors included)."""
        return self.is_baseline

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

    def predict_examples(self, examples: list[Example], target: str) -> tuple[list, list[list]]:
        return self.predictor.predict(examples, target)

    @property
    def latency(self) -> float:
        """Seconds from a frame's time stamp until streaming can give it (the nets' right-hand
        context and the front end's look-ahead); ``inf`` for a baseline or a recurrent net,
        which need the whole recording."""
        if self.whole_files or self.features != "fbank":   # streaming: log-mel nets only
            return math.inf
        options, stack = model_options(self.predictor)
        rate = self.sample_rate or 16000   # an older folder: the paper's rate
        return latency_seconds(ensemble_context(self.predictor.models), rate, options, stack)

    @property
    def corpus(self) -> dict:
        """The training corpus as recorded in the folder (``root``, ``sample_rate``, …)."""
        return dict(self.config.get("data", {}))

    @property
    def settings(self) -> dict:
        """The settings it was trained with (the folder's ``config.json``)."""
        return dict(self.config)

    def __repr__(self) -> str:
        return (f"Model({str(self.folder)!r}: {self.name}, {', '.join(self.targets)}, "
                f"{self.sample_rate or 'any'} Hz)")

    def predict(self, signal, sampling_rate: int, dither: float | None = None) -> Prediction:
        """The track of a signal in memory: (samples,) or (channels, samples) (channels are
        averaged), float in [-1, 1] (as soundfile reads audio) or int16. Normalised with its
        own statistics, as ``tinyemo predict`` does a file; resampled to the model's rate.
        ``dither``: instead of the front end's (nets only; 0 = the exported graph)."""
        samples = _signal(signal)
        rate = _rate(sampling_rate)
        duration = samples.size / rate
        if self.whole_files:
            return self._whole_signal(samples, rate, "signal", 0.0, dither)
        blocks = (samples[i:i + BLOCK_SAMPLES] for i in range(0, samples.size, BLOCK_SAMPLES))
        if self.sample_rate is not None:
            warn_resampling({"signal": rate}, int(self.sample_rate))
        columns, tables = iter_block_predictions(
            self.predictor, blocks, rate, name="signal", options=self._options(dither),
            sample_rate=self._known_rate())
        return _collect(columns, tables, duration, 0.0, None)

    def predict_file(self, path, start: float | None = None, end: float | None = None,
                     dither: float | None = None, resampling_warning: bool = True
                     ) -> Prediction:
        """The track of an audio file, or of its part from ``start`` to ``end`` seconds
        (predicted as a recording of its own: normalised with that part's statistics; times
        count from the file's start), in bounded memory for any length (nets).
        ``resampling_warning``: warn when the file is resampled (callers of many files warn once
        for all)."""
        path = Path(path)
        file_rate, total = audio_info(path)
        if resampling_warning:
            self.warn_resampled([path])
        first = 0 if start is None else round(float(start) * file_rate)
        stop = total if end is None else round(float(end) * file_rate)
        if not 0 <= first < stop <= total:
            raise ValueError(f"{path}: cannot predict from {start} to {end} s of a "
                             f"{total / file_rate:g} s file")
        offset, duration = first / file_rate, (stop - first) / file_rate
        if self.whole_files:
            if first == 0 and stop == total:
                return self._whole_file(path, duration, str(path), dither=dither)
            samples = read_audio(path)[0][first:stop]
            return self._whole_signal(samples, file_rate, str(path), offset, dither)
        columns, tables = iter_predictions(self.predictor, path, options=self._options(dither),
                                           sample_rate=self._known_rate(), start=first,
                                           stop=stop)
        return _collect(columns, tables, duration, offset, str(path))

    def process_files(self, files, *, segments=None, std: bool = False,
                      on_short: str = "error", num_workers: int = 1, progress=True,
                      dither: float | None = None, csv_out=None, cluster=None):
        """One DataFrame for ``files`` (see :mod:`tinyemo.serve.collection`). ``cluster``: a
        :class:`~tinyemo.serve.dask_files.DaskCluster` instead of ``num_workers``."""
        return collection.process_files(self, files, segments=segments, std=std,
                                        on_short=on_short, num_workers=num_workers,
                                        progress=progress, dither=dither, csv_out=csv_out,
                                        cluster=cluster)

    def process_folder(self, root, pattern: str = "**/*.wav", **kwargs):
        """:meth:`process_files` of the files under ``root`` matching ``pattern``, sorted."""
        return collection.process_files(self, collection.folder_files(root, pattern), **kwargs)

    def process_index(self, index, **kwargs):
        """:meth:`process_files` of an index: a DataFrame or CSV with a ``file`` column and,
        optionally, ``start`` and ``end`` (then one row per segment)."""
        return collection.process_index(self, index, **kwargs)

    def _options(self, dither: float | None) -> FbankOptions | None:
        """The nets' fbank options with ``dither`` (None for a baseline, whose features are
        its own)."""
        if dither is not None and not dither >= 0:
            raise ValueError(f"dither must be >= 0, got {dither!r}")
        if self.is_baseline:
            return None
        options = model_options(self.predictor)[0]
        return options if dither is None else dataclasses.replace(options, dither=float(dither))

    def _whole_file(self, path: Path, duration: float, name: str, offset: float = 0.0,
                    dither: float | None = None) -> Prediction:
        corpus = Corpus([Recording(path.stem, path.stem, "predict", path)])
        examples = list(self.examples(corpus, dither=dither).values())
        values = {t: self.predict_examples(examples, t)[0][0] for t in self.targets}
        return Prediction(values, duration, offset, name)

    def _whole_signal(self, samples: np.ndarray, rate: int, name: str, offset: float,
                      dither: float | None = None) -> Prediction:
        """Whole-recording features are read from files: the samples go through a temporary
        float WAV (exact)."""
        import soundfile as sf  # libsndfile loads on first use: import tinyemo stays light

        with tempfile.TemporaryDirectory(prefix="tinyemo-signal-") as tmp:
            wav = Path(tmp) / "signal.wav"
            sf.write(str(wav), samples / INT16_SCALE, rate, subtype="DOUBLE")
            return self._whole_file(wav, samples.size / rate, name, offset, dither)

    def predict_files(self, audio: list[Path], out: Path, progress=None,
                      dither: float | None = None, num_workers: int = 1,
                      skip_existing: bool = False, cluster=None) -> list[Path]:
        """One CSV per audio file (``tinyemo predict``'s format) under ``out``
        (:func:`~tinyemo.serve.collection.csv_paths`: ``OUT/<stem>.csv``, or the input tree
        mirrored when names collide), each written atomically as its file is done; every
        file's header is checked first. ``skip_existing``: files whose CSV is there are not
        predicted again. ``progress(done, total)`` per file. ``num_workers`` local processes
        or a Dask ``cluster``. Returns the CSV paths."""
        audio = [Path(a) for a in audio]
        paths = collection.csv_paths(audio, Path(out))
        collection.check_files(audio)
        self._options(dither)
        todo = [i for i, p in enumerate(paths) if not (skip_existing and p.is_file())]
        for i in todo:      # decoded once first: a broken file fails before any CSV is written
            for _ in audio_blocks(audio[i]):
                pass
        self.warn_resampled([audio[i] for i in todo])
        for i, prediction in collection.predict_many(self, [audio[i] for i in todo],
                                                     num_workers, dither, progress, cluster):
            prediction.to_csv(paths[todo[i]])
        return paths

    def warn_resampled(self, files) -> None:
        """One warning for the files at another rate than the model's (they are resampled)."""
        if self.sample_rate is not None and files:
            warn_resampling({Path(f).stem: audio_info(f)[0] for f in files}, int(self.sample_rate))


def load_model(folder: Path, device: str = "cpu") -> Model:
    """The model saved in ``folder``: trained nets or a fitted baseline."""
    return Model(folder, device)


def _signal(signal) -> np.ndarray:
    """(n,) float64 samples on the int16 scale; ValueError naming what is wrong."""
    x = np.asarray(signal)
    if x.ndim not in (1, 2):
        raise ValueError(f"signal must be 1-D (samples) or 2-D (channels, samples), got shape "
                         f"{x.shape}")
    if x.ndim == 2 and x.shape[0] > x.shape[1]:
        raise ValueError(f"signal of shape {x.shape}: give (channels, samples) (soundfile reads "
                         f"(samples, channels): pass its transpose)")
    if x.size == 0:
        raise ValueError(f"signal is empty (shape {x.shape})")
    if x.dtype == np.int16:
        x = x.astype(np.float64)
    elif np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64) * INT16_SCALE
    else:
        raise ValueError(f"signal must be float (in [-1, 1]) or int16, got {x.dtype}")
    if not np.isfinite(x).all():
        raise ValueError("signal has NaN or infinite samples")
    return np.ascontiguousarray(x.mean(axis=0) if x.ndim == 2 else x)


def _rate(sampling_rate) -> int:
    if (isinstance(sampling_rate, bool) or not isinstance(sampling_rate, (int, np.integer, float))
            or sampling_rate != int(sampling_rate) or sampling_rate < 1):
        raise ValueError(f"sampling_rate must be a positive whole number of Hz, got "
                         f"{sampling_rate!r}")
    return int(sampling_rate)


def _collect(columns, tables, duration: float, offset: float, name: str | None) -> Prediction:
    table = np.concatenate(list(tables))                    # (T, 1 + targets)
    return Prediction({t: table[:, j] for j, t in enumerate(columns[1:], 1)}, duration,
                      offset, name)
