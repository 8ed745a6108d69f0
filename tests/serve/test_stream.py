"""Streaming prediction: with a fixed speaker profile the streamed rows equal the offline
prediction of the whole recording with that profile for any chunk sizes (1 sample, chunks
longer than the file); running normalisation against a per-frame NumPy reference; profiles
saved and loaded; ``tinyemo predict --stream`` and ``tinyemo profile`` on real speech."""
from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.helpers import SPEECH as _SPEECH_DIR
from tinyemo.data.grid import frames_for_duration
from tinyemo.frontend import FbankOptions, align_to_labels, fbank, read_audio, stack_frames
from tinyemo.frontend.features import MIN_STD, speaker_statistics
from tinyemo.runs.ensemble import Ensemble
from tinyemo.serve import windowed
from tinyemo.serve.profile import Profile
from tinyemo.serve.stream_pipe import predict_stream
from tinyemo.serve.streaming import StreamPredictor, predict_offline

from tests.helpers.modelfolder import make_model_folder

SPEECH = _SPEECH_DIR / "arctic_a0007.wav"
ATOL = 1e-5      # float32 rounding: the nets' GEMMs and the fbank's round differently per length
MAX_PUSHES = 200

# small variants of each architecture (context ≤ 25 rows): the speech (4 s = 101 rows) then
# spans several windows, and the down/up net several cells of its pooling grid (9 rows)
ARCHS = {"downup": {"depth": 2}, "downup4": {"depth": 2, "up_kernel_size": 4},
         "dilated": {"depth": 5}, "single": {"filter_length": 32},
         "downup_averaged": {"depth": 2, "input_average": 0.2, "dropout": 0.2}}


@pytest.fixture(scope="module")
def speech():
    wave, rate = read_audio(SPEECH)
    return wave, rate


