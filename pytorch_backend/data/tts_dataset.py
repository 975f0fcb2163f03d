"""TTS training/decoding data: token ids + normalized log-mel + speaker id + emotion id.

Inputs (see docs/ARCHITECTURE.md):
- ``data/<corpus>/<split>/{utt2spk,utt2emo}``;
- ``data/<corpus>/tokens/<type>/token_list`` and ``.../<split>/text_tokens``;
- optionally ``dump/<corpus>/<feats>/<split>/feats.scp`` and ``stats.npz``; mels are
  normalized here, everything on disk stays raw;
- with ``with_prosody`` (FastSpeech 2), ``pitch.scp`` and ``energy.scp`` beside feats.scp, one
  value per mel frame: pitch becomes log-F0 with unvoiced frames linearly interpolated
  (:func:`pytorch_backend.feats.pitch.log_f0_interpolated`) and, like energy, is normalized with
  the ``pitch_*``/``energy_*`` scalars of stats.npz. Items then carry ``pitch``, ``energy`` (T,)
  float and ``voiced`` (T,) bool.

The utterances of a split are those of ``text_tokens`` (C order). Each must be in utt2spk,
utt2emo and, when features are used, feats.scp; otherwise a DataError names the file and
utterance. Speaker ids index the C-sorted train speakers, emotion ids the conf's list.

Memory: by default features stream from the arks. The constructor reads only each entry's
header (its frame count, for the length-bucketed sampler, and a shape check, so a bad entry
fails before training starts); ``__getitem__`` reads that utterance's matrix by offset. A
process holds the index of the split, never its data, whatever the corpus size (each DDP rank
too). ``preload=True`` keeps every normalized mel (and prosody vector) in memory instead, for
small corpora read many times per second.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from pytorch_backend.data.feats_table import FeatsTable
from pytorch_backend.data.targets import stop_targets
from pytorch_backend.errors import DataError
from pytorch_backend.feats.pitch import log_f0_interpolated
from pytorch_backend.feats.stats import PROSODY_KINDS, load_prosody_stats, load_stats
from pytorch_backend.io.kaldi_map import c_sorted, read_kv, read_kv_lines

log = logging.getLogger("emotts.data")

PAD, UNK, EOS = "<pad>", "<unk>", "<eos>"


def read_token_list(path) -> list[str]:
    """Tokens of a token_list file (line index = id); checks the <pad>/<unk>/<eos> convention."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "token list not found (run steps/make_tokens.py)")
    with open(path, encoding="utf-8") as fh:
        tokens = [line.rstrip("\n") for line in fh]
    seen: dict[str, int] = {}
    for i, tok in enumerate(tokens):
        if not tok or " " in tok:
            raise DataError(path, f"invalid token {tok!r} (empty or with a space)", line=i + 1)
        if tok in seen:
            raise DataError(path, f"duplicate token {tok!r} (first on line {seen[tok]})", line=i + 1)
        seen[tok] = i + 1
    if len(tokens) < 3 or tokens[0] != PAD or tokens[1] != UNK or tokens[-1] != EOS:
        raise DataError(path, f"a token list starts with {PAD}, {UNK} and ends with {EOS}")
    return tokens


def read_speakers(utt2spk) -> list[str]:
    """The C-sorted speakers of an utt2spk file (the train split's define the speaker ids)."""
    return c_sorted(set(read_kv(utt2spk).values()))


