"""Ground-floor Kaldi I/O (pytorch_backend/io): map files and the ark/scp writer."""

import kaldiio
import numpy as np
import pytest

from pytorch_backend.errors import DataError
from pytorch_backend.io import ark as ark_io
from pytorch_backend.io.ark import write_ark_scp
from pytorch_backend.io.kaldi_map import c_sorted, read_kv, read_kv_lines, spk2utt_from_utt2spk, write_kv


def read_scp(out, name="feats"):
    return {k: np.array(v) for k, v in kaldiio.load_scp(str(out / f"{name}.scp")).items()}


def test_map_round_trip_in_c_order(tmp_path):
    path = tmp_path / "utt2spk"
    write_kv(path, {"b-2": "b", "B-1": "B", "a-1": "a", "a-10": "a"})
    assert path.read_text() == "B-1 B\na-1 a\na-10 a\nb-2 b\n"
    assert read_kv(path) == {"B-1": "B", "a-1": "a", "a-10": "a", "b-2": "b"}
    assert c_sorted(["é", "z", "Z"]) == ["Z", "z", "é"]
    assert spk2utt_from_utt2spk(read_kv(path)) == {"B": "B-1", "a": "a-1 a-10", "b": "b-2"}


def test_bad_map_lines_name_file_line_and_utterance(tmp_path):
    path = tmp_path / "text"
    path.write_text("u1 hello  world\nu2\n")
    with pytest.raises(DataError) as err:
        read_kv_lines(path)
    assert (err.value.path, err.value.line, err.value.utt) == (str(path), 2, "u2")
    path.write_text("u1 a\n\nu2 b\n")
    with pytest.raises(DataError, match=r"text:2: empty line"):
        read_kv(path)
    path.write_text("u1 a\nu1 b\n")
    with pytest.raises(DataError, match=r"text:2 \(utterance u1\): duplicate id 'u1'"):
        read_kv(path)
    with pytest.raises(DataError, match="file not found"):
        read_kv(tmp_path / "missing")
    path.write_text("u1  two  spaces \n")
    assert read_kv_lines(path) == [(1, "u1", "two  spaces")]


def test_ark_scp_holds_every_matrix_with_absolute_paths(tmp_path):
    mats = {"u2": np.arange(6, dtype=np.float32).reshape(3, 2), "u1": np.ones((1, 2), np.float32)}
    write_ark_scp(tmp_path, mats)
    lines = (tmp_path / "feats.scp").read_text().splitlines()
    assert [ln.split()[0] for ln in lines] == ["u2", "u1"]  # the order given
    assert all(ln.split()[1].startswith(str((tmp_path / "feats.ark").resolve()) + ":") for ln in lines)
    back = read_scp(tmp_path)
    assert all(np.array_equal(back[u], mats[u]) for u in mats)
    write_ark_scp(tmp_path, {"x": np.zeros((2, 3), np.float32)}, name="pitch")
    assert read_scp(tmp_path, "pitch")["x"].shape == (2, 3)


def test_failed_rewrite_keeps_previous_ark_and_scp(tmp_path, monkeypatch):
    mats = {"u1": np.ones((3, 2), dtype=np.float32)}
    write_ark_scp(tmp_path, mats)

    def broken(fd, d):
        fd.write(b"junk")
        raise OSError("disk full")

    monkeypatch.setattr(ark_io.kaldiio, "save_ark", broken)
    with pytest.raises(OSError):
        write_ark_scp(tmp_path, {"u1": np.zeros((3, 2), dtype=np.float32)})
    assert np.array_equal(read_scp(tmp_path)["u1"], mats["u1"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feats.ark", "feats.scp"]
