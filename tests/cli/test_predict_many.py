"""``tinyemo predict`` over many files: worker processes write what one process writes, files
sharing a name mirror the input tree, --skip-existing keeps finished CSVs, --output writes one
table (per frame, per window, per segment) equal to ``Model.process_files``, and bad option
combinations are refused before anything is written."""
from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

import tinyemo
from tests.helpers import DATA
from tests.helpers.modelfolder import make_model_folder
from tinyemo.cli.predict import predict_main

SPEECH = DATA / "speech"
FILES = [SPEECH / "arctic_a0007.wav", SPEECH / "goforward.wav"]


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    return make_model_folder(tmp_path_factory.mktemp("net") / "m", "downup")


def _predict(net, *args):
    return predict_main(["--model", str(net), "--quiet", *map(str, args)])


def test_same_names_in_different_folders_mirror_the_tree(net, tmp_path, capsys):
    for sub in ("a", "b/c"):
        (tmp_path / "in" / sub).mkdir(parents=True)
        (tmp_path / "in" / sub / "x.wav").write_bytes(FILES[0].read_bytes())
    (tmp_path / "in" / "a" / "y.wav").write_bytes(FILES[1].read_bytes())
    audio = [tmp_path / "in" / "a" / "x.wav", tmp_path / "in" / "b" / "c" / "x.wav",
             tmp_path / "in" / "a" / "y.wav"]
    assert _predict(net, "--out", tmp_path / "out", *audio) == 0
    out = tmp_path / "out"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.csv")) == [
        "a/x.csv", "a/y.csv", "b/c/x.csv"]
    assert _predict(net, "--out", tmp_path / "single", FILES[0]) == 0
    want = (tmp_path / "single" / "arctic_a0007.csv").read_text()
    assert (out / "a" / "x.csv").read_text() == (out / "b" / "c" / "x.csv").read_text() == want
    capsys.readouterr()
    assert _predict(net, "--out", tmp_path / "twice", FILES[0], FILES[0]) == 2
    assert "given more than once" in capsys.readouterr().err


def test_skip_existing_keeps_finished_csvs(net, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "goforward.csv").write_text("kept\n")
    assert _predict(net, "--out", out, "--skip-existing", *FILES) == 0
    assert (out / "goforward.csv").read_text() == "kept\n"
    assert (out / "arctic_a0007.csv").read_text().startswith("time,arousal,valence\n0.00,")


def test_one_table_per_frame_window_and_segment(net, tmp_path):
    model = tinyemo.load(net)
    assert _predict(net, "--output", tmp_path / "frames.csv", "--out", tmp_path / "csv",
                    *FILES) == 0
    frames = pd.read_csv(tmp_path / "frames.csv")
    assert list(frames.columns) == ["file", "start", "end", "arousal", "valence"]
    track = model.predict_file(FILES[1])
    mine = frames[frames["file"] == str(FILES[1])]
    np.testing.assert_allclose(mine["start"], track.times, atol=1e-9)
    np.testing.assert_allclose(mine["valence"], track["valence"], rtol=5e-6, atol=1e-12)
    assert (tmp_path / "csv" / "goforward.csv").read_text() == track.to_csv(
        tmp_path / "again.csv").read_text()

    assert _predict(net, "--output", tmp_path / "w.parquet", "--window", 1, "--hop", 0.5,
                    "--std", *FILES) == 0
    windows = pd.read_parquet(tmp_path / "w.parquet")
    want = model.process_files(FILES, segments=(1.0, 0.5), std=True, progress=False)
    pd.testing.assert_frame_equal(windows, want)

    rttm = tmp_path / "d.rttm"
    rttm.write_text("SPEAKER goforward 1 0.2 1.1 <NA> <NA> A <NA> <NA>\n"
                    "SPEAKER arctic_a0007 1 1.0 2.0 <NA> <NA> B <NA> <NA>\n")
    assert _predict(net, "--output", tmp_path / "s.parquet", "--segments", rttm, *FILES) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "s.parquet"),
                                  model.process_files(FILES, segments=rttm, progress=False))


@pytest.mark.parametrize("args, message", [
    ((), "give --out DIR"),
    (("--out", "o", "--window", "3"), "--window and --hop go together"),
    (("--out", "o", "--window", "3", "--hop", "1"), "give --output"),
    (("--output", "t.xlsx"), "name a .csv or .parquet table"),
    (("--output", "t.csv", "--window", "0.01", "--hop", "1"), "window must be at least 0.04"),
    (("--output", "t.csv", "--skip-existing"), "only with --out alone"),
    (("--out", "o", "--workers", "0"), "--workers: must be >= 1"),
    (("--out", "o", "--workers", "2", "--dask-local", "2"), "give one of --workers, --dask"),
    (("--out", "o", "--dask-local", "0"), "--dask-local: local Dask workers must be"),
    (("--out", "o", "--scheduler", "nowhere"), "--scheduler: scheduler 'nowhere': expected"),
])
def test_bad_options_are_refused_before_anything_is_written(net, tmp_path, capsys, monkeypatch,
                                                            args, message):
    monkeypatch.chdir(tmp_path)
    assert _predict(net, *args, *FILES) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("error:")
    assert not any(p.name in ("o", "t.csv", "t.xlsx") for p in tmp_path.iterdir())


def test_bad_segment_table_names_its_line_and_writes_nothing(net, tmp_path, capsys):
    table = tmp_path / "s.csv"
    table.write_text(f"file,start,end\n{FILES[1]},0,1\n{FILES[1]},1.5,1.2\n")
    assert _predict(net, "--output", tmp_path / "t.csv", "--out", tmp_path / "o",
                    "--segments", table, *FILES) == 2
    assert f"{table}: line 3: segment of" in capsys.readouterr().err
    assert not (tmp_path / "t.csv").exists() and not (tmp_path / "o").exists()


@pytest.mark.slow
def test_two_workers_write_what_one_writes(net, tmp_path):
    files = [*FILES, SPEECH / "sense_and_sensibility_01_austen_64kb-0880.wav"]
    assert _predict(net, "--out", tmp_path / "one", *files) == 0
    assert _predict(net, "--out", tmp_path / "two", "--workers", 2, *files) == 0
    for f in files:
        name = f"{f.stem}.csv"
        assert (tmp_path / "two" / name).read_text() == (tmp_path / "one" / name).read_text()


@pytest.mark.slow
def test_a_local_dask_cluster_writes_what_one_process_writes(net, tmp_path):
    files = [*FILES, SPEECH / "sense_and_sensibility_01_austen_64kb-0880.wav"]
    assert _predict(net, "--out", tmp_path / "one", *files) == 0
    assert _predict(net, "--out", tmp_path / "dask", "--dask-local", 2, "--output",
                    tmp_path / "t.parquet", "--window", 1, "--hop", 1, *files) == 0
    for f in files:
        name = f"{f.stem}.csv"
        assert (tmp_path / "dask" / name).read_text() == (tmp_path / "one" / name).read_text()
    want = tinyemo.load(net).process_files(files, segments=(1.0, 1.0), progress=False)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), want)


def test_an_unwritable_table_is_refused_before_any_work(net, tmp_path, capsys, monkeypatch):
    (tmp_path / "f").write_text("")
    assert _predict(net, "--out", tmp_path / "o", "--output", tmp_path / "f" / "t.csv",
                    *FILES) == 2
    assert "f is not a folder" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "pyarrow", None)          # as if not installed
    assert _predict(net, "--out", tmp_path / "o", "--output", tmp_path / "t.parquet",
                    *FILES) == 2
    assert "pip install 'tinyemo[api]'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
