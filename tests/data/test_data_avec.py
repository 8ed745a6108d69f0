"""Reading corpora: the AVEC 2016 RECOLA layout and the CSV manifest, written by the tests."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tinyemo.data import (
    Corpus, Recording, load_corpus, read_avec2016, read_individual_ratings, read_manifest,
)
from tinyemo.data.avec2016 import read_arff
from tinyemo.data.grid import resample_to_grid

FS = 16000


def write_wav(path: Path, seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    sf.write(path, (rng.standard_normal(int(seconds * FS)) * 1000).astype(np.int16), FS, subtype="PCM_16")


def arff_text(name: str, values, eol: str = "\n") -> str:
    rows = [f"{name},{0.04 * j:.2f},{v:.6f}" for j, v in enumerate(values)]
    return eol.join(["@relation GoldStandard", "", "@attribute Instance_name string",
                     "@attribute frameTime numeric", "@attribute GoldStandard numeric", "",
                     "@data", "", *rows]) + eol


def make_avec(root: Path, seconds: float = 2.0) -> dict[str, np.ndarray]:
    """train_1, train_2, train_10, dev_1 labelled; test_1 unlabelled; returns the arousal tracks."""
    n = int(round(seconds / 0.04)) + 1
    tracks = {}
    for k, name in enumerate(["train_1", "train_2", "train_10", "dev_1", "test_1"]):
        write_wav(root / "recordings_audio" / f"{name}.wav", seconds)
        if name.startswith("test"):
            continue
        for target, offset in (("arousal", 0.0), ("valence", 0.5)):
            values = np.sin(np.arange(n) / 7 + k) * 0.3 + offset
            p = root / "ratings_gold_standard" / target / f"{name}.arff"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(arff_text(name, values))
            if target == "arousal":
                tracks[name] = values
    return tracks


def test_avec_layout_reads_partitions_labels_and_unlabelled_test(tmp_path):
    tracks = make_avec(tmp_path)
    corpus = read_avec2016(tmp_path)
    assert corpus.ids == ("train_1", "train_2", "train_10", "dev_1", "test_1")  # natural order
    assert corpus.partitions == ("train", "dev", "test")
    assert [r.id for r in corpus.partition("train")] == ["train_1", "train_2", "train_10"]
    assert corpus.targets == ("arousal", "valence")
    assert corpus.speakers[0] == "train_1"  # one speaker per recording
    test = corpus["test_1"]
    assert not test.labelled and test.labels == {} and test.partition == "test"
    rec = corpus["train_2"]
    assert rec.labels["arousal"].dtype == np.float32 and rec.labels["arousal"].shape == (51,)
    np.testing.assert_allclose(rec.labels["arousal"], tracks["train_2"], atol=1e-6)
    np.testing.assert_allclose(rec.times("arousal")[:3], [0.0, 0.04, 0.08])
    assert rec.audio == tmp_path / "recordings_audio" / "train_2.wav"
    assert len(corpus) == 5 and [r.id for r in corpus][0] == "train_1" and "dev_1" in corpus
    assert isinstance(load_corpus(tmp_path), Corpus)


def test_arff_with_comments_blank_lines_crlf_case_and_quotes(tmp_path):
    make_avec(tmp_path)
    text = ("% AVEC 2016 gold standard\r\n\r\n@RELATION 'Gold Standard'\r\n"
            "@Attribute Instance_name STRING\r\n% a comment between attributes\r\n"
            "@ATTRIBUTE frameTime NUMERIC\r\n@attribute GoldStandard real\r\n\r\n@DATA\r\n"
            "% comment in the data\r\n'dev_1', 0.00 , 0.5\r\n\r\n\"dev_1\",0.04,-0.25\r\n"
            + "".join(f"dev_1,{0.04 * j:.6f},{j / 100:.3f}\r\n" for j in range(2, 51)))
    (tmp_path / "ratings_gold_standard/arousal/dev_1.arff").write_bytes(text.encode())
    track = read_avec2016(tmp_path)["dev_1"].labels["arousal"]
    assert track.shape == (51,)
    np.testing.assert_allclose(track[:4], [0.5, -0.25, 0.02, 0.03], atol=1e-7)
    cols, lines = read_arff(tmp_path / "ratings_gold_standard/arousal/dev_1.arff")
    assert set(cols) == {"frameTime", "GoldStandard"} and lines[:3] == [11, 13, 14]


def test_individual_ratings_semicolon_csv(tmp_path):
    make_avec(tmp_path)
    p = tmp_path / "ratings_individual" / "arousal" / "train_1.csv"
    p.parent.mkdir(parents=True)
    p.write_text("time;FM1;FM2;FF1\r\n0.00;0.1;0.2;-0.3\r\n0.04;0.15;0.25;-0.35\r\n\r\n")
    times, ratings, names = read_individual_ratings(tmp_path, "train_1", "arousal")
    assert names == ["FM1", "FM2", "FF1"]
    np.testing.assert_allclose(times, [0.0, 0.04])
    assert ratings.dtype == np.float32 and ratings.shape == (2, 3)
    np.testing.assert_allclose(ratings[1], [0.15, 0.25, -0.35], rtol=1e-6)


def test_speakers_csv_overrides_speaker(tmp_path):
    make_avec(tmp_path)
    (tmp_path / "speakers.csv").write_text("id,speaker\ntrain_1,alice\ndev_1,alice\n")
    corpus = read_avec2016(tmp_path)
    assert corpus["train_1"].speaker == "alice" and corpus["dev_1"].speaker == "alice"
    assert corpus["train_2"].speaker == "train_2"


def test_manifest_corpus_resamples_labels_to_40ms(tmp_path):
    write_wav(tmp_path / "wav" / "a.wav", 2.0)
    write_wav(tmp_path / "wav" / "b.wav", 2.0)
    # 10 Hz labels: value = 10 t, so the 40 ms grid gets 0.4 j
    (tmp_path / "a_ar.csv").write_text("time,value\n" + "".join(f"{k / 10:.1f},{k}\n" for k in range(21)))
    # 100 Hz labels starting at 0.02 s: grid points before take the first value
    (tmp_path / "a_va.csv").write_text("time,value\n" + "".join(f"{0.02 + k / 100:.2f},{k}\n" for k in range(199)))
    (tmp_path / "corpus.csv").write_text(
        "audio,speaker,partition,arousal,valence\n"
        "wav/a.wav,s1,train,a_ar.csv,a_va.csv\n"
        "wav/b.wav,s2,test,,\n")
    corpus = load_corpus(tmp_path / "corpus.csv")
    assert corpus.ids == ("a", "b") and corpus.targets == ("arousal", "valence")
    a = corpus["a"]
    assert a.speaker == "s1" and a.partition == "train" and a.audio == tmp_path / "wav" / "a.wav"
    assert a.labels["arousal"].shape == (51,)  # floor(2.0 / 0.04) + 1
    np.testing.assert_allclose(a.labels["arousal"][:4], [0.0, 0.4, 0.8, 1.2], atol=1e-5)
    np.testing.assert_allclose(a.labels["arousal"][-1], 20.0, atol=1e-5)
    va = a.labels["valence"]
    assert va.shape == (51,)  # t_last = 0.02 + 1.98 = 2.0
    np.testing.assert_allclose(va[:3], [0.0, 2.0, 6.0], atol=1e-4)
    assert not corpus["b"].labelled and corpus.partition("test")[0].speaker == "s2"


def test_resample_rule_numbers():
    t = np.array([0.0, 0.05, 0.10, 0.15])
    v = np.array([0.0, 1.0, 0.0, 1.0])
    out = resample_to_grid(t, v)
    np.testing.assert_allclose(out, [0.0, 0.8, 0.4, 0.4], atol=1e-6)  # t = 0, .04, .08, .12


def test_manifest_id_column(tmp_path):
    write_wav(tmp_path / "x.wav", 1.0)
    (tmp_path / "m.csv").write_text("id,audio,speaker,partition\nrec-7,x.wav,s,dev\n")
    corpus = read_manifest(tmp_path / "m.csv")
    assert corpus.ids == ("rec-7",) and corpus.targets == ()


def test_recording_rejects_2d_labels(tmp_path):
    with pytest.raises(ValueError, match="1-D"):
        Recording("r", "s", "train", tmp_path / "r.wav", {"arousal": np.zeros((3, 2))})
