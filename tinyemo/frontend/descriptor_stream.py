"""openSMILE's eGeMAPS descriptors (:func:`~tinyemo.frontend.descriptors.descriptors`) of a
waveform that arrives in pieces, in bounded memory, equal to the whole-signal rows.

No fixed context makes a block-wise recomputation exact: openSMILE's jitter and shimmer
(``cPitchJitter``) carry their pitch-period grid from frame to frame and reset it only on an
unvoiced frame, so through a long voiced stretch they depend on where the computation started
(measured in docs/RESULTS.md: 10 s of context on each side of 10 s blocks still leaves them
different on two thirds of a continuously voiced minute). openSMILE itself is a streaming
engine, though: :class:`DescriptorStream` feeds the pieces to one openSMILE instance (its
SMILEapi, through ``cExternalAudioSource``, run in a thread) running eGeMAPSv02's descriptor
configuration without its functionals (which make ``process_signal`` keep every descriptor
level whole) and with every level a ring buffer: the wave level holds :data:`WAVE_BUFFER_S`
seconds, the others openSMILE's own 150 frames (``BufferModeRbLag.conf.inc``). The state
carries over as in the whole-signal run and the rows are exactly the same
(``tests/frontend/test_descriptor_stream.py``); peak memory measured flat (160 MiB for the
whole process after 4, 8 and 12 minutes of audio; 160 → 430 MiB with the functionals kept). The wave ring must hold what
``cPitchJitter`` reads behind the newest F0 frame (``inputMaxDelaySec = 2.5`` behind the
Viterbi-smoothed F0, plus its period search): :data:`WAVE_BUFFER_S` leaves room above that
(a ring level makes its writer wait for its readers: kept functionals, which never read
before the end, stall the stream).
"""
from __future__ import annotations

import os
import tempfile
import threading
import time

import numpy as np

from tinyemo.frontend.audio import INT16_SCALE
from tinyemo.frontend.descriptors import LLD_DIMS, check_grid, require_opensmile
from tinyemo.frontend.filterbank import frame_geometry, num_frames
from tinyemo.frontend.options import FbankOptions

__all__ = ["DescriptorStream", "WAVE_BUFFER_S"]

WAVE_BUFFER_S = 8.0     # the wave ring buffer (openSMILE's jitter reads up to ~3.5 s behind)
PIECE_S = 0.5           # samples handed to openSMILE at a time (well under the buffer)
# eGeMAPSv02.conf without its functionals: those read the descriptor levels only at the end of
# the input, so openSMILE keeps those levels whole (BufferMode.conf.inc: growDyn) and a ring
# buffer there would never be read, stalling the stream. Without them every level is a ring.
_CONFIG = """[componentInstances:cComponentManager]
instance[dataMemory].type=cDataMemory
printLevelStats=0
[componentInstances:cComponentManager]
instance[extsource].type=cExternalAudioSource
[extsource:cExternalAudioSource]
writer.dmLevel=wave
writer.levelconf.growDyn=0
writer.levelconf.isRb=1
writer.levelconf.nT={buffer}
sampleRate={rate}
nBits=16
channels=1
\\{{{root}/gemaps/v01b/GeMAPSv01b_core.lld.conf.inc}}
\\{{{root}/egemaps/v02/eGeMAPSv02_core.lld.conf.inc}}
[componentInstances:cComponentManager]
instance[lldconcat].type=cVectorConcat
[lldconcat:cVectorConcat]
reader.dmLevel = egemapsv02_lldsetE_smo;egemapsv02_lldsetF_smo
writer.dmLevel = lld
includeSingleElementFields = 1
[componentInstances:cComponentManager]
instance[extsink].type=cExternalSink
[extsink:cExternalSink]
reader.dmLevel = lld
blocksize = 1
"""
SOURCE, SINK = "extsource", "extsink"


