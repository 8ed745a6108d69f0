"""Streaming prediction: audio pushed in pieces of any size, arousal/valence rows returned as
soon as they are final.

    samples ─FbankStream─▶ 10-ms log-mels ─normalise─▶ ─stack 4─▶ rows ─WindowedEnsemble─▶ rows

Normalisation (the models were trained on speaker z-normalised log-mels):

- ``"profile"``: with a fixed speaker profile (``tinyemo.serve.profile.Profile``: enrolment audio or
  the training corpus). The streamed predictions then equal :func:`predict_offline` of the
  whole recording with that profile, for any split into chunks (to float32 rounding).
- ``"running"``: each 10-ms frame with the mean and standard deviation of every frame up to and
  including it; needs no enrolment, converges to per-recording normalisation as the speaker
  talks, and is also independent of the chunk sizes. The first seconds are less reliable.

Latency: an output is final once the frames of the model's right-hand context have arrived
(:func:`latency_seconds`: e.g. 8.1 s for the default down/up net), plus up to one chunk.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tinyemo.data import load_corpus
from tinyemo.data.examples import warn_resampling
from tinyemo.data.grid import FRAME_S, frames_for_duration
from tinyemo.engine import backend
from tinyemo.engine.autograd import Tensor, no_grad
from tinyemo.frontend import FbankOptions, align_to_labels, fbank, stack_frames
from tinyemo.frontend.blocks import audio_info
from tinyemo.frontend.descriptors import feature_dims
from tinyemo.frontend.fbank_stream import FbankStream
from tinyemo.frontend.features import MIN_STD, speaker_statistics
from tinyemo.frontend.filterbank import frame_geometry
from tinyemo.frontend.resampling import ResampleStream
from tinyemo.runs.ensemble import Ensemble
from tinyemo.serve.profile import Profile
from tinyemo.serve.windowed import MAX_WINDOW, FrameStacker, WindowedEnsemble, latency_seconds

__all__ = ["StreamPredictor", "RunningNormaliser", "predict_offline", "latency_seconds",
           "require_fbank_inputs",
           "model_sample_rate", "model_options", "STREAM_NORMALISATIONS"]

STREAM_NORMALISATIONS = ("profile", "running")


def model_options(ensemble: Ensemble) -> tuple[FbankOptions, int]:
    """The model's fbank options and how many 10-ms frames make one model input row."""
    opts = FbankOptions(**ensemble.config.get("fbank", {}))
    dims = feature_dims(ensemble.config.get("features", "fbank"), opts)
    in_channels = {m["in_channels"] for m in ensemble.config["models"].values()}.pop()
    if in_channels % dims:
        raise ValueError(f"model inputs of {in_channels} channels are not stacked {dims}-dim frames")
    return opts, in_channels // dims


def require_fbank_inputs(ensemble: Ensemble, what: str) -> None:
    """ValueError unless the model reads log-mels only: ``what`` (streaming, a waveform graph)
    computes the features as the audio comes, which is built for log-mels only (openSMILE's
    descriptors come block by block for long files, :mod:`tinyemo.serve.longform`, but not to
    a live stream; an ONNX graph cannot run openSMILE)."""
    features = ensemble.config.get("features", "fbank")
    if features != "fbank":
        raise ValueError(f"{what} is not available for a model with openSMILE descriptor "
                         f"inputs (features {features}); use tinyemo predict (files of any "
                         f"length), or export --features")


def model_sample_rate(ensemble: Ensemble) -> int | None:
    """The sample rate of the model's training audio: from its configuration when saved there,
    else from the header of the training corpus's first recording when it is still on disk."""
    cfg = ensemble.config
    for source in (cfg, cfg.get("data", {})):
        if source.get("sample_rate"):
            return int(source["sample_rate"])
    root = cfg.get("data", {}).get("root")
    if not root:
        return None
    try:
        return audio_info(next(iter(load_corpus(Path(root)))).audio)[0]
    except (ValueError, OSError, StopIteration):
        return None


