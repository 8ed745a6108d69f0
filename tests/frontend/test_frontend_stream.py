"""The front end on audio that arrives in pieces: FbankStream against fbank on the whole
waveform (frames straddling the pieces' edges, dither order, Kaldi's reflected edges), block
reading against read_audio, and the PCM/WAV stream decoder against libsndfile."""
from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.helpers import SPEECH as _SPEECH_DIR
from tinyemo.frontend import FbankOptions, fbank, read_audio
from tinyemo.frontend.blocks import audio_blocks
from tinyemo.frontend.fbank_stream import FbankStream
from tinyemo.frontend.pcm import PcmDecoder, read_wav_header

SPEECH = _SPEECH_DIR / "arctic_a0007.wav"
# fbank computes a block of frames with one FFT and one mel GEMM; the GEMM's rounding depends
# on how many frames share it, so pieces agree with the whole to float32 rounding of log-mels
LOGMEL_ATOL = 2e-5


def _stream(wave, rate, opts, sizes):
    stream = FbankStream(rate, opts)
    parts, i, k = [], 0, 0
    while i < wave.size:
        n = sizes[k % len(sizes)]
        parts.append(stream.push(wave[i:i + n]))
        i, k = i + n, k + 1
    parts.append(stream.finish())
    return np.concatenate(parts), stream


@given(sizes=st.lists(st.one_of(st.just(1), st.integers(2, 500), st.integers(500, 5000)),
                      min_size=1, max_size=8),
       n=st.integers(400, 9000), snip=st.booleans(), dither=st.sampled_from([0.0, 1.0]),
       energy=st.booleans())
@example(sizes=[1], n=400, snip=True, dither=1.0, energy=False)
@example(sizes=[10 ** 6], n=8999, snip=False, dither=0.0, energy=True)
def test_pieces_give_the_frames_of_the_whole(sizes, n, snip, dither, energy):
    wave = np.random.default_rng(n).standard_normal(n) * 2000
    opts = FbankOptions(snip_edges=snip, dither=dither, use_energy=energy)
    whole = fbank(wave, 16000, options=opts)
    got, stream = _stream(wave, 16000, opts, sizes)
    assert got.shape == whole.shape and stream.frames == whole.shape[0]
    np.testing.assert_allclose(got, whole, rtol=0, atol=LOGMEL_ATOL)


def test_real_speech_in_pieces_and_too_short_audio():
    wave, rate = read_audio(SPEECH)
    opts = FbankOptions()
    got, _ = _stream(wave, rate, opts, [1, 159, 160, 161, 4000])
    np.testing.assert_allclose(got, fbank(wave, rate, options=opts), rtol=0, atol=LOGMEL_ATOL)
    stream = FbankStream(16000, opts, name="mic")
    assert stream.push(np.zeros(399)).shape == (0, 40)
    with pytest.raises(ValueError, match="mic: audio is shorter than one frame"):
        stream.finish()
    with pytest.raises(ValueError, match="NaN or infinite samples \\(first at sample 3\\)"):
        FbankStream(16000, opts).push(np.array([0, 1, 2, np.nan]))


@pytest.mark.parametrize("subtype, channels", [("PCM_16", 1), ("PCM_16", 2), ("PCM_24", 1),
                                               ("PCM_32", 2), ("FLOAT", 1), ("DOUBLE", 1),
                                               ("PCM_U8", 1)])
def test_blocks_and_stream_decoder_read_what_read_audio_reads(tmp_path, subtype, channels):
    rng = np.random.default_rng(1)
    data = np.clip(rng.standard_normal((5001, channels)) * 0.3, -1, 0.999)
    path = tmp_path / "a.wav"
    sf.write(str(path), data, 16000, subtype=subtype)
    whole, _ = read_audio(path)
    blocks = list(audio_blocks(path, block_samples=777))
    assert len(blocks) == 7
    np.testing.assert_array_equal(np.concatenate(blocks), whole)
    # the same bytes as a stream: header parsed piece by piece, samples decoded identically
    raw = io.BytesIO(path.read_bytes())
    fmt, rate, ch, size = read_wav_header(lambda k: raw.read(min(k, 3)))
    assert (rate, ch) == (16000, channels)
    decoder = PcmDecoder(fmt, ch)
    body = raw.read(size)
    got = np.concatenate([decoder.decode(body[i:i + 5]) for i in range(0, len(body), 5)])
    decoder.finish()
    np.testing.assert_array_equal(got, whole)


def test_stream_decoder_refuses_bad_streams():
    with pytest.raises(ValueError, match="stdin: not a WAV stream"):
        read_wav_header(io.BytesIO(b"ID3\x03 not audio at all").read)
    with pytest.raises(ValueError, match="stdin: stream ended inside the WAV header"):
        read_wav_header(io.BytesIO(b"RIFF\x00\x00\x00\x00WAVEfmt ").read)
    decoder = PcmDecoder("s16le", 2)
    assert decoder.decode(b"\x01\x00\x02\x00\x03").tolist() == [1.5]
    with pytest.raises(ValueError, match="stdin: stream ended mid-sample \\(1 byte"):
        decoder.finish()
    with pytest.raises(ValueError, match="NaN or infinite sample at frame 1"):
        PcmDecoder("f32le").decode(np.array([0.0, np.inf], "<f4").tobytes())
    with pytest.raises(ValueError, match="unknown PCM format 's8'"):
        PcmDecoder("s8")


@settings(max_examples=10)
@given(n=st.integers(1, 30000), sizes=st.lists(st.integers(1, 20000), min_size=1, max_size=6),
       rates=st.sampled_from([(44100, 16000), (8000, 16000), (22050, 16000), (48000, 16000),
                              (16000, 8000)]))
@example(n=1, sizes=[1], rates=(44100, 16000))
def test_resampling_in_pieces_equals_resample(n, sizes, rates):
    from tinyemo.frontend.audio import resample
    from tinyemo.frontend.resampling import ResampleStream
    x = np.random.default_rng(n).standard_normal(n) * 1000
    stream = ResampleStream(*rates)
    parts, i, k = [], 0, 0
    while i < n:
        parts.append(stream.push(x[i:i + sizes[k % len(sizes)]]))
        i, k = i + sizes[k % len(sizes)], k + 1
    parts.append(stream.finish())
    want = resample(x, *rates)
    got = np.concatenate(parts)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