class TTSDataset(Dataset):
    """Items ``{"utt", "tokens" (N,) long, "speaker", "emotion", "mel" (T, n_mels) | None}``
    (+ ``pitch``, ``energy``, ``voiced`` (T,) with ``with_prosody``)."""

    def __init__(self, split_dir, text_tokens, token_list, speakers: list[str], emotions: list[str],
                 feats_scp=None, stats=None, append_eos: bool = True, preload: bool = False,
                 n_mels: int | None = None, with_prosody: bool = False, prosody_stats: dict | None = None):
        split_dir = Path(split_dir)
        self.tokens = read_token_list(token_list) if not isinstance(token_list, list) else token_list
        tok2id = {t: i for i, t in enumerate(self.tokens)}
        spk2id = {s: i for i, s in enumerate(speakers)}
        emo2id = {e: i for i, e in enumerate(emotions)}
        utt2spk_path, utt2emo_path = split_dir / "utt2spk", split_dir / "utt2emo"
        utt2spk, utt2emo = read_kv(utt2spk_path), read_kv(utt2emo_path)
        unknown_tokens: dict[str, str] = {}
        self.items: list[dict] = []
        rows = sorted(read_kv_lines(text_tokens), key=lambda r: r[1].encode("utf-8"))
        if not rows:
            raise DataError(text_tokens, "no utterances")
        for lineno, utt, value in rows:
            ids = []
            for tok in value.split():
                if tok not in tok2id:
                    unknown_tokens.setdefault(tok, utt)
                ids.append(tok2id.get(tok, 1))
            if append_eos:
                ids.append(len(self.tokens) - 1)
            if utt not in utt2spk:
                raise DataError(utt2spk_path, "utterance missing", utt=utt)
            if utt not in utt2emo:
                raise DataError(utt2emo_path, "utterance missing", utt=utt)
            spk, emo = utt2spk[utt], utt2emo[utt]
            if spk not in spk2id:
                raise DataError(utt2spk_path, f"speaker '{spk}' is not a train speaker "
                                f"(known: {', '.join(speakers)})", utt=utt)
            if emo not in emo2id:
                raise DataError(utt2emo_path, f"emotion '{emo}' is not in the conf's emotions "
                                f"(known: {', '.join(emotions)})", utt=utt)
            self.items.append({"utt": utt, "tokens": torch.tensor(ids, dtype=torch.long),
                               "speaker": spk2id[spk], "emotion": emo2id[emo]})
        for tok, utt in unknown_tokens.items():
            log.warning("%s: token %r (first in utterance %s) is not in the token list; mapped to %s",
                        text_tokens, tok, utt, UNK)
        self.utts = [it["utt"] for it in self.items]
        self.feats_scp = feats_scp
        self.mean = self.std = None
        self.lengths = [len(it["tokens"]) for it in self.items]  # replaced by mel lengths below
        if feats_scp is not None:
            if stats is None:
                raise ValueError("feats_scp needs stats (a stats.npz path or a (mean, std) pair)")
            mean, std = load_stats(stats) if not isinstance(stats, tuple) else stats
            self.mean = torch.from_numpy(np.asarray(mean, dtype=np.float32))
            self.std = torch.from_numpy(np.asarray(std, dtype=np.float32))
            self._attach_feats(Path(feats_scp), preload, n_mels or len(self.mean))
        self.with_prosody = bool(with_prosody)
        if self.with_prosody:
            if feats_scp is None:
                raise ValueError("with_prosody needs feats_scp (pitch.scp/energy.scp lie beside it)")
            if prosody_stats is None:
                if isinstance(stats, tuple):
                    raise ValueError("with_prosody and (mean, std) stats need prosody_stats")
                prosody_stats = load_prosody_stats(stats)
            self.prosody_stats = prosody_stats
            self._attach_prosody(Path(feats_scp).parent, preload)

    def _attach_feats(self, scp: Path, preload: bool, n_mels: int) -> None:
        # Lengths and shapes come from the ark headers (pytorch_backend.data.feats_table): an
        # index of the split, not its data; with ``preload`` the normalized mels are kept too.
        self._feats = FeatsTable(scp, "features")
        for utt in self.utts:
            if utt not in self._feats:
                raise DataError(scp, "utterance missing (features were not dumped for it)", utt=utt)
        self.n_mels = n_mels
        self._cache: dict[str, torch.Tensor] = {}
        for i, utt in enumerate(self.utts):
            if preload:
                mel = self._load(utt)
                self._cache[utt] = mel
                self.lengths[i] = mel.shape[0]
            else:
                self.lengths[i] = self._check_shape(self._feats, utt, self._feats.shape(utt))[0]

    def _check_shape(self, table: FeatsTable, utt: str, shape: tuple) -> tuple:
        if len(shape) != 2 or shape[1] != self.n_mels or shape[0] == 0:
            raise table.error(utt, f"expected frames x {self.n_mels} features, got shape {tuple(shape)}")
        return shape

    def _attach_prosody(self, dump_split: Path, preload: bool) -> None:
        self._prosody_specs = {}
        for kind in PROSODY_KINDS:
            scp = dump_split / f"{kind}.scp"
            if not scp.is_file():
                raise DataError(scp, f"{kind} file not found: dump pitch/energy with the feats conf's "
                                     "pitch_energy: true (steps/make_feats.py)")
            table = FeatsTable(scp, kind)
            for i, utt in enumerate(self.utts):
                if utt not in table:
                    raise DataError(scp, f"utterance missing ({kind} was not dumped for it)", utt=utt)
                if not preload:  # header check now, so a bad entry fails before training starts
                    self._check_prosody_shape(table, kind, utt, table.shape(utt), self.lengths[i])
            self._prosody_specs[kind] = table
        self._prosody_cache: dict[str, dict] = {}
        if preload:
            for i, utt in enumerate(self.utts):
                self._prosody_cache[utt] = self._load_prosody(utt, self.lengths[i])

    @staticmethod
    def _check_prosody_shape(table: FeatsTable, kind: str, utt: str, shape: tuple, num_frames: int) -> None:
        if len(shape) != 1 or shape[0] != num_frames:
            raise table.error(utt, f"expected {num_frames} {kind} values (one per mel frame of feats.scp), "
                                   f"got shape {tuple(shape)}")

    def _load_prosody(self, utt: str, num_frames: int) -> dict:
        """Normalized ``pitch`` (interpolated log-F0), ``energy`` and ``voiced`` of one utterance."""
        raw = {}
        for kind, table in self._prosody_specs.items():
            vec = table.load(utt)
            self._check_prosody_shape(table, kind, utt, vec.shape, num_frames)
            if not np.isfinite(vec).all():
                raise table.error(utt, f"non-finite {kind} values")
            raw[kind] = vec
        log_f0, voiced = log_f0_interpolated(raw["pitch"])
        (p_mean, p_std), (e_mean, e_std) = self.prosody_stats["pitch"], self.prosody_stats["energy"]
        return {"pitch": torch.from_numpy((log_f0 - p_mean) / p_std).float(),
                "energy": torch.from_numpy((raw["energy"] - e_mean) / e_std).float(),
                "voiced": torch.from_numpy(voiced)}

    def _load(self, utt: str) -> torch.Tensor:
        mat = self._feats.load(utt)
        self._check_shape(self._feats, utt, mat.shape)
        return (torch.from_numpy(mat) - self.mean) / self.std

    def normalize(self, mel: torch.Tensor) -> torch.Tensor:
        return (mel - self.mean) / self.std

    def denormalize(self, mel: torch.Tensor) -> torch.Tensor:
        return mel * self.std.to(mel.device) + self.mean.to(mel.device)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        item = dict(self.items[index])
        if self.feats_scp is not None:
            utt = item["utt"]
            item["mel"] = self._cache[utt] if utt in self._cache else self._load(utt)
            if self.with_prosody:
                prosody = self._prosody_cache.get(utt)
                item.update(prosody if prosody is not None else self._load_prosody(utt, item["mel"].shape[0]))
        else:
            item["mel"] = None
        return item


