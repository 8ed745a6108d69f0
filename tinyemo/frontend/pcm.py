"""Audio from a byte stream (standard input): a WAV header parsed as it arrives, or raw PCM
of a declared format, decoded to mono samples on the int16 scale exactly as ``read_audio``
reads the same samples from a file (16-bit values unchanged; 8/24/32-bit integers and floats
scaled so that full scale is ±32768; channels averaged in float64)."""
from __future__ import annotations

import struct
from typing import Callable

import numpy as np

__all__ = ["PcmDecoder", "read_wav_header", "RAW_FORMATS"]

# name → (bytes per sample, decoder of a uint8 buffer to float64 on the int16 scale)
RAW_FORMATS: dict[str, int] = {"u8": 1, "s16le": 2, "s24le": 3, "s32le": 4, "f32le": 4,
                               "f64le": 8}


def _decode(fmt: str, raw: np.ndarray) -> np.ndarray:
    if fmt == "u8":     # libsndfile reads unsigned 8-bit as (v − 128) · 256 on the int16 scale
        return (raw.astype(np.float64) - 128.0) * 256.0
    if fmt == "s16le":
        return raw.view("<i2").astype(np.float64)
    if fmt == "s24le":  # three bytes little-endian, sign-extended; full scale 2^23 → 2^15
        b = raw.reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        return np.where(v >= 1 << 23, v - (1 << 24), v).astype(np.float64) / 256.0
    if fmt == "s32le":
        return raw.view("<i4").astype(np.float64) / 65536.0
    with np.errstate(invalid="ignore", over="ignore"):   # NaN/inf are reported by the caller
        if fmt == "f32le":
            return raw.view("<f4").astype(np.float64) * 32768.0
        return raw.view("<f8") * 32768.0


class PcmDecoder:
    """Decode interleaved little-endian PCM bytes that arrive in pieces of any size. A piece
    may end inside a frame (the rest is kept); :meth:`finish` raises ValueError naming
    ``name`` if the stream ended inside one."""

    def __init__(self, fmt: str, channels: int = 1, name: str = "stdin"):
        if fmt not in RAW_FORMATS:
            raise ValueError(f"unknown PCM format {fmt!r}: expected one of {', '.join(RAW_FORMATS)}")
        if int(channels) != channels or channels < 1:
            raise ValueError(f"channels must be a positive integer, got {channels!r}")
        self.fmt, self.channels, self.name = fmt, int(channels), name
        self.frame_bytes = RAW_FORMATS[fmt] * self.channels
        self.bytes = 0
        self._rest = b""

    def decode(self, data: bytes) -> np.ndarray:
        """(n,) float64 mono samples of the whole frames received so far."""
        data = self._rest + data
        whole = len(data) - len(data) % self.frame_bytes
        self._rest = data[whole:]
        first = self.bytes // self.frame_bytes
        self.bytes += whole
        raw = np.frombuffer(data[:whole], dtype=np.uint8)
        x = _decode(self.fmt, raw).reshape(-1, self.channels)
        x = x.mean(axis=1) if self.channels > 1 else x[:, 0]
        if not np.isfinite(x).all():
            frame = first + int(np.flatnonzero(~np.isfinite(x))[0])
            raise ValueError(f"{self.name}: NaN or infinite sample at frame {frame} (is it "
                             f"{self.fmt} audio?)")
        return x

    def finish(self) -> None:
        if self._rest:
            raise ValueError(f"{self.name}: stream ended mid-sample ({len(self._rest)} byte(s) "
                             f"left over; a {self.fmt} frame of {self.channels} channel(s) is "
                             f"{self.frame_bytes} bytes)")


_WAV_FORMATS = {(1, 8): "u8", (1, 16): "s16le", (1, 24): "s24le", (1, 32): "s32le",
                (3, 32): "f32le", (3, 64): "f64le"}


def read_wav_header(read: Callable[[int], bytes], name: str = "stdin"
                    ) -> tuple[str, int, int, int | None]:
    """Parse a RIFF/WAVE header from ``read(n)`` (which returns up to n bytes, fewer only at
    the end), stopping at the start of the ``data`` chunk. Returns (PCM format, sample rate,
    channels, data bytes or None when the header leaves the size open, as streaming writers
    do). ValueError naming ``name`` for anything that is not a WAV stream tinyemo decodes."""

    def exactly(n: int, what: str) -> bytes:
        out = b""
        while len(out) < n:
            piece = read(n - len(out))
            if not piece:
                raise ValueError(f"{name}: stream ended inside the WAV header ({what})")
            out += piece
        return out

    head = read(12)
    while 0 < len(head) < 12:
        more = read(12 - len(head))
        if not more:
            break
        head += more
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise ValueError(f"{name}: not a WAV stream (no RIFF/WAVE header); for raw PCM "
                         "declare its format, e.g. --format s16le --rate 16000")
    fmt = None
    while True:
        chunk_id, size = struct.unpack("<4sI", exactly(8, "chunk header"))
        if chunk_id == b"fmt ":
            body = exactly(size + (size & 1), "fmt chunk")
            if size < 16:
                raise ValueError(f"{name}: WAV fmt chunk too short ({size} bytes)")
            tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if tag == 0xFFFE and size >= 26:       # WAVE_FORMAT_EXTENSIBLE: the sub-format
                tag = struct.unpack("<H", body[24:26])[0]
            fmt = _WAV_FORMATS.get((tag, bits))
            if fmt is None:
                raise ValueError(f"{name}: WAV encoding not supported (format tag {tag}, "
                                 f"{bits} bits); use PCM 8/16/24/32-bit or float 32/64-bit")
            if channels < 1 or rate < 1:
                raise ValueError(f"{name}: bad WAV header ({channels} channels at {rate} Hz)")
        elif chunk_id == b"data":
            if fmt is None:
                raise ValueError(f"{name}: WAV data chunk before its fmt chunk")
            return fmt, rate, channels, None if size in (0, 0xFFFFFFFF) else size
        else:
            exactly(size + (size & 1), f"{chunk_id!r} chunk")