class RunningNormaliser:
    """z-normalise each frame with the statistics of all frames so far, itself included
    (cumulative float64 sums, so the result does not depend on how frames are grouped)."""

    def __init__(self):
        self.count = 0
        self._s1: np.ndarray | float = 0.0
        self._s2: np.ndarray | float = 0.0

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        x = np.asarray(frames, dtype=np.float64)
        if x.shape[0] == 0:
            return x.astype(np.float32)
        c1 = self._s1 + np.cumsum(x, axis=0)
        c2 = self._s2 + np.cumsum(x * x, axis=0)
        n = (self.count + np.arange(1, x.shape[0] + 1))[:, None]
        mean = c1 / n
        std = np.sqrt(np.maximum(c2 / n - mean * mean, 0.0))
        std = np.where(std < MIN_STD, 1.0, std)
        self._s1, self._s2, self.count = c1[-1], c2[-1], self.count + x.shape[0]
        return ((x - mean) / std).astype(np.float32)


class StreamPredictor:
    """Predict a recording pushed in pieces (see the module docstring).

    model: a model folder (``tinyemo train --out``) or an :class:`Ensemble`. profile: a
    :class:`Profile` or the path of one (needed for ``normalisation="profile"``).
    sample_rate: of the pushed samples (default: the model's); samples at another rate than
    the model's are resampled to it (``frontend.audio.resample``, block by block), as
    ``tinyemo predict`` does. A profile must be at the model's rate.
    hop: run the nets once this many outputs are final (1: lowest latency). fbank_options:
    instead of the model's front end options (e.g. ``dither=0``). frames_only: the model's
    features come computed, through :meth:`push_frames` (long files; any ``features``).
    :meth:`push` takes samples on the int16 scale and returns the rows that became final,
    a (k, 1 + targets) float64 array with the columns :attr:`columns` (``time`` first);
    :meth:`flush` ends the recording and returns the rest.
    """

    def __init__(self, model, normalisation: str = "profile", profile=None, *,
                 sample_rate: int | None = None, device: str = "cpu", hop: int = 1,
                 max_window: int = MAX_WINDOW, fbank_options: FbankOptions | None = None,
                 name: str = "stream", frames_only: bool = False):
        ensemble = model if isinstance(model, Ensemble) else Ensemble(Path(model), device)
        if normalisation not in STREAM_NORMALISATIONS:
            raise ValueError(f"normalisation must be one of {STREAM_NORMALISATIONS}, got {normalisation!r}")
        if not frames_only:   # the features come through push_frames (long files: any kind)
            require_fbank_inputs(ensemble, "streaming")
        self.frames_only = frames_only
        opts, self.stack = model_options(ensemble)
        opts = fbank_options or opts
        model_rate = model_sample_rate(ensemble)
        self.input_rate = int(sample_rate or model_rate or 0)
        if not self.input_rate:
            raise ValueError(f"{name}: the model folder does not record its sample rate; "
                             "give sample_rate")
        rate = int(model_rate or self.input_rate)          # the front end's rate
        self.sample_rate, self.name = rate, name
        self._resample = None
        if rate != self.input_rate:                         # as predict: resampled to the model's
            warn_resampling({name: self.input_rate}, rate)  # with the same warnings
            self._resample = ResampleStream(self.input_rate, rate)
        self._input_samples = 0
        _, shift, _ = frame_geometry(rate, opts)
        if abs(self.stack * shift / rate - FRAME_S) > 1e-9:
            raise ValueError(f"{name}: {self.stack} frames of {shift} samples at {rate} Hz do not "
                             f"make one {FRAME_S * 1000:g} ms row")
        if normalisation == "profile":
            if profile is None:
                raise ValueError(f"{name}: normalisation 'profile' needs a speaker profile")
            profile = profile if isinstance(profile, Profile) else Profile.load(Path(profile))
            _check_profile(profile, opts, self.sample_rate,
                           feature_dims(ensemble.config.get("features", "fbank"), opts))
            self._normalise = profile.normalise
        else:
            self._normalise = RunningNormaliser()
        self.profile, self.normalisation = profile, normalisation
        self.targets = ensemble.targets
        self.columns = ("time", *self.targets)
        self._fbank = FbankStream(self.sample_rate, opts, name=name)
        self._stacker = FrameStacker(self.stack)
        self._nets = WindowedEnsemble(ensemble.models, ensemble.device, hop, max_window)
        self.context = self._nets.ctx
        self.latency_s = latency_seconds(self.context, self.sample_rate, opts, self.stack)
        self.emitted = 0
        self._flushed = False

    def push(self, samples) -> np.ndarray:
        if self._flushed:
            raise ValueError(f"{self.name}: push after flush")
        if self.frames_only:
            raise ValueError(f"{self.name}: this predictor takes features (push_frames)")
        samples = np.asarray(samples)
        if samples.ndim != 1:
            raise ValueError(f"{self.name}: samples must be 1-D, got shape {samples.shape}")
        self._input_samples += samples.size
        frames = self._fbank.push(self._resample.push(samples) if self._resample else samples)
        return self.push_frames(frames, frames_for_duration(self._input_samples / self.input_rate))

    def flush(self) -> np.ndarray:
        """End of the recording: every remaining row (ValueError if it was shorter than one
        frame)."""
        if self._flushed:
            return self._table(self._nets._empty())
        self._flushed = True
        frames = [self._fbank.push(self._resample.finish())] if self._resample else []
        frames = np.concatenate([*frames, self._fbank.finish()])
        return self.flush_frames(frames, frames_for_duration(self._input_samples / self.input_rate))

    def push_frames(self, frames: np.ndarray, rows_at_least: int) -> np.ndarray:
        """:meth:`push` from log-mel frames already computed (the next (n, D) frames of the
        recording); ``rows_at_least``: a lower bound on the recording's row count."""
        rows = self._stacker.push(self._normalise(frames), rows_at_least)
        return self._table(self._nets.push(rows))

    def flush_frames(self, frames: np.ndarray, rows: int) -> np.ndarray:
        """:meth:`flush` from the last log-mel frames; ``rows``: the recording's row count
        (``frames_for_duration`` of its length)."""
        self._flushed = True
        last = self._stacker.push(self._normalise(frames), rows)
        last = np.concatenate([last, self._stacker.finish(rows)])
        first = self._nets.push(last)
        rest = self._nets.finish()
        return self._table({t: np.concatenate([first[t], rest[t]]) for t in self.targets})

    def _table(self, out: dict[str, np.ndarray]) -> np.ndarray:
        k = out[self.targets[0]].shape[0]
        table = np.empty((k, len(self.columns)), np.float64)
        table[:, 0] = FRAME_S * np.arange(self.emitted, self.emitted + k)
        for j, target in enumerate(self.targets, 1):
            table[:, j] = out[target]
        self.emitted += k
        return table


