"""Bad input to the front end: each case is a ValueError whose message names the file."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tinyemo.frontend import FbankOptions, extract, fbank, read_audio

RATE = 16000


def write_wav(path: Path, samples, rate: int = RATE, subtype: str = "PCM_16") -> Path:
    sf.write(str(path), np.asarray(samples), rate, subtype=subtype)
    return path


def speech_like(n: int) -> np.ndarray:
    return (np.random.default_rng(0).normal(0, 0.1, n)).astype(np.float32)


def raises_naming(path: Path, match: str):
    return pytest.raises(ValueError, match=re.escape(str(path)) + ".*" + match)


@pytest.mark.parametrize("reader", [read_audio, lambda p: extract(p, cache=False)],
                         ids=["read_audio", "extract"])
def test_missing_file(tmp_path, reader):
    path = tmp_path / "nowhere" / "missing.wav"
    with raises_naming(path, "no such audio file"):
        reader(path)


def test_missing_file_with_cache(tmp_path):
    path = tmp_path / "missing.wav"
    from tinyemo.frontend import FeatureCache
    with raises_naming(path, "no such audio file"):
        extract(path, cache=FeatureCache(tmp_path / "cache"))


def test_unreadable_file(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio at all, just text pretending to be a wav file\n")
    with raises_naming(path, "cannot read audio"):
        read_audio(path)


def test_truncated_header(tmp_path):
    good = write_wav(tmp_path / "good.wav", speech_like(RATE))
    path = tmp_path / "cut.wav"
    path.write_bytes(good.read_bytes()[:20])
    with raises_naming(path, "cannot read audio"):
        read_audio(path)


def test_truncated_data(tmp_path):
    good = write_wav(tmp_path / "good.wav", speech_like(RATE))
    path = tmp_path / "cut.wav"
    path.write_bytes(good.read_bytes()[: 44 + 2 * RATE // 2])   # half of the samples
    with raises_naming(path, "truncated"):
        read_audio(path)
    with raises_naming(path, "truncated"):
        extract(path, cache=False)


def test_empty_audio(tmp_path):
    path = write_wav(tmp_path / "empty.wav", np.zeros(0, dtype=np.int16))
    with raises_naming(path, "empty"):
        read_audio(path)
    with pytest.raises(ValueError, match="clip.wav: audio is empty"):
        fbank(np.zeros(0), RATE, name="clip.wav")


def test_shorter_than_one_frame(tmp_path):
    path = write_wav(tmp_path / "short.wav", speech_like(399))   # 25 ms at 16 kHz = 400
    with raises_naming(path, "shorter than one frame"):
        extract(path, cache=False)
    extract(write_wav(tmp_path / "ok.wav", speech_like(400)), cache=False)   # exactly one


def test_frame_length_longer_than_audio(tmp_path):
    path = write_wav(tmp_path / "second.wav", speech_like(RATE))
    with raises_naming(path, "shorter than one frame"):
        extract(path, cache=False, frame_length=1500.0, snip_edges=False)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples(tmp_path, bad):
    samples = speech_like(RATE)
    samples[1234] = bad
    path = write_wav(tmp_path / "bad.wav", samples, subtype="FLOAT")
    with raises_naming(path, "NaN or infinite"):
        read_audio(path)
    with pytest.raises(ValueError, match="x.wav: audio has NaN or infinite samples.*1234"):
        fbank(samples * 32768, RATE, name="x.wav")


def test_bad_channel(tmp_path):
    path = write_wav(tmp_path / "stereo.wav", np.stack([speech_like(800)] * 2, axis=1))
    with raises_naming(path, "channel 2 requested but the file has 2"):
        read_audio(path, channel=2)


def test_bad_waveform_shape_and_options():
    with pytest.raises(ValueError, match="w.wav: waveform must be 1-D"):
        fbank(np.zeros((2, 800)), RATE, name="w.wav")
    with pytest.raises(ValueError, match="unknown fbank option.*num_bins"):
        fbank(np.zeros(800), RATE, num_bins=23)
    with pytest.raises(ValueError, match="window_type"):
        FbankOptions(window_type="gauss")
    with pytest.raises(ValueError, match="mel frequency range"):
        fbank(np.ones(800), RATE, high_freq=9000.0)
    with pytest.raises(ValueError, match="mel bin .* covers no FFT bin"):
        fbank(np.ones(800), RATE, num_mel_bins=200)
