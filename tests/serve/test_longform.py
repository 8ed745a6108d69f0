"""Recordings of any length in bounded memory: ``tinyemo predict`` reads blocks, computes
features in blocks, normalises in two passes and runs the nets on overlapping windows, and
its CSVs equal the whole-file computation (``prepare`` + ``Ensemble.predict``, the path it
replaced) on a file long enough for several windows, with small blocks."""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from tests.helpers import SPEECH as _SPEECH_DIR
from tinyemo.cli.predict import predict_main
from tinyemo.data.corpus import Corpus, Recording
from tinyemo.data.examples import prepare
from tinyemo.frontend import FbankOptions
from tinyemo.runs.ensemble import Ensemble
from tinyemo.serve.longform import iter_predictions, predict_long, recording_profile
from tinyemo.serve.profile import Moments

from tests.helpers.modelfolder import make_model_folder

SPEECH = _SPEECH_DIR / "arctic_a0007.wav"


def _whole_file(ensemble, path):
    """The whole-file computation (what tinyemo predict did before): all features at once."""
    corpus = Corpus([Recording(path.stem, path.stem, "predict", path)])
    examples = list(prepare(corpus, FbankOptions(**ensemble.config["fbank"]), cache=False).values())
    return {t: ensemble.predict(examples, t)[0][0] for t in ensemble.targets}


@pytest.fixture(scope="module")
def long_speech(tmp_path_factory):
    """24 s of real speech, stereo (the channels differ), 16-bit."""
    data, rate = sf.read(str(SPEECH), dtype="int16")
    left = np.tile(data, 6)
    right = np.roll(left, 123) // 2
    path = tmp_path_factory.mktemp("audio") / "long.wav"
    sf.write(str(path), np.stack([left, right], axis=1), rate, subtype="PCM_16")
    return path


def test_moments_merge_blocks_like_two_passes():
    x = np.random.default_rng(0).standard_normal((1000, 5)) * 3 + 40
    m = Moments()
    for a, b in ((0, 1), (1, 7), (7, 500), (500, 1000)):
        m.add(x[a:b])
    np.testing.assert_allclose(m.mean, x.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(m.std(), x.std(axis=0), rtol=1e-12)


@pytest.mark.parametrize("arch, kw", [("downup", {}), ("dilated", {}), ("single", {"filter_length": 64}),
                                      ("downup", {"depth": 3, "up_kernel_size": 4}),
                                      ("blstm", {"width": 8, "depth": 1}),
                                      ("dilated", {"depth": 6, "input_average": 0.4})])
def test_windows_and_blocks_equal_the_whole_file(tmp_path, long_speech, arch, kw):
    ensemble = Ensemble(make_model_folder(tmp_path / "m", arch, seeds=(0, 1), **kw))
    whole = _whole_file(ensemble, long_speech)
    n = len(whole["arousal"])
    # blocks of 1000 samples (frames straddle every edge); windows of 100 outputs: 7 windows
    columns, tables = iter_predictions(ensemble, long_speech, block_samples=1000, max_window=100)
    table = np.concatenate(list(tables))
    assert columns == ("time", "arousal", "valence") and table.shape == (n, 3) and n == 601
    np.testing.assert_allclose(table[:, 0], 0.04 * np.arange(n))
    for j, target in enumerate(ensemble.targets, 1):
        assert np.std(whole[target]) > 0.05
        np.testing.assert_allclose(table[:, j], whole[target], rtol=0, atol=1e-5)
    # the CSV: the same rows with 6 significant digits, as write_predictions writes them
    assert predict_long(ensemble, long_speech, tmp_path / "p.csv", block_samples=4096) == n
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0] == "time,arousal,valence" and lines[1].startswith("0.00,")
    csv = np.loadtxt(lines[1:], delimiter=",")
    np.testing.assert_allclose(csv[:, 1:], table[:, 1:], rtol=1e-5, atol=1e-5)


def test_profile_pass_equals_whole_file_statistics(long_speech):
    from tinyemo.frontend import extract
    from tinyemo.frontend.features import speaker_statistics
    feats = extract(long_speech, FbankOptions(), cache=False)
    mean, std = speaker_statistics({0: feats}, {0: 0})[0]
    prof = recording_profile(long_speech, FbankOptions(), block_samples=777)
    np.testing.assert_allclose(prof.mean, mean, rtol=1e-7)
    np.testing.assert_allclose(prof.std, std, rtol=1e-6)
    assert prof.frames == feats.shape[0]


def test_predict_cli_is_bounded_and_checks_every_file_first(tmp_path, long_speech):
    model = make_model_folder(tmp_path / "m", "downup", depth=3)
    out = tmp_path / "out"
    assert predict_main(["--model", str(model), str(long_speech), "--out", str(out)]) == 0
    table = np.loadtxt(out / "long.csv", delimiter=",", skiprows=1)
    whole = _whole_file(Ensemble(model), long_speech)
    np.testing.assert_allclose(table[:, 1], whole["arousal"], rtol=1e-5, atol=1e-6)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(long_speech.read_bytes()[:5000])    # a WAV whose data chunk is cut off
    out2 = tmp_path / "out2"
    assert predict_main(["--model", str(model), str(long_speech), str(bad), "--out", str(out2)]) == 2
    assert not out2.exists()       # nothing written: the second file was refused first
    (model / "arousal" / "seed0" / "best.npz").unlink()
    assert predict_main(["--model", str(model), str(long_speech), "--out", str(out2)]) == 2
    assert not out2.exists()


def test_other_sample_rates_are_resampled_block_by_block(tmp_path):
    """A 22.05 kHz file and a model whose configuration records 16 kHz: resampled block by
    block to the whole-file ``read_audio(path, sample_rate=16000)``'s samples."""
    from tinyemo.frontend import read_audio
    from tinyemo.frontend.audio import resample
    from tinyemo.serve.streaming import predict_offline
    data, rate = sf.read(str(SPEECH), dtype="float64")
    path = tmp_path / "wide.wav"
    sf.write(str(path), resample(np.tile(data, 2) * 32768, rate, 22050) / 32768, 22050,
             subtype="FLOAT")
    folder = make_model_folder(tmp_path / "m", "downup", depth=2)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps(dict(config, sample_rate=16000)))
    ensemble = Ensemble(folder)
    samples, _ = read_audio(path, sample_rate=16000)
    want = predict_offline(ensemble, samples, 16000)
    _, tables = iter_predictions(ensemble, path, block_samples=5000, max_window=50)
    got = np.concatenate(list(tables))
    assert got.shape[0] == len(want["arousal"])
    for j, target in enumerate(ensemble.targets, 1):
        np.testing.assert_allclose(got[:, j], want[target], rtol=0, atol=1e-5)
