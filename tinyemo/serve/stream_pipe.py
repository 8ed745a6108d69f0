"""``tinyemo predict --stream``: audio bytes in (WAV or raw PCM, e.g. standard input), CSV
rows out as soon as they are final, each flushed (e.g. to standard output)."""
from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, TextIO

from tinyemo.frontend.pcm import RAW_FORMATS, PcmDecoder, read_wav_header
from tinyemo.runs.ensemble import Ensemble
from tinyemo.serve.streaming import StreamPredictor, model_sample_rate, require_fbank_inputs

__all__ = ["predict_stream", "STREAM_FORMATS"]

STREAM_FORMATS = ("wav", *RAW_FORMATS)


def predict_stream(model, source: BinaryIO, sink: TextIO, *, fmt: str = "wav",
                   rate: int | None = None, channels: int = 1, normalisation: str = "profile",
                   profile=None, chunk_bytes: int = 4096, hop: int = 1, device: str = "cpu",
                   name: str = "stdin", on_start=None) -> int:
    """Predict the audio read from ``source`` and write ``time,<target>…`` rows to ``sink``.

    fmt: ``"wav"`` (format, rate and channels from the header) or a raw PCM format of
    :data:`RAW_FORMATS` with ``rate`` (default: the model's) and ``channels``. ``on_start``:
    called with the StreamPredictor once the stream's header is accepted (to report latency).
    Audio at another rate than the model's is resampled to it. Returns the number of rows.
    ValueError naming ``name`` for a stream that is not of the declared format or that ends
    mid-sample.
    """
    if fmt not in STREAM_FORMATS:
        raise ValueError(f"unknown stream format {fmt!r}: expected one of {', '.join(STREAM_FORMATS)}")
    if chunk_bytes < 1:
        raise ValueError(f"chunk size must be >= 1 byte, got {chunk_bytes}")
    ensemble = model if isinstance(model, Ensemble) else Ensemble(Path(model), device)
    require_fbank_inputs(ensemble, "streaming")     # before a byte of the stream is read
    read = getattr(source, "read1", source.read)
    model_rate = model_sample_rate(ensemble)
    pending = b""
    remaining = None
    if fmt == "wav":
        pcm, wav_rate, channels, remaining = read_wav_header(read, name)
        if rate and rate != wav_rate:
            raise ValueError(f"{name}: --rate {rate} given but the WAV header says {wav_rate} Hz")
        rate = wav_rate
    else:
        pcm = fmt
        pending = read(chunk_bytes)
        if pending[:4] == b"RIFF" and pending[8:12] == b"WAVE":
            raise ValueError(f"{name}: the stream is a WAV file but --format {fmt} was declared; "
                             "use --format wav")
        rate = rate or model_rate
        if not rate:
            raise ValueError(f"{name}: give the sample rate of the raw PCM stream (--rate)")
    predictor = StreamPredictor(ensemble, normalisation, profile, sample_rate=rate, hop=hop,
                                name=name)
    decoder = PcmDecoder(pcm, channels, name)
    if on_start:
        on_start(predictor)
    sink.write(",".join(predictor.columns) + "\n")
    sink.flush()
    received = 0
    while True:
        if pending:
            data, pending = pending, b""
        else:
            want = chunk_bytes if remaining is None else min(chunk_bytes, remaining - received)
            data = read(want) if want > 0 else b""
        if not data:
            break
        received += len(data)
        _write_rows(sink, predictor.push(decoder.decode(data)))
    decoder.finish()
    if remaining is not None and received < remaining:
        raise ValueError(f"{name}: stream ended after {received} of the {remaining} data bytes "
                         "its WAV header declares")
    _write_rows(sink, predictor.flush())
    return predictor.emitted


def _write_rows(sink: TextIO, table) -> None:
    for row in table.tolist():
        sink.write(f"{row[0]:.2f}," + ",".join(f"{v:.6g}" for v in row[1:]) + "\n")
        sink.flush()
