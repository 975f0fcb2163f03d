"""TTSDataset / collate: ids, normalization, padding, and errors naming file and utterance."""

import numpy as np
import pytest
import torch

from pytorch_backend.data.targets import stop_targets
from pytorch_backend.data.tts_dataset import TTSDataset, collate, read_speakers, read_token_list
from pytorch_backend.errors import DataError
from tts_fixtures import EMOTIONS, N_MELS, PHONES, SPEAKERS, make_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("tiny"))


def dataset(c, split="train", feats=True, emotions=EMOTIONS, **kw):
    return TTSDataset(c["data_root"] / split, c["tokens"] / split / "text_tokens", c["tokens"] / "token_list",
                      SPEAKERS, emotions, feats_scp=c["dump"] / split / "feats.scp" if feats else None,
                      stats=c["dump"] / "stats.npz" if feats else None, **kw)


def test_items_ids_and_normalized_mels(corpus):
    ds = dataset(corpus)
    assert len(ds) == 24
    assert ds.utts == sorted(ds.utts, key=str.encode)
    item = ds[0]
    assert item["utt"] == "spkA_train00_angry" or item["utt"].startswith("spkA_")
    assert item["tokens"][-1].item() == len(PHONES) + 2  # <eos> appended
    assert item["speaker"] == 0 and item["emotion"] == EMOTIONS.index(item["utt"].rsplit("_", 1)[1])
    assert item["mel"].shape[1] == N_MELS
    assert ds.lengths[0] == item["mel"].shape[0]
    allmels = torch.cat([ds[i]["mel"] for i in range(len(ds))])
    assert allmels.mean(0).abs().max() < 1e-4  # normalized with the train stats
    assert (allmels.std(0, unbiased=False) - 1).abs().max() < 1e-3
    raw = ds.denormalize(item["mel"])
    assert float(raw.mean()) < -2.0  # back on the raw log-mel scale


def test_streaming_is_the_default_and_matches_preloading(corpus):
    lazy = dataset(corpus)
    eager = dataset(corpus, preload=True)
    assert not lazy._cache and len(eager._cache) == len(eager)
    assert lazy.lengths == eager.lengths
    assert torch.equal(lazy[3]["mel"], eager[3]["mel"])


def test_without_features(corpus):
    ds = dataset(corpus, split="eval", feats=False)
    assert ds[0]["mel"] is None and len(ds) == 6


def test_collate_pads_to_multiple_of_r_with_stop_targets(corpus):
    ds = dataset(corpus)
    items = [ds[i] for i in (0, 5, 9)]
    batch = collate(items, reduction_factor=3)
    lens = [it["mel"].shape[0] for it in items]
    t = batch["mels"].shape[1]
    assert t % 3 == 0 and max(lens) <= t < max(lens) + 3
    assert batch["mel_lens"].tolist() == lens
    assert batch["tokens"].shape == (3, max(len(it["tokens"]) for it in items))
    assert batch["token_mask"].sum(1).tolist() == [len(it["tokens"]) for it in items]
    assert batch["mel_mask"].sum(1).tolist() == lens
    for i, n in enumerate(lens):
        stop_step = (n + 2) // 3 - 1
        assert batch["stop_targets"][i].nonzero().flatten().tolist() == [stop_step]
        assert batch["stop_mask"][i].sum().item() == stop_step + 1
        assert float(batch["mels"][i, n:].abs().sum()) == 0.0
    assert batch["speakers"].tolist() == [it["speaker"] for it in items]


def test_read_speakers_c_sorted(tmp_path):
    p = tmp_path / "utt2spk"
    p.write_text("b_1 b\nB_1 B\na_1 a\n")
    assert read_speakers(p) == ["B", "a", "b"]


@pytest.mark.parametrize("content,line", [("<pad>\n<unk>\na\n", None), ("<pad>\n<unk>\na\na\n<eos>\n", 4),
                                          ("<pad>\n<unk>\n\n<eos>\n", 3)])