@pytest.fixture(scope="module")
def ensembles(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {name: Ensemble(make_model_folder(root / name, name.split("_")[0].rstrip("4"), **kw))
            for name, kw in ARCHS.items()}


@pytest.fixture(scope="module")
def profile(speech):
    wave, rate = speech
    feats = fbank(wave[:24000], rate, options=FbankOptions())   # "enrolment": the first 1.5 s
    mean, std = speaker_statistics({0: feats}, {0: 0})[0]
    return Profile(mean, std, feats.shape[0], rate, FbankOptions().to_dict(), "enrolment")


def _stream(predictor, wave, sizes):
    parts, i, k = [], 0, 0
    while i < wave.size:
        n = sizes[k % len(sizes)] if k < MAX_PUSHES else wave.size - i
        parts.append(predictor.push(wave[i:i + n]))
        i, k = i + n, k + 1
    parts.append(predictor.flush())
    return np.concatenate(parts)


def _check(table, offline, targets):
    n = len(offline[targets[0]])
    assert table.shape == (n, 1 + len(targets))
    np.testing.assert_allclose(table[:, 0], 0.04 * np.arange(n))
    for j, target in enumerate(targets, 1):
        assert np.std(offline[target]) > 0.05          # a real signal, not a constant
        np.testing.assert_allclose(table[:, j], offline[target], rtol=0, atol=ATOL)


CHUNKS = st.lists(st.one_of(st.just(1), st.integers(2, 700), st.integers(700, 20000),
                            st.just(10 ** 6)), min_size=1, max_size=10)


@pytest.mark.parametrize("arch", list(ARCHS))
@settings(max_examples=8)
@given(sizes=CHUNKS, hop=st.sampled_from([1, 1, 7]))
@example(sizes=[1], hop=1)
@example(sizes=[10 ** 6], hop=1)
@example(sizes=[1, 639, 641, 10 ** 6], hop=1)
def test_profile_stream_equals_offline_for_any_chunks(ensembles, speech, profile, arch, sizes, hop):
    wave, rate = speech
    ensemble = ensembles[arch]
    offline = predict_offline(ensemble, wave, rate, profile)
    predictor = StreamPredictor(ensemble, "profile", profile, hop=hop, max_window=40)
    _check(_stream(predictor, wave, sizes), offline, ensemble.targets)


def test_misaligned_windows_would_differ(ensembles, speech, profile, monkeypatch):
    """The test above can fail: windows off the down/up pooling grid change the outputs."""
    wave, rate = speech
    ensemble = ensembles["downup"]
    offline = predict_offline(ensemble, wave, rate, profile)
    real = windowed.ensemble_context
    monkeypatch.setattr(windowed, "ensemble_context",
                        lambda models: windowed.Context(real(models).left, real(models).right, 1))
    table = _stream(StreamPredictor(ensemble, "profile", profile, max_window=40), wave, [640])
    assert np.abs(table[:, 1] - offline["arousal"]).max() > 1e-2


def test_default_downup_on_long_speech(tmp_path, speech, profile):
    """The paper's down/up nets (grid 81, context 201 rows) on 32 s of speech, rows emitted
    while audio still arrives, as soon as 201 rows after them are in."""
    wave, rate = speech
    wave = np.tile(wave, 8)
    ensemble = Ensemble(make_model_folder(tmp_path / "m", "downup", seeds=(0,)))
    offline = predict_offline(ensemble, wave, rate, profile)
    predictor = StreamPredictor(ensemble, "profile", profile)
    assert predictor.latency_s == pytest.approx(201 * 0.04 + 0.055)
    first = predictor.push(wave[:rate * 10])     # 10 s in: 998 frames, 249 whole rows
    assert first.shape[0] == (1 + (rate * 10 - 400) // 160) // 4 - 201
    _check(np.concatenate([first, _stream(predictor, wave[rate * 10:], [rate + 1])]), offline,
           ensemble.targets)


def _running_reference(ensemble, wave, rate):
    feats = fbank(wave, rate, options=FbankOptions()).astype(np.float64)
    normed = np.empty_like(feats)
    for i in range(feats.shape[0]):          # frame i: statistics of frames 0 … i
        mean, std = feats[:i + 1].mean(axis=0), feats[:i + 1].std(axis=0)
        normed[i] = (feats[i] - mean) / np.where(std < MIN_STD, 1.0, std)
    x = align_to_labels(stack_frames(normed.astype(np.float32), 4),
                        frames_for_duration(wave.size / rate), "speech")
    from tinyemo import Tensor, no_grad
    with no_grad():
        return {t: np.mean([m(Tensor(np.ascontiguousarray(x.T))).numpy().ravel() for m in runs], 0)
                for t, runs in ensemble.models.items()}


def test_running_normalisation(ensembles, speech):
    wave, rate = speech
    ensemble = ensembles["downup"]
    reference = _running_reference(ensemble, wave, rate)
    for sizes in ([1, 2, 3000], [10 ** 6], [640]):
        table = _stream(StreamPredictor(ensemble, "running"), wave, sizes)
        for j, target in enumerate(ensemble.targets, 1):
            np.testing.assert_allclose(table[:, j], reference[target], rtol=0, atol=1e-4)


def test_profile_file_round_trip_and_errors(tmp_path, ensembles, profile):
    path = tmp_path / "spk.npz"
    profile.save(path)
    loaded = Profile.load(path)
    np.testing.assert_array_equal(loaded.mean, profile.mean)
    np.testing.assert_array_equal(loaded.std, profile.std)
    assert (loaded.frames, loaded.sample_rate, loaded.fbank) == (profile.frames, 16000, profile.fbank)
    ensemble = ensembles["single"]
    with pytest.raises(ValueError, match="normalisation 'profile' needs a speaker profile"):
        StreamPredictor(ensemble, "profile")
    with pytest.raises(ValueError, match="profile taken at 8000 Hz, audio is 16000 Hz"):
        StreamPredictor(ensemble, "profile", Profile(profile.mean, profile.std, 1, 8000,
                                                     profile.fbank, "p"))
    other = dict(profile.fbank, low_freq=40.0)
    with pytest.raises(ValueError, match="other fbank options \\(low_freq\\)"):
        StreamPredictor(ensemble, "profile", Profile(profile.mean, profile.std, 1, 16000, other, "p"))
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="bad.npz: not a tinyemo speaker profile"):
        Profile.load(tmp_path / "bad.npz")
    predictor = StreamPredictor(ensemble, "running")
    with pytest.raises(ValueError, match="stream: audio is shorter than one frame"):
        predictor.flush()
    with pytest.raises(ValueError, match="push after flush"):
        predictor.push(np.zeros(10))


def test_predict_stream_from_wav_and_raw_pcm(ensembles, speech, profile, tmp_path):
    wave, rate = speech
    ensemble = ensembles["dilated"]
    offline = predict_offline(ensemble, wave, rate, profile)
    pcm = wave.astype("<i2").tobytes()
    wav = SPEECH.read_bytes()
    for source, fmt in ((wav, "wav"), (pcm, "s16le")):
        sink = io.StringIO()
        rows = predict_stream(ensemble, io.BytesIO(source), sink, fmt=fmt, profile=profile,
                              chunk_bytes=999)
        lines = sink.getvalue().splitlines()
        assert lines[0] == "time,arousal,valence" and len(lines) == rows + 1
        table = np.loadtxt(lines[1:], delimiter=",", ndmin=2)
        _check_csv(table, offline, ensemble.targets)
    bad = [(b"hello, not audio", "wav", "stdin: not a WAV stream"),
           (wav, "s16le", "the stream is a WAV file but --format s16le was declared"),
           (pcm + b"\x01", "s16le", "stdin: stream ended mid-sample"),
           (wav[:-1000], "wav", "stream ended after"),
           (pcm, "f32le", "NaN or infinite sample")]
    for source, fmt, message in bad:
        with pytest.raises(ValueError, match=message):
            predict_stream(ensemble, io.BytesIO(source), io.StringIO(), fmt=fmt, profile=profile)
    # audio at another rate is resampled to the model's, as tinyemo predict does
    from tinyemo.frontend.audio import resample
    narrow = (resample(wave, 16000, 8000) / 32768).astype("<f4")     # 8 kHz float samples
    offline = predict_offline(ensemble, resample(narrow * 32768.0, 8000, 16000), rate, profile)
    sink = io.StringIO()
    predict_stream(ensemble, io.BytesIO(narrow.tobytes()), sink, fmt="f32le", rate=8000,
                   profile=profile, chunk_bytes=1001)
    table = np.loadtxt(sink.getvalue().splitlines()[1:], delimiter=",", ndmin=2)
    _check_csv(table, {t: v for t, v in offline.items()}, ensemble.targets)


def _check_csv(table, offline, targets):
    for j, target in enumerate(targets, 1):    # CSV keeps 6 significant digits
        np.testing.assert_allclose(table[:, j], offline[target], rtol=1e-5, atol=ATOL)


@pytest.mark.slow
def test_cli_profile_then_stream_from_stdin(tmp_path, speech):
    """`tinyemo profile` from enrolment audio, then `tinyemo predict --stream` reading the
    WAV on standard input in a subprocess: the rows equal the offline prediction."""
    wave, rate = speech
    model = make_model_folder(tmp_path / "model", "downup", depth=2)
    prof = tmp_path / "speaker.npz"
    cli = [sys.executable, "-c", "import sys; from tinyemo.cli import main; sys.exit(main(sys.argv[1:]))"]
    done = subprocess.run([*cli, "profile", "--model", str(model), str(SPEECH), "--out", str(prof)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    out = subprocess.run([*cli, "predict", "--stream", "--model", str(model), "--profile",
                          str(prof), "--chunk", "1000"], input=SPEECH.read_bytes(),
                         capture_output=True)
    assert out.returncode == 0, out.stderr
    assert b"rows final 0.90 s" in out.stderr    # 21 rows × 40 ms + 55 ms
    lines = out.stdout.decode().splitlines()
    table = np.loadtxt(lines[1:], delimiter=",", ndmin=2)
    offline = predict_offline(Ensemble(model), wave, rate, Profile.load(prof))
    _check_csv(table, offline, ["arousal", "valence"])
    bad = subprocess.run([*cli, "predict", "--stream", "--model", str(model), "--running",
                          "--format", "s16le"], input=b"\x00\x01\x02", capture_output=True)
    assert bad.returncode == 2
    assert bad.stderr.decode().strip().splitlines()[-1].startswith(
        "error: stdin: stream ended mid-sample")
