"""tinyemo's fbank against kaldi-native-fbank (a C++ port of Kaldi's fbank) over a grid of
options, on real speech (tests/testdata/speech, see its README for sources and licences) and on
generated signals. kaldi-native-fbank is in the ``test`` extra: without it these tests fail."""
from __future__ import annotations

import itertools

import kaldi_native_fbank as knf
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import SPEECH as _SPEECH_DIR
from tinyemo.frontend import fbank, read_audio
from tinyemo.frontend.audio import resample

SPEECH = _SPEECH_DIR
# named, not globbed: a missing file fails its tests instead of quietly shrinking the list
SPEECH_FILES = [SPEECH / name for name in ("arctic_a0007.wav", "goforward.wav",
                                           "sense_and_sensibility_01_austen_64kb-0880.wav")]
SPEECH_ATOL = 1e-3        # the bound on speech (log-mel units)
NEAR_MAX_NATS = 10.0      # on tones: bins this close to the frame maximum ...
TONE_NEAR_ATOL = 1e-3     # ... must agree this well (far bins carry float32 FFT round-off)


def knf_fbank(samples: np.ndarray, rate: int, **o) -> np.ndarray:
    """kaldi-native-fbank with tinyemo's option names; dither off. (frames, dims) float32."""
    opts = knf.FbankOptions()
    fo, mo = opts.frame_opts, opts.mel_opts
    fo.samp_freq = rate
    fo.dither = 0.0
    fo.frame_length_ms = o.get("frame_length", 25.0)
    fo.frame_shift_ms = o.get("frame_shift", 10.0)
    fo.preemph_coeff = o.get("preemphasis_coefficient", 0.97)
    fo.remove_dc_offset = o.get("remove_dc_offset", True)
    fo.window_type = o.get("window_type", "povey")
    fo.round_to_power_of_two = o.get("round_to_power_of_two", True)
    fo.snip_edges = o.get("snip_edges", True)
    mo.num_bins = o.get("num_mel_bins", 40)
    mo.low_freq = o.get("low_freq", 20.0)
    mo.high_freq = o.get("high_freq", 0.0)
    opts.use_energy = o.get("use_energy", False)
    opts.raw_energy = o.get("raw_energy", True)
    opts.htk_compat = o.get("htk_compat", False)
    opts.energy_floor = o.get("energy_floor", 0.0)
    opts.use_power = o.get("use_power", True)
    opts.use_log_fbank = o.get("use_log_fbank", True)
    comp = knf.OnlineFbank(opts)
    comp.accept_waveform(rate, np.asarray(samples, dtype=np.float32))
    comp.input_finished()
    return np.array([comp.get_frame(i) for i in range(comp.num_frames_ready)], np.float32)


def speech_at(rate: int) -> tuple[str, np.ndarray]:
    """Real speech at ``rate``. Upsampled speech gets a one-LSB noise floor (fixed seed):
    otherwise the band above the original Nyquist is empty to float precision, and empty
    bins only compare Kaldi's float32 round-off, as a real recording at that rate never is."""
    path = SPEECH_FILES[0]
    samples, native = read_audio(path)
    if rate == native:
        return path.name, samples
    out = resample(samples, native, rate)
    if rate > native:
        out += np.random.default_rng(0).normal(0.0, 1.0, out.size)
    return path.name, out


def compare(samples, rate, atol=SPEECH_ATOL, **options):
    ours = fbank(samples, rate, dither=0.0, **options)
    ref = knf_fbank(samples, rate, **options)
    assert ours.shape == ref.shape and ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, rtol=0, atol=atol)
    return ours


@pytest.mark.parametrize("path", SPEECH_FILES, ids=lambda p: p.stem[:20])
def test_each_speech_file_defaults(path):
    samples, rate = read_audio(path)
    compare(samples, rate)


GRID = list(itertools.product(
    [8000, 16000, 44100, 48000],
    ["povey", "hamming", "hanning", "rectangular", "blackman"],
    [(23, 20.0, 0.0), (40, 0.0, -400.0), (64, 60.0, 3800.0)],
    [True, False],
))


@pytest.mark.parametrize("rate, window, mel, snip", GRID,
                         ids=lambda v: str(v))
def test_speech_grid(rate, window, mel, snip):
    bins, low, high = mel
    _, samples = speech_at(rate)
    compare(samples, rate, window_type=window, num_mel_bins=bins, low_freq=low,
            high_freq=high, snip_edges=snip)


