"""Frame-level F0 and energy: extraction, dumping beside the mels (same frames), statistics,
the atomic-write guarantee, and loading them (normalized) into the TTS dataset."""

from __future__ import annotations

import sys
from pathlib import Path

import kaldiio
import numpy as np
import pytest
from feats_fixtures import make_data_dir, vowel
from prosody_fixtures import add_prosody
from tts_fixtures import EMOTIONS, SPEAKERS, make_corpus

from pytorch_backend.errors import DataError
from pytorch_backend.feats import LogMelExtractor, load_audio
from pytorch_backend.feats.dump import dump_feats
from pytorch_backend.feats.energy import frame_energy
from pytorch_backend.feats.pitch import PitchExtractor, log_f0_interpolated
from pytorch_backend.feats.stats import compute_prosody_stats, load_prosody_stats
from tests.process_group import run as run_in_group

REPO = Path(__file__).resolve().parent.parent
CONF = {"fs": 22050, "n_fft": 1024, "hop_length": 256, "win_length": 1024, "n_mels": 80, "nj": 2}


@pytest.fixture(scope="module")
def dumped(tmp_path_factory):
    root = tmp_path_factory.mktemp("pe")
    data = make_data_dir(root, num_utts=4)
    out = root / "dump" / "train"
    dump_feats(dict(CONF), data, out, nj=2, progress=False)
    return root, data, out


def test_pitch_energy_have_one_value_per_mel_frame(dumped):
    root, data, out = dumped
    frames = {u: int(n) for u, n in (line.split() for line in (out / "utt2num_frames").read_text().splitlines())}
    scps = {kind: (out / f"{kind}.scp").read_text().splitlines() for kind in ("feats", "pitch", "energy")}
    assert [line.split()[0] for line in scps["pitch"]] == [line.split()[0] for line in scps["feats"]]
    assert sorted(p.name for p in out.glob("pitch.*.ark")) == ["pitch.1.ark", "pitch.2.ark"]
    pitch, energy = kaldiio.load_scp(str(out / "pitch.scp")), kaldiio.load_scp(str(out / "energy.scp"))
    wav_scp = dict(line.split(maxsplit=1) for line in (data / "wav.scp").read_text().splitlines())
    ext = LogMelExtractor.from_conf(CONF)
    for i, utt in enumerate(sorted(frames)):
        f0, e = pitch[utt], energy[utt]
        assert f0.dtype == np.float32 and f0.shape == (frames[utt],) and e.shape == (frames[utt],)
        voiced = f0[f0 > 0]
        assert len(voiced) > 0.6 * len(f0)
        # the fixture's vowels have F0 110 + 15 i Hz (with 3 % vibrato)
        assert np.median(voiced) == pytest.approx(110.0 + 15 * i, rel=0.04)
        trimmed = ext.trim(load_audio(wav_scp[utt].strip(), 22050))
        np.testing.assert_allclose(e, np.log(np.maximum(np.linalg.norm(ext.magnitude(trimmed).numpy(), axis=1),
                                                        1e-5)), rtol=1e-5, atol=1e-5)


def test_pitch_extractor_methods_agree_and_bad_conf_fails():
    wav = vowel(0.5, f0=150.0)
    dio = PitchExtractor(f0_method="dio")(wav, 44)
    harvest = PitchExtractor(f0_method="harvest")(wav, 44)
    both = (dio > 0) & (harvest > 0)
    assert both.sum() > 30
    np.testing.assert_allclose(dio[both], harvest[both], rtol=0.05)
    assert dio.shape == (44,) and PitchExtractor()(wav, 50)[44:].sum() == 0  # padded as unvoiced
    with pytest.raises(ValueError, match="f0_method"):
        PitchExtractor(f0_method="yin")
    with pytest.raises(ValueError, match="f0_floor < f0_ceil"):
        PitchExtractor(f0_floor=500.0, f0_ceil=100.0)


