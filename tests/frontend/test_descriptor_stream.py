"""openSMILE's descriptors of a waveform pushed in pieces: exactly the whole-signal rows for any
split (real speech and a continuously voiced signal, where no fixed context makes a block-wise
recomputation exact), in bounded memory, with the whole-signal edge rules."""
from __future__ import annotations

import numpy as np
import pytest
from tinyemo.frontend.descriptor_stream import PIECE_S, WAVE_BUFFER_S, DescriptorStream
from tinyemo.frontend.descriptors import descriptors

from tests.helpers.signals import RATE, tiled_speech, voiced

pytest.importorskip("opensmile")

JITTER, SHIMMER = 11, 12          # eGeMAPSv02 LLD columns (jitterLocal, shimmerLocaldB)


def _streamed(x: np.ndarray, piece: int) -> np.ndarray:
    stream = DescriptorStream(RATE)
    rows = [stream.push(x[i:i + piece]) for i in range(0, x.size, piece)]
    return np.concatenate(rows + [stream.finish()])


@pytest.mark.parametrize("piece", [777, 16000, int(2.5 * WAVE_BUFFER_S * RATE)])
def test_pieces_of_any_size_give_the_whole_signal_rows_exactly(piece):
    x = tiled_speech(25.0)
    np.testing.assert_array_equal(_streamed(x, piece), descriptors(x, RATE))


def test_a_voice_that_never_stops_needs_the_stream_not_blocks_with_context():
    x = voiced(20.0)
    whole = descriptors(x, RATE)
    np.testing.assert_array_equal(_streamed(x, 4000), whole)
    # the block-wise alternative: rows 1000-1999 from the samples of rows 1000 - left to
    # 2199 (2 or 8 s of context before them): jitter and shimmer still differ on almost every
    # row (their pitch-period grid never resets), every other descriptor is equal
    for left in (200, 800):
        start = 1000 - left
        block = descriptors(x[start * 160:2199 * 160 + 960], RATE)[left:left + 1000]
        differ = np.abs(block - whole[1000:2000]).max(axis=0) > 0
        assert differ[JITTER] and differ[SHIMMER]
        assert not differ[:JITTER].any() and not differ[SHIMMER + 1:].any()

def test_memory_is_bounded_rows_follow_the_samples_closely():
    x = tiled_speech(60.0)
    stream = DescriptorStream(RATE)
    behind = []
    for i in range(0, x.size, RATE):
        stream.push(x[i:i + RATE])
        behind.append(stream.samples // 160 - stream.emitted)
    stream.finish()
    # rows still owed (openSMILE's lag, rows held) stay under the ring buffer plus one piece,
    # however long the waveform
    assert max(behind) <= (WAVE_BUFFER_S + PIECE_S) * 100
    assert stream.emitted == descriptors(x, RATE).shape[0]


@pytest.mark.parametrize("n", [500, 960, 1200, 5000])
def test_short_signals_follow_the_whole_signal_rules(n):
    x = tiled_speech(1.0)[:n]
    stream = DescriptorStream(RATE)
    got = np.concatenate([stream.push(x), stream.finish()])
    np.testing.assert_array_equal(got, descriptors(x, RATE))


def test_shorter_than_one_frame_is_an_error_naming_the_stream():
    stream = DescriptorStream(RATE, name="mic.wav")
    stream.push(np.zeros(100))
    with pytest.raises(ValueError, match="mic.wav: audio too short"):
        stream.finish()


def test_other_grids_are_refused_before_opensmile_starts():
    with pytest.raises(ValueError, match="multiple of 100 Hz"):
        DescriptorStream(22050)
