"""Bad corpora: every problem is a ValueError that names the file (and line) and the problem."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tinyemo.data import (
    Corpus, Recording, load_corpus, read_avec2016, read_individual_ratings, read_manifest,
)

FS = 16000
HEADER = ("@relation GoldStandard\n@attribute Instance_name string\n"
          "@attribute frameTime numeric\n@attribute GoldStandard numeric\n")  # lines 1-4


def write_wav(path: Path, seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(int(seconds * FS), np.int16), FS, subtype="PCM_16")


def rows(name: str, n: int) -> str:
    return "".join(f"{name},{0.04 * j:.2f},0.1\n" for j in range(n))


@pytest.fixture
def avec(tmp_path):
    """A valid 2 s corpus (train_1, dev_1) whose dev_1 arousal ARFF the tests then break."""
    for name in ("train_1", "dev_1"):
        write_wav(tmp_path / "recordings_audio" / f"{name}.wav", 2.0)
        for target in ("arousal", "valence"):
            p = tmp_path / "ratings_gold_standard" / target / f"{name}.arff"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(HEADER + "@data\n" + rows(name, 51))
    read_avec2016(tmp_path)  # valid as written
    return tmp_path


def arff(root: Path) -> Path:
    return root / "ratings_gold_standard" / "arousal" / "dev_1.arff"


def raises_at(path: Path, line: int | None, match: str):
    where = re.escape(str(path)) + (f", line {line}" if line is not None else "")
    return pytest.raises(ValueError, match=f"{where}.*{match}")


def test_missing_root_audio_and_gold_folders(tmp_path):
    with raises_at(tmp_path / "nope", None, "no such corpus"):
        load_corpus(tmp_path / "nope")
    with raises_at(tmp_path / "recordings_audio", None, "missing folder"):
        read_avec2016(tmp_path)
    write_wav(tmp_path / "recordings_audio" / "train_1.wav", 1.0)
    with raises_at(tmp_path / "ratings_gold_standard", None, "missing folder"):
        read_avec2016(tmp_path)


def test_no_wavs_and_arff_without_audio(avec):
    (avec / "ratings_gold_standard/valence/test_9.arff").write_text(HEADER + "@data\n" + rows("test_9", 3))
    with raises_at(avec / "ratings_gold_standard/valence/test_9.arff", None, "no matching audio"):
        read_avec2016(avec)
    for p in (avec / "recordings_audio").iterdir():
        p.unlink()
    with raises_at(avec / "recordings_audio", None, "no .wav files"):
        read_avec2016(avec)


def test_label_missing_for_one_target(avec):
    arff(avec).unlink()
    with raises_at(arff(avec), None, "missing"):
        read_avec2016(avec)


def test_bad_wav_name(avec):
    write_wav(avec / "recordings_audio" / "session.wav", 1.0)
    with raises_at(avec / "recordings_audio" / "session.wav", None, "train_1.wav"):
        read_avec2016(avec)


def test_arff_missing_data_line(avec):
    arff(avec).write_text(HEADER + rows("dev_1", 51))
    with raises_at(arff(avec), 5, "@data"):
        read_avec2016(avec)
    arff(avec).write_text(HEADER)
    with raises_at(arff(avec), None, "no @data"):
        read_avec2016(avec)


@pytest.mark.parametrize("bad_row, match", [
    ("dev_1,0.08", "expected 3 comma-separated values.*got 2"),
    ("dev_1,0.08,0.1,0.2", "expected 3 comma-separated values.*got 4"),
    ("dev_1,0.08,high", "non-numeric value 'high' in column GoldStandard"),
    ("dev_1,zero,0.1", "non-numeric value 'zero' in column frameTime"),
    ("dev_1,0.08,nan", "non-finite value 'nan'"),
    ("dev_1,0.08,?", "missing or non-finite value '\\?'"),
    ("dev_1,0.10,0.1", "not on the 40 ms label grid"),
])
def test_malformed_arff_rows_name_the_line(avec, bad_row, match):
    lines = rows("dev_1", 51).splitlines()
    lines[2] = bad_row  # data row 3 sits on file line 5 (header) + 1 (@data) + 3 = 8
    arff(avec).write_text(HEADER + "@data\n" + "\n".join(lines) + "\n")
    with raises_at(arff(avec), 8, match):
        read_avec2016(avec)


def test_label_track_far_longer_or_shorter_than_audio(avec):
    arff(avec).write_text(HEADER + "@data\n" + rows("dev_1", 101))  # 4 s of labels, 2 s of audio
    with raises_at(arff(avec), 106, "runs to 4.00 s.*lasts 2.00 s"):
        read_avec2016(avec)
    arff(avec).write_text(HEADER + "@data\n" + rows("dev_1", 20))  # 0.76 s of labels
    with raises_at(arff(avec), 25, "ends at 0.76 s.*lasts 2.00 s"):
        read_avec2016(avec)
    arff(avec).write_text(HEADER + "@data\n" + rows("dev_1", 70))  # 2.76 s: within 1 s
    assert read_avec2016(avec)["dev_1"].labels["arousal"].shape == (70,)


def test_individual_ratings_errors(avec):
    p = avec / "ratings_individual" / "arousal" / "dev_1.csv"
    with raises_at(p, None, "no such file"):
        read_individual_ratings(avec, "dev_1", "arousal")
    p.parent.mkdir(parents=True)
    p.write_text("time,A1,A2\n0.0,0.1,0.2\n")
    with raises_at(p, 1, "';'-separated header"):
        read_individual_ratings(avec, "dev_1", "arousal")
    p.write_text("time;A1;A2\n0.0;0.1;0.2\n0.04;0.1\n")
    with raises_at(p, 3, "expected 3 ';'-separated values"):
        read_individual_ratings(avec, "dev_1", "arousal")
    p.write_text("time;A1;A2\n0.0;0.1;NaN\n")
    with raises_at(p, 2, "non-finite"):
        read_individual_ratings(avec, "dev_1", "arousal")


def test_duplicate_ids(tmp_path):
    write_wav(tmp_path / "a" / "x.wav", 1.0)
    write_wav(tmp_path / "b" / "x.wav", 1.0)
    (tmp_path / "m.csv").write_text("audio,speaker,partition\na/x.wav,s1,train\nb/x.wav,s2,dev\n")
    with raises_at(tmp_path / "m.csv", 3, "duplicate recording id 'x' \\(first on line 2\\)"):
        read_manifest(tmp_path / "m.csv")
    with pytest.raises(ValueError, match="duplicate recording id 'x'"):
        Corpus([Recording("x", "s", "train", tmp_path / "a/x.wav"),
                Recording("x", "s", "dev", tmp_path / "b/x.wav")])


def test_manifest_errors(tmp_path):
    m = tmp_path / "m.csv"
    write_wav(tmp_path / "x.wav", 2.0)
    with raises_at(m, None, "no such file"):
        read_manifest(m)
    m.write_text("audio,partition,arousal\nx.wav,train,l.csv\n")
    with raises_at(m, 1, "lacks column\\(s\\) speaker"):
        read_manifest(m)
    m.write_text("audio,speaker,partition\nmissing.wav,s,train\n")
    with raises_at(m, 2, "audio file .*missing.wav does not exist"):
        read_manifest(m)
    m.write_text("audio,speaker,partition,arousal\nx.wav,s,train,l.csv\n")
    with raises_at(m, 2, "arousal label file .*l.csv does not exist"):
        read_manifest(m)
    m.write_text("audio,speaker,partition\nx.wav,s\n")
    with raises_at(m, 2, "expected 3 comma-separated values"):
        read_manifest(m)


@pytest.mark.parametrize("text, line, match", [
    ("0.0,1\n0.1,2\n", 1, "header 'time,value'"),
    ("time,value\n0.0,1\n0.1,x\n", 3, "non-numeric value 'x'"),
    ("time,value\n0.0,1\n0.1,nan\n", 3, "non-finite value 'nan'"),
    ("time,value\n0.0,1\n0.1,2\n0.3,3\n0.4,4\n", 4, "regular rate"),
    ("time,value\n0.0,1\n0.1,2,3\n", 3, "expected 2 comma-separated values"),
    ("time,value\n5.0,1\n5.1,2\n", 2, "first label time"),
    ("time,value\n" + "".join(f"{k / 10:.1f},0\n" for k in range(50)), 51, "runs to 4.88 s"),
    ("time,value\n0.0,1\n0.5,2\n", 3, "ends at 0.48 s"),
])
def test_manifest_label_csv_errors(tmp_path, text, line, match):
    write_wav(tmp_path / "x.wav", 2.0)
    (tmp_path / "l.csv").write_text(text)
    (tmp_path / "m.csv").write_text("audio,speaker,partition,arousal\nx.wav,s,train,l.csv\n")
    with raises_at(tmp_path / "l.csv", line, match):
        read_manifest(tmp_path / "m.csv")


def test_load_corpus_rejects_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("hi")
    with raises_at(tmp_path / "notes.txt", None, "not a corpus"):
        load_corpus(tmp_path / "notes.txt")


def test_unreadable_audio(avec):
    (avec / "recordings_audio" / "dev_1.wav").write_bytes(b"not a wav file at all")
    with raises_at(avec / "recordings_audio" / "dev_1.wav", None, "cannot read audio header"):
        read_avec2016(avec)
