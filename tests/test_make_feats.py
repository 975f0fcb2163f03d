"""steps/make_feats.py and steps/compute_stats.py on a tiny data dir."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import kaldiio
import numpy as np
import pytest
from feats_fixtures import make_data_dir, vowel, write_wav

from pytorch_backend.errors import DataError
from pytorch_backend.feats import LogMelExtractor, load_audio
from pytorch_backend.feats.dump import dump_feats, split_entries, read_wav_scp
from pytorch_backend.io.kaldi_map import c_sorted
from tests.process_group import run as run_in_group

REPO = Path(__file__).resolve().parent.parent
CONF = {"fs": 22050, "n_fft": 1024, "hop_length": 256, "win_length": 1024, "n_mels": 80, "nj": 2}


def run_step(script: str, *args, cwd) -> subprocess.CompletedProcess:
    # Run from a directory other than the repo, as Snakemake does (absolute script path).
    return run_in_group([sys.executable, str(REPO / "steps" / script), *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def dumped(tmp_path_factory):
    root = tmp_path_factory.mktemp("mf")
    data = make_data_dir(root, num_utts=7)
    out = root / "dump" / "train"
    proc = run_step("make_feats.py", "--conf", json.dumps(CONF), "--data-dir", data, "--out", out,
                    "--nj", 2, "--log", root / "log" / "make_feats.log", cwd=root)
    assert proc.returncode == 0, proc.stderr
    return root, data, out


def test_scp_complete_sorted_and_loadable(dumped):
    root, data, out = dumped
    wav_scp = dict(line.split(maxsplit=1) for line in (data / "wav.scp").read_text().splitlines())
    scp_lines = (out / "feats.scp").read_text().splitlines()
    utts = [line.split()[0] for line in scp_lines]
    assert utts == c_sorted(wav_scp) and len(utts) == 7
    assert sorted(p.name for p in out.glob("feats.*.ark")) == ["feats.1.ark", "feats.2.ark"]
    assert all(Path(line.split()[1].rsplit(":", 1)[0]).is_absolute() for line in scp_lines)
    frames = dict(line.split() for line in (out / "utt2num_frames").read_text().splitlines())
    assert list(frames) == utts
    extractor = LogMelExtractor.from_conf(CONF)
    feats = kaldiio.load_scp(str(out / "feats.scp"))
    for utt in utts:
        mat = feats[utt]
        assert mat.dtype == np.float32 and mat.shape == (int(frames[utt]), 80)
        np.testing.assert_array_equal(mat, extractor(load_audio(wav_scp[utt].strip(), 22050)))
    info = json.loads((out / "feats_info.json").read_text())
    assert info["num_utts"] == 7 and info["nj"] == 2
    assert info["num_frames"] == sum(int(v) for v in frames.values())
    assert info["conf"]["n_mels"] == 80 and info["audio_seconds"] > 3.0
    assert "7 utterances" in (root / "log" / "make_feats.log").read_text()
    assert not list(out.glob(".*tmp"))


def test_failing_rerun_keeps_previous_output(dumped):
    root, data, out = dumped
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad_data = root / "data_bad"
    bad_data.mkdir()
    lines = (data / "wav.scp").read_text().splitlines()
    broken_utt, broken_wav = lines[5].split()
    corrupt = root / "corrupt.wav"
    corrupt.write_bytes(Path(broken_wav).read_bytes()[:30])  # a truncated header
    lines[5] = f"{broken_utt} {corrupt}"
    (bad_data / "wav.scp").write_text("\n".join(lines) + "\n")
    proc = run_step("make_feats.py", "--conf", json.dumps(CONF), "--data-dir", bad_data, "--out", out,
                    cwd=root)
    assert proc.returncode == 1
    assert f"{bad_data / 'wav.scp'}:6 (utterance {broken_utt})" in proc.stderr
    assert "corrupt.wav" in proc.stderr
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # byte-identical scp, arks and index files; no temp files left
    mat = kaldiio.load_scp(str(out / "feats.scp"))[broken_utt]
    assert mat.shape[1] == 80


def test_compute_stats_cli_matches_numpy(dumped):
    root, _, out = dumped
    stats_path = root / "dump" / "stats.npz"
    proc = run_step("compute_stats.py", "--feats-scp", out / "feats.scp", "--out", stats_path, cwd=root)
    assert proc.returncode == 0, proc.stderr
    frames = np.concatenate([m for _, m in kaldiio.load_scp_sequential(str(out / "feats.scp"))])
    with np.load(stats_path) as stats:
        assert int(stats["count"]) == frames.shape[0]
        np.testing.assert_allclose(stats["mean"], frames.astype(np.float64).mean(axis=0), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(stats["std"], frames.astype(np.float64).std(axis=0), rtol=1e-5)


def test_rerun_with_fewer_jobs_replaces_arks(tmp_path):
    data = make_data_dir(tmp_path, num_utts=3)
    out = tmp_path / "dump"
    dump_feats(dict(CONF), data, out, nj=3, progress=False)
    assert len(list(out.glob("feats.*.ark"))) == 3
    info = dump_feats(dict(CONF), data, out, nj=1, progress=False)
    assert [p.name for p in out.glob("feats.*.ark")] == ["feats.1.ark"] and info["nj"] == 1
    assert len(kaldiio.load_scp(str(out / "feats.scp"))) == 3


def test_rate_mismatch_with_resampling_off_fails_the_stage(tmp_path):
    data = make_data_dir(tmp_path, num_utts=2)
    write_wav(tmp_path / "wav" / "spk1_utt01.wav", vowel(0.3, fs=16000), fs=16000)
    with pytest.raises(DataError) as err:
        dump_feats(dict(CONF, resample=False), data, tmp_path / "dump", nj=1, progress=False)
    assert f"{data / 'wav.scp'}:2 (utterance spk1_utt01)" in str(err.value)
    assert "16000" in str(err.value) and "22050" in str(err.value)
    assert not (tmp_path / "dump" / "feats.scp").exists()
    info = dump_feats(dict(CONF, resample=True), data, tmp_path / "dump", nj=1, progress=False)
    assert info["num_utts"] == 2


def test_wav_scp_problems_name_the_line(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "wav.scp").write_text("b x.wav\na y.wav\nb z.wav\n")
    with pytest.raises(DataError, match=r"wav\.scp:3 \(utterance b\): duplicate utterance id \(first on line 1\)"):
        read_wav_scp(data / "wav.scp")
    (data / "wav.scp").write_text("")
    with pytest.raises(DataError, match=r"wav\.scp: wav\.scp is empty"):
        read_wav_scp(data / "wav.scp")


def test_split_entries_is_contiguous_and_balanced(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "wav.scp").write_text("".join(f"u{i} w{i}.wav\n" for i in range(10)))
    entries = read_wav_scp(data / "wav.scp")
    parts = split_entries(entries, 3)
    assert [len(p) for p in parts] == [3, 4, 3]
    assert [e for p in parts for e in p] == entries
    assert len(split_entries(entries, 50)) == 10