def collate(items: list[dict], reduction_factor: int = 1) -> dict:
    """Pad a list of items into a batch.

    tokens (B, N) padded with 0, token_lens, token_mask; mels (B, T, n_mels) zero-padded with
    T rounded up to a multiple of ``reduction_factor``, mel_lens (true lengths), mel_mask,
    stop_targets/stop_mask (B, T/r); speakers, emotions (B,); utts (list); with prosody items
    also pitch, energy (B, T) float and voiced (B, T) bool, zero/False-padded like the mels.
    """
    r = reduction_factor
    b = len(items)
    token_lens = torch.tensor([len(it["tokens"]) for it in items])
    tokens = torch.zeros(b, int(token_lens.max()), dtype=torch.long)
    for i, it in enumerate(items):
        tokens[i, : len(it["tokens"])] = it["tokens"]
    batch = {
        "utts": [it["utt"] for it in items],
        "tokens": tokens,
        "token_lens": token_lens,
        "token_mask": torch.arange(tokens.size(1)).unsqueeze(0) < token_lens.unsqueeze(1),
        "speakers": torch.tensor([it["speaker"] for it in items]),
        "emotions": torch.tensor([it["emotion"] for it in items]),
    }
    if items[0].get("mel") is not None:
        mel_lens = torch.tensor([it["mel"].shape[0] for it in items])
        t = -(-int(mel_lens.max()) // r) * r
        mels = torch.zeros(b, t, items[0]["mel"].shape[1])
        for i, it in enumerate(items):
            mels[i, : it["mel"].shape[0]] = it["mel"]
        stop, stop_mask = stop_targets(mel_lens, t // r, r)
        batch.update(mels=mels, mel_lens=mel_lens,
                     mel_mask=torch.arange(t).unsqueeze(0) < mel_lens.unsqueeze(1),
                     stop_targets=stop, stop_mask=stop_mask)
        if items[0].get("pitch") is not None:
            for key, dtype in (("pitch", torch.float32), ("energy", torch.float32), ("voiced", torch.bool)):
                padded = torch.zeros(b, t, dtype=dtype)
                for i, it in enumerate(items):
                    padded[i, : it[key].shape[0]] = it[key]
                batch[key] = padded
    return batch