def test_bad_token_list_names_file(tmp_path, content, line):
    p = tmp_path / "token_list"
    p.write_text(content)
    with pytest.raises(DataError) as err:
        read_token_list(p)
    assert str(p) in str(err.value)
    assert err.value.line == line


def test_missing_token_list_names_file(tmp_path):
    with pytest.raises(DataError, match="token list not found"):
        read_token_list(tmp_path / "nope")


def _copy_corpus(corpus, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(corpus["data_root"].parent.parent, root)
    base = corpus["data_root"].parent.parent
    return {k: root / v.relative_to(base) for k, v in corpus.items()}


def test_utterance_missing_from_utt2spk_names_file_and_utt(corpus, tmp_path):
    c = _copy_corpus(corpus, tmp_path)
    path = c["data_root"] / "train" / "utt2spk"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[1:]))
    with pytest.raises(DataError) as err:
        dataset(c)
    assert str(path) in str(err.value) and lines[0].split()[0] in str(err.value)


def test_unknown_emotion_names_utt2emo_and_utt(corpus, tmp_path):
    with pytest.raises(DataError) as err:
        dataset(corpus, emotions=["neutral", "happy"])
    assert "utt2emo" in str(err.value) and "'sad'" in str(err.value) and err.value.utt


def test_unknown_speaker_names_utt2spk_and_utt(corpus):
    with pytest.raises(DataError) as err:
        TTSDataset(corpus["data_root"] / "dev", corpus["tokens"] / "dev" / "text_tokens",
                   corpus["tokens"] / "token_list", ["spkA"], EMOTIONS)
    assert "utt2spk" in str(err.value) and "spkB" in str(err.value) and err.value.utt.startswith("spkB")


def test_missing_features_name_scp_and_utt(corpus, tmp_path):
    c = _copy_corpus(corpus, tmp_path)
    scp = c["dump"] / "train" / "feats.scp"
    lines = scp.read_text().splitlines(keepends=True)
    # point the (copied) scp at the copied ark and drop its 3rd utterance
    text = "".join(lines[:2] + lines[3:]).replace(str(corpus["dump"]), str(c["dump"]))
    scp.write_text(text)
    with pytest.raises(DataError) as err:
        dataset(c)
    assert str(scp) in str(err.value) and err.value.utt == lines[2].split()[0]


def test_wrong_feature_dimension_names_scp_line(corpus, tmp_path):
    import kaldiio

    c = _copy_corpus(corpus, tmp_path)
    scp = c["dump"] / "dev" / "feats.scp"
    utts = [line.split()[0] for line in scp.read_text().splitlines()]
    mats = {u: np.zeros((5, N_MELS), dtype=np.float32) for u in utts}
    mats[utts[1]] = np.zeros((5, N_MELS + 1), dtype=np.float32)
    kaldiio.save_ark(str(c["dump"] / "dev" / "feats.ark"), mats, scp=str(scp))
    with pytest.raises(DataError) as err:
        dataset(c, split="dev")
    assert err.value.line == 2 and err.value.utt == utts[1] and f"x {N_MELS}" in str(err.value)


def test_unknown_token_maps_to_unk_with_warning(corpus, tmp_path, caplog):
    c = _copy_corpus(corpus, tmp_path)
    tt = c["tokens"] / "eval" / "text_tokens"
    lines = tt.read_text().splitlines()
    utt = lines[0].split()[0]
    lines[0] = f"{utt} a zz b"
    tt.write_text("\n".join(lines) + "\n")
    ds = dataset(c, split="eval", feats=False)
    assert ds[0]["tokens"].tolist() == [2, 1, 3, len(PHONES) + 2]
    assert "'zz'" in caplog.text and utt in caplog.text


def test_stop_targets_mark_the_last_real_step():
    target, mask = stop_targets(torch.tensor([9, 5]), num_groups=3, r=3)
    assert target.tolist() == [[0, 0, 1], [0, 1, 0]]
    assert mask.tolist() == [[True, True, True], [True, True, False]]