class DescriptorStream:
    """Incremental :func:`~tinyemo.frontend.descriptors.descriptors` of one waveform at
    ``sample_rate`` Hz on the filterbank frame grid of ``options``.

    ``push(samples)`` (int16 scale, any length) returns the (n, :data:`LLD_DIMS`) float32 rows
    openSMILE has finished so far (it lags a few hundred ms behind the samples: its pitch
    smoother decides late); ``finish()`` ends the waveform and returns the rest, the last row
    repeated up to the filterbank frame count as :func:`descriptors` does. Concatenated, the
    rows equal :func:`descriptors` of the whole waveform exactly. Memory: openSMILE's ring
    buffers (:data:`WAVE_BUFFER_S` of samples) plus the rows not yet returned.
    """

    def __init__(self, sample_rate: int, options: FbankOptions | None = None,
                 name: str = "waveform"):
        opensmile = require_opensmile()
        self.options = options or FbankOptions()
        check_grid(self.options, sample_rate, name)
        self.sample_rate, self.name = int(sample_rate), name
        self.size, self.shift, _ = frame_geometry(sample_rate, self.options)
        self.samples = self.emitted = 0
        self._rows: list[np.ndarray] = []       # appended by openSMILE's thread
        self._pending = np.empty((0, LLD_DIMS), np.float32)
        self._lock = threading.Lock()
        self._error: list[BaseException] = []
        self._last = np.zeros((1, LLD_DIMS), np.float32)   # NaN row of a short signal → 0
        from opensmile.core.lib import OpenSMILE  # optional: the opensmile package
        root = os.path.join(os.path.dirname(opensmile.__file__), "core", "config")
        ring = os.path.join(root, "shared", "BufferModeRbLag.conf.inc")   # 150-frame rings
        with tempfile.TemporaryDirectory(prefix="tinyemo-smile-") as tmp:
            conf = os.path.join(tmp, "eGeMAPSv02_lld_stream.conf")
            with open(conf, "w") as f:
                f.write(_CONFIG.format(buffer=int(WAVE_BUFFER_S * self.sample_rate),
                                       rate=self.sample_rate, root=root))
            self._api = OpenSMILE()
            self._api.initialize(conf, {"bufferModeConf": ring, "bufferModeRbLagConf": ring,
                                        "bufferModeRbConf": os.path.join(
                                            root, "shared", "BufferModeRb.conf.inc")},
                                 loglevel=1)                # reads the configuration now
        self._api.external_sink_set_callback_ex(SINK, self._collect)
        self._thread = threading.Thread(target=self._run, name=f"opensmile {name}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop openSMILE without the rest (after an error elsewhere); finish() does not need it."""
        if self._thread.is_alive():
            self._api.abort()
            self._thread.join()
            self._api.free()

    def _collect(self, data: np.ndarray, meta) -> None:
        with self._lock:
            self._rows.append(np.array(data, dtype=np.float32).reshape(1, -1))

    def _run(self) -> None:
        try:
            self._api.run()
        except BaseException as exc:   # re-raised in the caller's thread
            self._error.append(exc)

    def push(self, samples) -> np.ndarray:
        x = np.asarray(samples, dtype=np.float64).reshape(-1)
        # process_signal's conversion, exactly: float32 on [-1, 1), × 32768, truncated to int16
        pcm = ((x / INT16_SCALE).astype(np.float32) * np.float32(32768)).astype(np.int16)
        piece = max(1, int(PIECE_S * self.sample_rate))
        for i in range(0, pcm.size, piece):
            data = pcm[i:i + piece].tobytes()
            while not self._api.external_audio_source_write_data(SOURCE, data):
                self._check_alive()
                time.sleep(0.001)       # the ring buffer is full: openSMILE catches up
        self.samples += pcm.size
        return self._take(num_frames(self.samples, self.size, self.shift, snip_edges=True))

    def finish(self) -> np.ndarray:
        self._api.external_audio_source_set_eoi(SOURCE)
        self._thread.join()
        self._api.free()
        if self._error:
            raise RuntimeError(f"{self.name}: openSMILE stopped: {self._error[0]}")
        total = num_frames(self.samples, self.size, self.shift, snip_edges=True)
        if total == 0:
            raise ValueError(f"{self.name}: audio too short for one "
                             f"{self.options.frame_length:g} ms frame ({self.samples} samples "
                             f"at {self.sample_rate} Hz)")
        rows = self._take(total)
        pad = total - self.emitted
        self.emitted = total
        return np.concatenate([rows, np.repeat(self._last, pad, axis=0)])

    def _take(self, limit: int) -> np.ndarray:
        """The rows finished so far up to frame ``limit`` (later ones wait), NaN and inf → 0."""
        with self._lock:
            rows, self._rows = self._rows, []
        if rows:
            fresh = np.nan_to_num(np.concatenate(rows), nan=0.0, posinf=0.0, neginf=0.0)
            self._pending = np.concatenate([self._pending, fresh])
            self._last = fresh[-1:]
        k = max(0, min(limit - self.emitted, self._pending.shape[0]))
        out, self._pending = self._pending[:k], self._pending[k:]
        self.emitted += k
        return out

    def _check_alive(self) -> None:
        if self._error:
            raise RuntimeError(f"{self.name}: openSMILE stopped: {self._error[0]}")
        if not self._thread.is_alive():
            raise RuntimeError(f"{self.name}: openSMILE stopped before the end of the audio")
