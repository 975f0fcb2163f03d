"""Tiny trained experiments laid out as the DAG leaves them, for the synthesis tests.

The tiny corpus of tts_fixtures (letters a-h as tokens) with a character token list that also
holds the word boundary and the marks ``! , . ?``, so raw text such as "Bad cab, face a bead!"
goes through the real English cleaners and the char tokenizer. Every backend is trained a few
steps into ``exp/tiny_<model>/`` with ``config.yaml``, ``train/best.pt``, ``styles.pt`` and the
asset index; shared by the corpus: ``exp/tiny_textemo`` (a text emotion classifier trained on
tiny texts whose end marks follow the emotion), ``exp/tiny_ser`` (an untrained emotion
classifier: its probabilities are deterministic, which is what the tests need) and
``exp/tiny_voc_hifigan`` (an untrained small HiFi-GAN generator).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import yaml

from prosody_fixtures import add_prosody, tiny_fs2_conf
from tts_fixtures import EMOTIONS, FEATS_CONF, N_MELS, PHONES, SPEAKERS, make_corpus, tiny_conf

BACKENDS = ["tacotron2", "gst", "vae", "emo_dnn", "emo_cvae", "fastspeech2"]
CHAR_TOKENS = ["<pad>", "<unk>", "!", ",", ".", "<space>", "?", *PHONES, "<eos>"]
WORDS = ["bad", "cab", "face", "fade", "bead", "dead", "deaf", "head", "beach", "badge", "cafe", "egg"]
END_MARK = {"neutral": ".", "happy": "!", "sad": "?"}
VOCODER_GEN = {"upsample_initial_channel": 16, "upsample_rates": [8, 8], "upsample_kernel_sizes": [16, 16],
               "resblock": "2", "resblock_kernel_sizes": [3], "resblock_dilation_sizes": [[1, 2]]}


def train_conf(model: str, **train) -> dict:
    conf = tiny_fs2_conf(**train) if model == "fastspeech2" else tiny_conf(model, **train)
    conf["token_type"] = "char"
    return conf


def resolved_config(model: str, vocoders=("griffin_lim",)) -> dict:
    """What steps/write_config.py writes for exp/tiny_<model>/config.yaml (the parts synthesis reads)."""
    conf = train_conf(model)
    vocs = {"griffin_lim": {"name": "griffin_lim", "conf": {"n_iter": 4}}}
    if "hifigan" in vocoders:
        vocs["hifigan"] = {"name": "hifigan", "conf": {"batch_size": 2}, "train": {}}
    return {"exp": f"tiny_{model}",
            "corpus": {"name": "tiny", "language": "en", "token_type": "char", "emotions": list(EMOTIONS),
                       "feats": "mel16", "vocoders": list(vocoders)},
            "feats": dict(FEATS_CONF), "feats_name": "mel16", "tts": conf["tts"], "vocoders": vocs}


def write_texts(data_root: Path) -> None:
    """A ``text`` file per split whose end mark follows the emotion (what the text classifier learns)."""
    rng = np.random.default_rng(7)
    for split in ("train", "dev", "eval"):
        rows = [line.split() for line in (data_root / split / "utt2emo").read_text().splitlines()]
        lines = []
        for utt, emo in rows:
            words = " ".join(rng.choice(WORDS, size=3))
            lines.append(f"{utt} {words.capitalize()}{END_MARK[emo]}\n")
        (data_root / split / "text").write_text("".join(lines))


def make_tiny_vocoder(out_dir: Path) -> Path:
    from pytorch_backend.vocoders.hifigan import HiFiGAN
    from pytorch_backend.vocoders.neural import feats_signature

    torch.manual_seed(0)
    gen = HiFiGAN.build_generator(VOCODER_GEN, FEATS_CONF)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.save({"vocoder": "hifigan", "generator_conf": VOCODER_GEN, "feats": feats_signature(FEATS_CONF),
                "model": gen.state_dict()}, out_dir / "model.pt")
    return out_dir / "model.pt"


def make_tiny_ser(out_dir: Path) -> Path:
    from pytorch_backend.ser import build_classifier
    from pytorch_backend.ser.train import save_classifier

    torch.manual_seed(0)
    model = build_classifier("cnn_pool", {"channels": 8, "hidden": 8}, len(EMOTIONS), N_MELS)
    save_classifier(out_dir / "model.pt", model.state_dict(), "cnn_pool", {"channels": 8, "hidden": 8}, EMOTIONS,
                    N_MELS, 0, 0.0)
    return out_dir / "model.pt"


def build_experiments(root, backends=BACKENDS, steps: int = 6) -> dict:
    """Train ``backends`` under ``root`` as the DAG would; returns paths (see the module docstring)."""
    from pytorch_backend.synth.assets import write_index
    from pytorch_backend.synth.export import compute_styles
    from pytorch_backend.synth.textemo import train_text_emotion
    from pytorch_backend.tts.training import train_tts

    root = Path(root)
    corpus = add_prosody(make_corpus(root))
    (Path(corpus["tokens"]) / "token_list").write_text("\n".join(CHAR_TOKENS) + "\n")
    write_texts(Path(corpus["data_root"]))
    exp = root / "exp"
    textemo = exp / "tiny_textemo"
    train_text_emotion(corpus["data_root"], textemo, list(EMOTIONS), "en")
    ser = make_tiny_ser(exp / "tiny_ser")
    voc = make_tiny_vocoder(exp / "tiny_voc_hifigan")
    out = {"root": root, "corpus": corpus, "exp": {}, "ser": ser, "vocoder": voc, "textemo": textemo}
    for model in backends:
        d = exp / f"tiny_{model}"
        train_tts(train_conf(model, max_steps=steps, eval_interval=3, save_interval=3), corpus["data_root"],
                  corpus["tokens"], corpus["dump"], d / "train", threads=1, source=f"conf/tts/{model}.yaml")
        vocoders = ("griffin_lim", "hifigan") if model == "gst" else ("griffin_lim",)
        (d / "config.yaml").write_text(yaml.safe_dump(resolved_config(model, vocoders), sort_keys=False))
        compute_styles(d / "train", corpus["data_root"], corpus["tokens"], corpus["dump"], d / "styles.pt",
                       progress=False)
        (d / "results.md").write_text(f"# tiny_{model}\n\nresults card\n")
        write_index(d / "assets.json", f"tiny_{model}",
                    {"model": d / "train" / "best.pt", "config": d / "config.yaml",
                     "token_list": Path(corpus["tokens"]) / "token_list", "stats": Path(corpus["dump"]) / "stats.npz",
                     "styles": d / "styles.pt", "text_emotion": textemo / "model.json", "ser": ser,
                     "results": d / "results.md"},
                    vocoders={"hifigan": voc} if model == "gst" else {}, vocoder="griffin_lim")
        out["exp"][model] = d
    return out


def build_bpe_experiment(exps: dict, model: str = "tacotron2") -> Path:
    """A BPE experiment beside those of :func:`build_experiments`: a sentencepiece model trained on
    the tiny texts, text_tokens of its pieces, ``model`` trained a few steps; returns its exp dir."""
    from pytorch_backend.synth.assets import write_index
    from pytorch_backend.synth.export import compute_styles
    from pytorch_backend.text.token_list import TokenList
    from pytorch_backend.text.tokenizers import BpeTokenizer, train_bpe
    from pytorch_backend.tts.training import train_tts

    root, corpus = Path(exps["root"]), exps["corpus"]
    data_root = Path(corpus["data_root"])
    tokens = data_root / "tokens" / "bpe"
    texts = {split: dict(line.split(maxsplit=1) for line in (data_root / split / "text").read_text().splitlines())
             for split in ("train", "dev", "eval")}
    from pytorch_backend.text.cleaners import clean_text

    tokens.mkdir(parents=True, exist_ok=True)
    train_bpe([clean_text(t) for t in texts["train"].values()], tokens / "bpe.model", 40)
    bpe = BpeTokenizer("en", model=tokens / "bpe.model")
    TokenList.build(bpe.vocabulary()).save(tokens / "token_list")
    for split, rows in texts.items():
        (tokens / split).mkdir(exist_ok=True)
        (tokens / split / "text_tokens").write_text("".join(f"{u} {' '.join(bpe.tokenize(t))}\n"
                                                            for u, t in sorted(rows.items())))
    d = root / "exp" / f"tiny_{model}_bpe"
    conf = train_conf(model, max_steps=3, eval_interval=3, save_interval=3)
    conf["token_type"] = "bpe"
    train_tts(conf, data_root, tokens, corpus["dump"], d / "train", threads=1, source=f"conf/tts/{model}.yaml")
    config = resolved_config(model)
    config["corpus"]["token_type"] = "bpe"
    (d / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    compute_styles(d / "train", data_root, tokens, corpus["dump"], d / "styles.pt", progress=False)
    write_index(d / "assets.json", d.name, {"model": d / "train" / "best.pt", "config": d / "config.yaml",
                                            "token_list": tokens / "token_list", "bpe_model": tokens / "bpe.model",
                                            "stats": Path(corpus["dump"]) / "stats.npz", "styles": d / "styles.pt"})
    return d


__all__ = ["BACKENDS", "EMOTIONS", "SPEAKERS", "build_experiments", "resolved_config", "train_conf"]