def test_log_f0_interpolation_and_energy():
    lf0, voiced = log_f0_interpolated(np.array([0.0, 100.0, 0.0, 0.0, 400.0, 0.0]))
    np.testing.assert_allclose(np.exp(lf0), [100, 100, 100 * 4 ** (1 / 3), 100 * 4 ** (2 / 3), 400, 400], rtol=1e-5)
    assert voiced.tolist() == [False, True, False, False, True, False]
    lf0, voiced = log_f0_interpolated(np.zeros(3))
    assert lf0.tolist() == [0.0, 0.0, 0.0] and not voiced.any()
    np.testing.assert_allclose(frame_energy(np.array([[3.0, 4.0], [0.0, 0.0]])), [np.log(5.0), np.log(1e-5)],
                               rtol=1e-6)


def test_compute_stats_cli_adds_pitch_energy_stats(dumped):
    root, _, out = dumped
    stats_path = root / "dump" / "stats.npz"
    proc = run_in_group([sys.executable, str(REPO / "steps" / "compute_stats.py"), "--feats-scp",
                           str(out / "feats.scp"), "--out", str(stats_path)], cwd=root, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    f0 = np.concatenate([v for _, v in kaldiio.load_scp_sequential(str(out / "pitch.scp"))])
    e = np.concatenate([v for _, v in kaldiio.load_scp_sequential(str(out / "energy.scp"))])
    lf0 = np.log(f0[f0 > 0].astype(np.float64))
    with np.load(stats_path) as stats:
        assert int(stats["pitch_count"]) == lf0.size and int(stats["energy_count"]) == e.size
        assert float(stats["pitch_mean"]) == pytest.approx(lf0.mean(), rel=1e-5)
        assert float(stats["pitch_std"]) == pytest.approx(lf0.std(), rel=1e-4)
        assert float(stats["energy_mean"]) == pytest.approx(e.astype(np.float64).mean(), rel=1e-5)
        assert stats["mean"].shape == (80,)
    prosody = load_prosody_stats(stats_path)
    assert prosody["pitch"][0] == pytest.approx(lf0.mean(), rel=1e-5)


def test_failing_pitch_extraction_names_utt_and_keeps_previous_output(dumped, monkeypatch):
    root, data, out = dumped
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad_utt = sorted(before and [line.split()[0] for line in (data / "wav.scp").read_text().splitlines()])[2]
    original = PitchExtractor.__call__
    calls = {"n": 0}

    def failing(self, wav, num_frames):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("pyworld exploded")
        return original(self, wav, num_frames)

    monkeypatch.setattr(PitchExtractor, "__call__", failing)
    with pytest.raises(DataError) as err:
        dump_feats(dict(CONF), data, out, nj=1, progress=False)
    assert f"wav.scp:3 (utterance {bad_utt})" in str(err.value) and "pyworld exploded" in str(err.value)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_disabled_pitch_energy_removes_stale_files(tmp_path):
    data = make_data_dir(tmp_path, num_utts=2)
    out = tmp_path / "dump"
    dump_feats(dict(CONF), data, out, nj=2, progress=False)
    assert (out / "pitch.scp").is_file() and (out / "energy.2.ark").is_file()
    dump_feats(dict(CONF, pitch_energy=False), data, out, nj=1, progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["feats.1.ark", "feats.scp", "feats_info.json",
                                                     "utt2num_frames"]


def test_prosody_stats_errors(tmp_path):
    scp = tmp_path / "pitch.scp"
    kaldiio.save_ark(str(tmp_path / "p.ark"), {"a": np.zeros(4, np.float32), "b": np.zeros((2, 2), np.float32)},
                     scp=str(scp))
    with pytest.raises(DataError, match=r"pitch\.scp:2 \(utterance b\): expected a non-empty finite vector"):
        compute_prosody_stats(scp, "pitch", progress=False)
    kaldiio.save_ark(str(tmp_path / "p.ark"), {"a": np.zeros(4, np.float32)}, scp=str(scp))
    with pytest.raises(DataError, match="no voiced frame"):
        compute_prosody_stats(scp, "pitch", progress=False)
    np.savez(tmp_path / "stats.npz", mean=np.zeros(3), std=np.ones(3), count=np.int64(3))
    with pytest.raises(DataError, match=r"stats\.npz: no pitch statistics"):
        load_prosody_stats(tmp_path / "stats.npz")


# -- the TTS dataset --------------------------------------------------------------------------
def _dataset(paths, split="train", **kw):
    from pytorch_backend.data.tts_dataset import TTSDataset

    dump = Path(paths["dump"])
    return TTSDataset(Path(paths["data_root"]) / split, Path(paths["tokens"]) / split / "text_tokens",
                      paths["tokens"] / "token_list", SPEAKERS, EMOTIONS, feats_scp=dump / split / "feats.scp",
                      stats=dump / "stats.npz", **kw)


def test_dataset_loads_normalized_prosody_and_collate_pads(tmp_path):
    from pytorch_backend.data.tts_dataset import collate

    paths = add_prosody(make_corpus(tmp_path, sentences={"train": 2, "dev": 1}))
    plain = _dataset(paths)
    assert "pitch" not in plain[0]
    for preload in (True, False):
        ds = _dataset(paths, with_prosody=True, preload=preload)
        stats = load_prosody_stats(Path(paths["dump"]) / "stats.npz")
        raw = kaldiio.load_scp(str(Path(paths["dump"]) / "train" / "pitch.scp"))
        item = ds[0]
        f0 = raw[item["utt"]]
        assert item["pitch"].shape == item["energy"].shape == item["voiced"].shape == (item["mel"].shape[0],)
        assert item["voiced"].numpy().tolist() == (f0 > 0).tolist()
        voiced = f0 > 0
        expected = (np.log(f0[voiced]) - stats["pitch"][0]) / stats["pitch"][1]
        np.testing.assert_allclose(item["pitch"].numpy()[voiced], expected, rtol=1e-5, atol=1e-5)
    items = [ds[i] for i in range(3)]
    batch = collate(items)
    t = max(it["mel"].shape[0] for it in items)
    assert batch["pitch"].shape == batch["energy"].shape == batch["voiced"].shape == (3, t)
    short = min(range(3), key=lambda i: items[i]["mel"].shape[0])
    n = items[short]["mel"].shape[0]
    assert batch["pitch"][short, n:].abs().sum() == 0 and not batch["voiced"][short, n:].any()
    assert not {"pitch", "energy", "voiced"} & set(collate([plain[0], plain[1]]))  # unchanged without prosody


def test_dataset_prosody_errors_name_scp_and_utterance(tmp_path):
    paths = add_prosody(make_corpus(tmp_path, sentences={"train": 1, "dev": 1}))
    split = Path(paths["dump"]) / "train"
    energy = kaldiio.load_scp(str(split / "energy.scp"))
    utts = sorted(energy.keys(), key=lambda k: k.encode())
    bad = {u: energy[u] for u in utts}
    bad[utts[1]] = bad[utts[1]][:-2]  # two frames short
    kaldiio.save_ark(str(split / "energy.ark"), bad, scp=str(split / "energy.scp"))
    with pytest.raises(DataError) as err:
        _dataset(paths, with_prosody=True)
    assert f"energy.scp:2 (utterance {utts[1]})" in str(err.value) and "one per mel frame" in str(err.value)
    del bad[utts[1]]
    kaldiio.save_ark(str(split / "energy.ark"), bad, scp=str(split / "energy.scp"))
    with pytest.raises(DataError, match=rf"energy\.scp \(utterance {utts[1]}\): utterance missing"):
        _dataset(paths, with_prosody=True)
    (split / "pitch.scp").unlink()
    with pytest.raises(DataError, match=r"pitch\.scp: pitch file not found"):
        _dataset(paths, with_prosody=True)
    with np.load(Path(paths["dump"]) / "stats.npz") as data:
        np.savez(Path(paths["dump"]) / "stats.npz", mean=data["mean"], std=data["std"], count=data["count"])
    with pytest.raises(DataError, match="no pitch statistics"):
        _dataset(paths, with_prosody=True)
