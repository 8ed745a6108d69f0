"""tinyemo as a library: ``tinyemo.load`` gives the numbers ``tinyemo predict`` writes (a net
folder and a baseline folder, real speech), for a signal in memory, a file, part of a file and
many files; per-segment tables equal a slow loop over the frames; bad input is one ValueError."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

import tinyemo
from tests.helpers import DATA
from tests.helpers.modelfolder import make_model_folder
from tinyemo.cli.predict import predict_main

SPEECH = DATA / "speech"
FILES = [SPEECH / "arctic_a0007.wav", SPEECH / "goforward.wav"]
BASELINE = DATA / "legacy" / "windowed"


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    return make_model_folder(tmp_path_factory.mktemp("net") / "m", "downup")


@pytest.fixture(scope="module", params=["net", "baseline"])
def folder(request, net):
    return net if request.param == "net" else BASELINE


def _csv(path):
    rows = path.read_text().splitlines()
    return rows[0].split(","), np.array([[float(v) for v in r.split(",")] for r in rows[1:]])


@pytest.fixture(scope="module")
def cli_tables(folder, tmp_path_factory):
    """What ``tinyemo predict`` writes for FILES with ``folder``."""
    out = tmp_path_factory.mktemp("cli")
    assert predict_main(["--model", str(folder), "--out", str(out), "--quiet",
                         *map(str, FILES)]) == 0
    return {f.stem: _csv(out / f"{f.stem}.csv") for f in FILES}


def test_load_tells_what_the_model_is(net):
    model = tinyemo.load(net)
    assert "load" in tinyemo.__all__
    assert model.targets == ["arousal", "valence"] and model.sample_rate == 16000
    assert model.frame_period == 0.04
    assert 7.0 < model.latency < 9.0          # the down/up net's right context at 16 kHz
    assert model.corpus["root"] == "synthetic" and model.settings["arch"] == "downup"
    assert tinyemo.load(BASELINE).latency == float("inf")


def test_predict_and_predict_file_equal_the_command_line(folder, cli_tables, tmp_path):
    model = tinyemo.load(folder)
    for path in FILES:
        header, want = cli_tables[path.stem]
        signal, rate = sf.read(str(path))                  # float in [-1, 1]
        for got in (model.predict(signal, rate), model.predict_file(path),
                    model.predict(sf.read(str(path), dtype="int16")[0], rate)):
            assert got.targets == header[1:] and len(got) == want.shape[0]
            np.testing.assert_allclose(got.times, want[:, 0], atol=1e-9)
            for j, target in enumerate(got.targets, 1):
                assert got[target].dtype == np.float32
                _close_to_csv(got[target], want[:, j])
        csv = model.predict_file(path).to_csv(tmp_path / f"{path.stem}.csv")
        assert csv.read_text() == _table_text(cli_tables, path.stem, folder, tmp_path)


def _close_to_csv(got, csv_column):
    """Equal to what the CSV holds: six significant digits (a half unit of the last one)."""
    np.testing.assert_allclose(got, csv_column, rtol=5e-6, atol=1e-12)


def _table_text(cli_tables, stem, folder, tmp_path):
    out = tmp_path / "again"
    assert predict_main(["--model", str(folder), "--out", str(out), "--quiet",
                         str(SPEECH / f"{stem}.wav")]) == 0
    return (out / f"{stem}.csv").read_text()


def test_stereo_signal_is_averaged_like_a_stereo_file(net, tmp_path):
    data, rate = sf.read(str(FILES[0]), dtype="int16")
    stereo = np.stack([data, np.roll(data, 50) // 2])        # (channels, samples)
    path = tmp_path / "stereo.wav"
    sf.write(str(path), stereo.T, rate, subtype="PCM_16")
    model = tinyemo.load(net)
    a, b = model.predict(stereo, rate), model.predict_file(path)
    np.testing.assert_array_equal(a["valence"], b["valence"])


def test_part_of_a_file_is_that_part_predicted_as_a_recording(net, tmp_path):
    model = tinyemo.load(net)
    data, rate = sf.read(str(FILES[0]), dtype="int16")
    part = model.predict_file(FILES[0], start=0.5, end=2.5)
    alone = model.predict(data[rate // 2: rate * 5 // 2], rate)
    np.testing.assert_allclose(part.times, 0.5 + alone.times)
    np.testing.assert_allclose(part["arousal"], alone["arousal"], atol=1e-6)
    with pytest.raises(ValueError, match="cannot predict from 3 to 2 s"):
        model.predict_file(FILES[0], start=3, end=2)


def test_to_pandas_is_indexed_by_start_and_end(net):
    got = tinyemo.load(net).predict_file(FILES[1]).to_pandas()
    assert list(got.index.names) == ["start", "end"] and list(got.columns) == ["arousal", "valence"]
    assert got.index[3] == (pd.Timedelta(seconds=0.12), pd.Timedelta(seconds=0.16))


@pytest.mark.parametrize("signal, rate, message", [
    (np.zeros((2, 3, 4)), 16000, "1-D .* or 2-D"),
    (np.zeros(0), 16000, "empty"),
    (np.array([0.1, np.nan, 0.2] * 1000), 16000, "NaN"),
    (np.zeros(16000), 0, "sampling_rate must be a positive whole number"),
    (np.zeros(16000), 22050.5, "sampling_rate must be a positive whole number"),
    (np.zeros((16000, 2)), 16000, r"give \(channels, samples\)"),
    (np.zeros(16000, dtype=np.int32), 16000, "float .* or int16"),
])
def test_bad_signals_are_one_value_error(net, signal, rate, message):
    with pytest.raises(ValueError, match=message):
        tinyemo.load(net).predict(signal, rate)


def _slow_means(track, offset, start, end):
    """The frames whose time stamps offset + 0.04 i lie in [start, end), by a loop."""
    picked = [v for i, v in enumerate(track) if start - 1e-9 <= offset + 0.04 * i < end - 1e-9]
    return np.mean(picked), np.std(picked)


def test_process_files_per_frame_and_per_window(folder, cli_tables):
    model = tinyemo.load(folder)
    frames = model.process_files(FILES, progress=False)
    assert list(frames.index.names) == ["file", "start", "end"]
    for path in FILES:
        _, want = cli_tables[path.stem]
        got = frames.loc[str(path)]
        _close_to_csv(got["valence"].to_numpy(), want[:, 2])
        np.testing.assert_allclose(got.index.get_level_values("start").total_seconds(),
                                   want[:, 0], atol=1e-9)
    windows = model.process_files(FILES, segments=(1.0, 0.3), std=True, progress=False)
    tracks = {str(f): model.predict_file(f)["arousal"] for f in FILES}
    for (file, start, end), row in windows.iterrows():
        track = tracks[file]
        mean, std = _slow_means(track, 0.0, start.total_seconds(), end.total_seconds())
        assert row["arousal"] == pytest.approx(mean, abs=1e-6)
        assert row["arousal_std"] == pytest.approx(std, abs=1e-6)
        assert end.total_seconds() - start.total_seconds() == pytest.approx(1.0)


def test_segment_tables_csv_rttm_and_index(net, tmp_path):
    model = tinyemo.load(net)
    table = tmp_path / "segs.csv"
    table.write_text(f"file,start,end\n{FILES[0]},0.13,1.71\n{FILES[1]},0.0,0.9\n"
                     f"{FILES[0]},2.0,3.33\n")
    rttm = tmp_path / "diar.rttm"
    rttm.write_text("SPEAKER arctic_a0007 1 0.13 1.58 <NA> <NA> spk1 <NA> <NA>\n"
                    "SPEAKER goforward 1 0.00 0.90 <NA> <NA> spk2 <NA> <NA>\n"
                    "SPEAKER arctic_a0007 1 2.00 1.33 <NA> <NA> spk1 <NA> <NA>\n")
    from_csv = model.process_files(FILES, segments=table, progress=False)
    from_rttm = model.process_files(FILES, segments=rttm, progress=False)
    from_index = model.process_index(table, progress=False)
    tracks = {str(f): model.predict_file(f) for f in FILES}
    assert len(from_csv) == 3 and list(from_rttm["speaker"]) == ["spk1", "spk1", "spk2"]
    for got in (from_csv, from_rttm, from_index):
        for (file, start, end), row in got.iterrows():
            mean, _ = _slow_means(tracks[file]["valence"], 0.0, start.total_seconds(),
                                  end.total_seconds())
            assert row["valence"] == pytest.approx(mean, abs=1e-6)
    pd.testing.assert_frame_equal(from_csv, from_index)


def test_bad_segments_name_the_table_and_line(net, tmp_path):
    model = tinyemo.load(net)
    cases = {"3.0,2.0": "line 3: segment of .* ends", "0.0,99": "line 3: .* lies outside",
             "1.0,1.02": "line 3: .* shorter than one frame"}
    for row, message in cases.items():
        table = tmp_path / "segs.csv"
        table.write_text(f"file,start,end\n{FILES[0]},0,1\n{FILES[0]},{row}\n")
        with pytest.raises(ValueError, match=message):
            model.process_files(FILES[:1], segments=table, progress=False)
    with pytest.warns(UserWarning, match="shorter than one frame"):
        got = model.process_files(FILES[:1], segments=table, on_short="skip", progress=False)
    assert not np.isnan(got["arousal"].iloc[0]) and np.isnan(got["arousal"].iloc[1])


def test_missing_index_files_are_listed_before_any_work(net, tmp_path):
    index = pd.DataFrame({"file": [str(FILES[0]), str(tmp_path / "a.wav"),
                                   str(tmp_path / "b.wav")]})
    with pytest.raises(ValueError, match=r"2 audio files missing: .*a.wav, .*b.wav"):
        tinyemo.load(net).process_index(index, progress=False)


def test_process_folder_finds_files_in_subfolders(net, tmp_path):
    for sub in ("x", "y"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "same.wav").write_bytes(FILES[1].read_bytes())
    got = tinyemo.load(net).process_folder(tmp_path, progress=False)
    files = list(dict.fromkeys(got.index.get_level_values("file")))
    assert files == [str(tmp_path / "x" / "same.wav"), str(tmp_path / "y" / "same.wav")]
    np.testing.assert_array_equal(got.loc[files[0]].to_numpy(), got.loc[files[1]].to_numpy())


@pytest.mark.slow
def test_two_worker_processes_equal_one(net):
    model = tinyemo.load(net)
    files = FILES * 2
    one = model.process_files(files, segments=(0.8, 0.4), progress=False)
    two = model.process_files(files, segments=(0.8, 0.4), num_workers=2, progress=False)
    pd.testing.assert_frame_equal(one, two, check_exact=True)


@pytest.mark.slow
def test_a_ten_minute_file_per_window_and_per_rttm_segment(net, tmp_path):
    data, rate = sf.read(str(SPEECH / "sense_and_sensibility_01_austen_64kb-0880.wav"),
                         dtype="int16")
    ten = np.tile(data, -(-600 * rate // data.size))[:600 * rate]
    path = tmp_path / "ten.wav"
    sf.write(str(path), ten, rate, subtype="PCM_16")
    rng = np.random.default_rng(0)
    onsets = np.sort(rng.uniform(0, 590, 40))
    rttm = tmp_path / "ten.rttm"
    rttm.write_text("".join(f"SPEAKER ten 1 {t:.3f} {d:.3f} <NA> <NA> s{k % 3} <NA> <NA>\n"
                            for k, (t, d) in enumerate(zip(onsets, rng.uniform(0.05, 9, 40)))))
    model = tinyemo.load(net)
    track = model.predict_file(path)
    assert len(track) == 15001
    windows = model.process_files([path], segments=(3.0, 1.0), progress=False)
    speakers = model.process_files([path], segments=rttm, std=True, progress=False)
    assert len(windows) == 598 and len(speakers) == 40
    for table in (windows, speakers):
        for (_, start, end), row in table.iterrows():
            mean, std = _slow_means(track["valence"], 0.0, start.total_seconds(),
                                    end.total_seconds())
            assert row["valence"] == pytest.approx(mean, abs=1e-6)
            if "valence_std" in row:
                assert row["valence_std"] == pytest.approx(std, abs=1e-6)


def test_a_segment_table_may_name_a_file_by_another_path(net, tmp_path):
    table = tmp_path / "segs.csv"
    other = SPEECH / ".." / "speech" / FILES[1].name
    table.write_text(f"file,start,end\n{other},0.2,1.0\n{tmp_path / 'no.wav'},0,1\n")
    with pytest.raises(ValueError, match=r"segments for files not given: .*segs.csv: line 3"):
        tinyemo.load(net).process_files(FILES, segments=table, progress=False)
    table.write_text(f"file,start,end\n{other},0.2,1.0\n")
    got = tinyemo.load(net).process_files(FILES, segments=table, progress=False)
    assert list(got.index.get_level_values("file")) == [str(FILES[1])]


def test_tables_without_pandas_name_the_extra(net, monkeypatch):
    track = tinyemo.load(net).predict_file(FILES[1])
    monkeypatch.setitem(sys.modules, "pandas", None)          # as if not installed
    with pytest.raises(RuntimeError, match=r"pip install 'tinyemo\[api\]'"):
        track.to_pandas()
    with pytest.raises(RuntimeError, match=r"pip install 'tinyemo\[api\]'"):
        tinyemo.load(net).process_files(FILES, progress=False)


def test_import_tinyemo_leaves_the_serve_layer_until_load():
    code = ("import sys, tinyemo; print(any(m.startswith('tinyemo.serve') or m == 'pandas' "
            "for m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"


def test_an_audformat_index_with_open_ends(net):
    index = pd.MultiIndex.from_arrays(
        [[str(FILES[1]), str(FILES[0])], pd.to_timedelta([0.5, 1.0], unit="s"),
         pd.to_timedelta([pd.NaT, 2.0], unit="s")], names=["file", "start", "end"])
    got = tinyemo.load(net).process_index(pd.DataFrame(index=index), progress=False)
    duration = sf.info(str(FILES[1])).duration
    assert got.index[0][2].total_seconds() == pytest.approx(duration)
    track = tinyemo.load(net).predict_file(FILES[1])
    mean, _ = _slow_means(track["arousal"], 0.0, 0.5, duration)
    assert got["arousal"].iloc[0] == pytest.approx(mean, abs=1e-6)
