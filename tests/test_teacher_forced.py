"""Teacher-forced mels of a trained TTS model (pytorch_backend/vocoders/teacher_forced.py)."""

import copy

import kaldiio
import numpy as np
import pytest
import torch

from pytorch_backend.data.tts_dataset import collate
from pytorch_backend.errors import DataError
from pytorch_backend.io.kaldi_map import read_kv
from pytorch_backend.train.checkpoints import save_atomic
from pytorch_backend.tts import build_model
from pytorch_backend.tts.loading import load_split
from pytorch_backend.vocoders.teacher_forced import dump_teacher_forced
from prosody_fixtures import TINY_FS2, add_prosody
from tts_fixtures import EMOTIONS, N_MELS, PHONES, SPEAKERS, TINY_MODEL_CONF, make_corpus

torch.set_num_threads(1)
TOKENS = ["<pad>", "<unk>", *PHONES, "<eos>"]


def fake_trained(out, name: str, conf: dict):
    """``out/best.pt`` of an untrained model, with the metadata training writes."""
    torch.manual_seed(0)
    model = build_model(name, conf, len(TOKENS), len(SPEAKERS), len(EMOTIONS), N_MELS)
    meta = {"model": name, "model_conf": conf, "num_tokens": len(TOKENS), "num_speakers": len(SPEAKERS),
            "num_emotions": len(EMOTIONS), "n_mels": N_MELS, "speakers": SPEAKERS, "emotions": EMOTIONS,
            "tokens": TOKENS}
    out.mkdir(parents=True)
    save_atomic({"model": model.state_dict(), "meta": meta}, out / "best.pt")
    return model.eval()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return add_prosody(make_corpus(tmp_path_factory.mktemp("tf"), {"train": 1, "dev": 1}))


# Tacotron 2's prenet keeps its dropout at inference (as in the paper): off here, so a batched and
# a lone pass can be compared number for number
@pytest.mark.parametrize("name, conf", [("tacotron2", dict(TINY_MODEL_CONF["tacotron2"], prenet_dropout=0.0)), ("fastspeech2", TINY_FS2)],
                         ids=["tacotron2-r2", "fastspeech2-prosody"])
def test_teacher_forced_mels_have_real_lengths_and_the_model_output(corpus, tmp_path, name, conf):
    model = fake_trained(tmp_path / "model", name, copy.deepcopy(conf))
    counts = dump_teacher_forced(tmp_path / "model", corpus["data_root"], corpus["tokens"], corpus["dump"],
                                 ["train", "dev"], tmp_path / "tf", batch_frames=60, progress=False)
    assert counts == {"train": 6, "dev": 6}
    for split in ("train", "dev"):
        real = read_kv(corpus["dump"] / split / "utt2num_frames")
        out = tmp_path / "tf" / split
        assert read_kv(out / "utt2num_frames") == real
        mats = {k: np.array(v) for k, v in kaldiio.load_scp(str(out / "feats.scp")).items()}
        assert list(mats) == sorted(real) and all(mats[u].shape == (int(real[u]), N_MELS) for u in real)
    # the same utterance alone through the model gives the same (de-normalized) mel
    ds = load_split(corpus["data_root"], corpus["tokens"], corpus["dump"], "dev", TOKENS, SPEAKERS, EMOTIONS,
                    n_mels=N_MELS, with_prosody=name == "fastspeech2")
    item = ds[0]
    with torch.no_grad():
        alone = ds.denormalize(model.forward_batch(collate([item], model.r))["mel_after"][0]).numpy()
    got = np.array(kaldiio.load_scp(str(tmp_path / "tf" / "dev" / "feats.scp"))[item["utt"]])
    np.testing.assert_allclose(got, alone[:len(got)], atol=1e-4, rtol=1e-4)


def test_missing_model_names_best_pt(corpus, tmp_path):
    with pytest.raises(DataError, match=r"best\.pt: trained model not found"):
        dump_teacher_forced(tmp_path / "nowhere", corpus["data_root"], corpus["tokens"], corpus["dump"],
                            ["dev"], tmp_path / "tf", progress=False)