ENERGY_CASES = [dict(use_energy=True), dict(use_energy=True, raw_energy=False),
                dict(use_energy=True, htk_compat=True),
                dict(use_energy=True, raw_energy=False, htk_compat=True, energy_floor=1.0),
                dict(use_energy=True, energy_floor=2e9)]


@pytest.mark.parametrize("options", ENERGY_CASES, ids=lambda o: ",".join(o))
@pytest.mark.parametrize("rate", [8000, 16000])
def test_speech_energy(options, rate):
    _, samples = speech_at(rate)
    ours = compare(samples, rate, **options)
    if options.get("energy_floor", 0) > 1e9:   # the floor actually bites somewhere
        col = 40 if options.get("htk_compat") else 0
        assert np.isclose(ours[:, col], np.log(2e9)).any()


@pytest.mark.parametrize("options", [
    dict(use_power=False), dict(round_to_power_of_two=False),
    dict(frame_length=20.0, frame_shift=5.0), dict(frame_length=32.0, frame_shift=12.5),
    dict(preemphasis_coefficient=0.0, remove_dc_offset=False),
    dict(window_type="sine"), dict(low_freq=100.0, high_freq=-1000.0, num_mel_bins=30),
], ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
@pytest.mark.parametrize("rate", [16000, 44100])
def test_speech_other_options(options, rate):
    _, samples = speech_at(rate)
    compare(samples, rate, **options)


def test_speech_linear_fbank():
    _, samples = speech_at(16000)
    ours = fbank(samples, 16000, dither=0.0, use_log_fbank=False)
    ref = knf_fbank(samples, 16000, use_log_fbank=False)
    np.testing.assert_allclose(ours, ref, rtol=2e-4, atol=1e-3)


def generated(kind: str, rate: int, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    rng = np.random.default_rng(7)
    if kind == "noise":
        return rng.normal(0.0, 3000.0, t.size)
    if kind == "int16_noise":
        return rng.integers(-32768, 32768, t.size).astype(np.float64)
    if kind == "chirp":
        return 8000.0 * np.sin(2 * np.pi * (100 * t + 0.5 * (0.4 * rate - 100) * t ** 2 / seconds))
    if kind == "tones_dc":
        return 500.0 + 4000 * np.sin(2 * np.pi * 440 * t) + 2000 * np.sin(2 * np.pi * 1870 * t)
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["noise", "int16_noise"])
@pytest.mark.parametrize("rate", [8000, 16000, 44100, 48000])
def test_generated_broadband(kind, rate):
    compare(generated(kind, rate), rate, atol=SPEECH_ATOL)
    compare(generated(kind, rate), rate, atol=SPEECH_ATOL, snip_edges=False,
            window_type="hamming", use_energy=True, num_mel_bins=80)


@pytest.mark.parametrize("kind", ["chirp", "tones_dc"])
@pytest.mark.parametrize("rate", [8000, 16000, 48000])
def test_generated_tones(kind, rate):
    x = generated(kind, rate)
    ours, ref = fbank(x, rate, dither=0.0), knf_fbank(x, rate)
    assert ours.shape == ref.shape
    near = ref >= ref.max(axis=1, keepdims=True) - NEAR_MAX_NATS
    assert np.abs(ours - ref)[near].max() <= TONE_NEAR_ATOL


@settings(deadline=None, max_examples=40)
@given(rate=st.sampled_from([8000, 11025, 16000, 22050]),
       n_samples=st.integers(400, 6000),
       window=st.sampled_from(["povey", "hamming", "hanning", "rectangular"]),
       bins=st.integers(10, 40), low=st.floats(0.0, 300.0), high_offset=st.floats(-800.0, 0.0),
       frame=st.sampled_from([(25.0, 10.0), (20.0, 5.0), (32.0, 12.5), (10.0, 15.0)]),
       snip=st.booleans(), energy=st.booleans(), raw=st.booleans(), htk=st.booleans(),
       seed=st.integers(0, 2 ** 16))
def test_random_options_on_noise(rate, n_samples, window, bins, low, high_offset, frame, snip,
                                 energy, raw, htk, seed):
    x = np.random.default_rng(seed).normal(0.0, 2000.0, n_samples)
    x = np.resize(x, max(n_samples, int(frame[0] * rate / 1000)))
    compare(x, rate, window_type=window, num_mel_bins=bins, low_freq=low,
            high_freq=high_offset, frame_length=frame[0], frame_shift=frame[1],
            snip_edges=snip, use_energy=energy, raw_energy=raw, htk_compat=htk)