def _check_profile(profile: Profile, opts: FbankOptions, rate: int, dims: int) -> None:
    where = profile.source or "speaker profile"
    if profile.mean.shape != (dims,):
        raise ValueError(f"{where}: profile has {profile.mean.shape[0]} dims, the model's front "
                         f"end {dims}")
    if profile.sample_rate != rate:
        raise ValueError(f"{where}: profile taken at {profile.sample_rate} Hz, audio is {rate} Hz")
    ignore = {"dither", "seed"}
    theirs = {k: v for k, v in profile.fbank.items() if k not in ignore}
    ours = {k: v for k, v in opts.to_dict().items() if k not in ignore}
    if theirs != ours:
        diff = sorted(k for k in ours if theirs.get(k) != ours[k])
        raise ValueError(f"{where}: profile computed with other fbank options ({', '.join(diff)})")


def predict_offline(model, samples: np.ndarray, sample_rate: int,
                    profile: Profile | None = None) -> dict[str, np.ndarray]:
    """The whole-recording computation the streamed and block-wise paths reproduce: fbank of
    all samples, z-normalised with ``profile`` (default: the recording's own statistics, as
    ``tinyemo predict`` does), stacked, aligned to the 40 ms grid, every model on the whole
    sequence, seeds averaged. Returns target → (T,) float32."""
    ensemble = model if isinstance(model, Ensemble) else Ensemble(Path(model))
    require_fbank_inputs(ensemble, "predict_offline (the streaming reference)")
    opts, stack = model_options(ensemble)
    feats = fbank(samples, sample_rate, options=opts)
    if profile is None:
        mean, std = speaker_statistics({0: feats}, {0: 0})[0]
        profile = Profile(mean, std, feats.shape[0], sample_rate, opts.to_dict())
    n = frames_for_duration(len(samples) / sample_rate)
    x = align_to_labels(stack_frames(profile.normalise(feats), stack), n, name="samples")
    xt = Tensor(backend.to_device(np.ascontiguousarray(x.T), ensemble.device))
    with no_grad():
        return {t: np.mean([m(xt).numpy().reshape(-1) for m in runs], axis=0)
                for t, runs in ensemble.models.items()}
