"""The espeak_emo corpus conf (its ``prep:`` section), the seeded utterance plan, and metadata.tsv.

The plan says which sentences are used, which split each belongs to (splits are by sentence:
a dev or eval sentence is never heard in train), which speaker speaks it (a seeded rotation, so
every split has every speaker about equally often) and in which emotions:

- eval and dev sentences are spoken in *every* emotion of the conf, so those splits are
  balanced over emotions and every evaluation sentence can be compared across emotions;
- train sentences are spoken in ``emotions_per_sentence`` emotions, a rotating window over the
  conf's emotions (with as many as there are emotions, each sentence in all of them).

Utterance ids are ``<speaker>_<emotion>_s<sentence index:04d>`` (speaker-prefixed, Kaldi style).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from local.espeak_emo.prosody import EMOTIONS, SPEAKERS
from local.espeak_emo.sentences import SENTENCES
from pytorch_backend.errors import ConfigError, DataError

#: The keys of the ``prep:`` section and their defaults.
PREP_DEFAULTS = {
    "num_sentences": 180,  # sentences used (from sentences.py, a seeded choice)
    "emotions_per_sentence": 5,  # emotions each train sentence is spoken in
    "speakers": ["m1", "m3", "m7", "f1", "f4"],  # ids from prosody.SPEAKERS
    "seed": 1,  # sentence choice, split and speaker rotation
    "dev_sentences": 8,  # sentences held out for dev (all emotions)
    "eval_sentences": 10,  # sentences held out for eval (all emotions)
    "num_workers": 2,  # parallel synthesis processes
}

METADATA_NAME = "metadata.tsv"
METADATA_HEADER = ("utt_id", "speaker", "emotion", "sentence_id", "split", "text")
SPLITS = ("train", "dev", "eval")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class Utterance:
    utt_id: str
    speaker: str
    emotion: str
    sentence_id: str
    split: str
    text: str


def conf_source(conf: dict) -> str:
    """The conf file a corpus conf (received as JSON) came from, for error messages."""
    return f"conf/corpus/{conf.get('name') or 'espeak_emo'}.yaml"


def _int_key(prep: dict, key: str, source: str, lo: int, hi: int | None = None) -> int:
    value = prep[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(source, f"must be an integer, got {value!r}", key=f"prep.{key}")
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise ConfigError(source, f"must be {bound}, got {value}", key=f"prep.{key}")
    return value


def check_conf(conf: dict) -> dict:
    """Validate the corpus conf; return the ``prep`` section with defaults filled in.

    Unknown ``prep`` keys, bad values, emotions without a prosody entry and unknown speakers are
    ConfigErrors naming the key.
    """
    source = conf_source(conf)
    prep_in = conf.get("prep") or {}
    if not isinstance(prep_in, dict):
        raise ConfigError(source, f"expected a mapping, got {type(prep_in).__name__}", key="prep")
    for key in prep_in:
        if key not in PREP_DEFAULTS:
            raise ConfigError(source, f"unknown key (known keys: {', '.join(sorted(PREP_DEFAULTS))})",
                              key=f"prep.{key}")
    prep = copy.deepcopy(PREP_DEFAULTS)
    prep.update(copy.deepcopy(prep_in))

    emotions = conf.get("emotions") or []
    if not isinstance(emotions, list) or not emotions or len(set(emotions)) != len(emotions):
        raise ConfigError(source, "must be a non-empty list of distinct emotions", key="emotions")
    unknown = [e for e in emotions if e not in EMOTIONS]
    if unknown:
        raise ConfigError(source, f"no prosody for {unknown} (known: {', '.join(EMOTIONS)})",
                          key="emotions")
    fs = conf.get("fs", 22050)
    if fs != 22050:
        raise ConfigError(source, f"eSpeak NG synthesizes at 22050 Hz, got {fs}", key="fs")

    speakers = prep["speakers"]
    if (not isinstance(speakers, list) or not speakers
            or not all(isinstance(s, str) for s in speakers) or len(set(speakers)) != len(speakers)):
        raise ConfigError(source, f"must be a non-empty list of distinct speaker ids, got {speakers!r}",
                          key="prep.speakers")
    bad = [s for s in speakers if s not in SPEAKERS]
    if bad:
        raise ConfigError(source, f"unknown speaker(s) {bad} (known: {', '.join(SPEAKERS)})",
                          key="prep.speakers")
    _int_key(prep, "num_sentences", source, 3, len(SENTENCES))
    _int_key(prep, "emotions_per_sentence", source, 1, len(emotions))
    _int_key(prep, "seed", source, 0)
    _int_key(prep, "dev_sentences", source, 1)
    _int_key(prep, "eval_sentences", source, 1)
    _int_key(prep, "num_workers", source, 1, 64)
    if prep["dev_sentences"] + prep["eval_sentences"] >= prep["num_sentences"]:
        raise ConfigError(source, f"dev_sentences + eval_sentences must leave train sentences out of "
                                  f"num_sentences={prep['num_sentences']}", key="prep.num_sentences")
    return prep


def sentence_id(index: int) -> str:
    return f"s{index:04d}"


def plan_corpus(conf: dict) -> list[Utterance]:
    """Every utterance of the corpus, sorted by utterance id; the same conf gives the same plan."""
    prep = check_conf(conf)
    emotions = list(conf["emotions"])
    speakers = list(prep["speakers"])
    rng = np.random.default_rng(prep["seed"])
    chosen = [int(i) for i in rng.permutation(len(SENTENCES))[: prep["num_sentences"]]]
    n_eval, n_dev = prep["eval_sentences"], prep["dev_sentences"]
    by_split = {"eval": chosen[:n_eval], "dev": chosen[n_eval:n_eval + n_dev],
                "train": chosen[n_eval + n_dev:]}
    speaker_offset = int(rng.integers(len(speakers)))
    emotion_offset = int(rng.integers(len(emotions)))
    utts = []
    for split in SPLITS:
        for k, index in enumerate(by_split[split]):
            speaker = speakers[(speaker_offset + k) % len(speakers)]
            if split == "train":
                count = prep["emotions_per_sentence"]
                start = emotion_offset + k
                spoken = [emotions[(start + j) % len(emotions)] for j in range(count)]
            else:
                spoken = emotions
            for emotion in spoken:
                sid = sentence_id(index)
                utts.append(Utterance(f"{speaker}_{emotion}_{sid}", speaker, emotion, sid, split,
                                      SENTENCES[index]))
    return sorted(utts, key=lambda u: u.utt_id.encode("utf-8"))


def format_metadata(utts: list[Utterance]) -> str:
    lines = ["\t".join(METADATA_HEADER)]
    lines += ["\t".join((u.utt_id, u.speaker, u.emotion, u.sentence_id, u.split, u.text)) for u in utts]
    return "\n".join(lines) + "\n"


def missing_corpus_hint(root) -> str:
    return (f"create it with: python local/espeak_emo/generate.py --conf '<corpus conf JSON>' "
            f"--root {root} (or let Snakemake run the espeak_emo generation rule)")


def read_metadata(conf: dict, root) -> list[Utterance]:
    """Read and check ``<root>/metadata.tsv``; errors name the file and line.

    Checks: the header; six fields per line; a safe, unique, speaker-prefixed utterance id; an
    emotion among the conf's ``emotions``; a known split; no sentence in two splits; the wav
    ``<root>/wav/<utt_id>.wav`` exists.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(root, f"espeak_emo corpus directory not found; {missing_corpus_hint(root)}")
    path = root / METADATA_NAME
    if not path.is_file():
        raise DataError(path, "corpus metadata not found (it is written last, so the generation did "
                              f"not finish); {missing_corpus_hint(root)}")
    emotions = list(conf.get("emotions") or [])
    utts: list[Utterance] = []
    seen: set[str] = set()
    sentence_split: dict[str, tuple[str, int]] = {}
    with open(path, encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            fields = raw.rstrip("\n").split("\t")
            if lineno == 1:
                if tuple(fields) != METADATA_HEADER:
                    raise DataError(path, f"expected the header {' '.join(METADATA_HEADER)} "
                                          f"(tab-separated)", line=1)
                continue
            if len(fields) != len(METADATA_HEADER):
                raise DataError(path, f"expected {len(METADATA_HEADER)} tab-separated fields, "
                                      f"got {len(fields)}", line=lineno)
            utt = Utterance(*fields)
            where = {"line": lineno, "utt": utt.utt_id}
            if not _ID_RE.match(utt.utt_id) or not utt.utt_id.startswith(utt.speaker + "_"):
                raise DataError(path, f"utterance id must be letters, digits, '_' or '-' and start "
                                      f"with the speaker id '{utt.speaker}_'", **where)
            if utt.utt_id in seen:
                raise DataError(path, "duplicate utterance id", **where)
            seen.add(utt.utt_id)
            if utt.emotion not in emotions:
                raise DataError(path, f"emotion '{utt.emotion}' is not one of the conf's emotions "
                                      f"({', '.join(emotions)})", **where)
            if utt.split not in SPLITS:
                raise DataError(path, f"split '{utt.split}' is not one of {', '.join(SPLITS)}", **where)
            if not utt.text.strip():
                raise DataError(path, "empty text", **where)
            first = sentence_split.setdefault(utt.sentence_id, (utt.split, lineno))
            if first[0] != utt.split:
                raise DataError(path, f"sentence {utt.sentence_id} is in split '{utt.split}' here but "
                                      f"in '{first[0]}' on line {first[1]}: splits must not share "
                                      f"sentences", **where)
            wav = wav_path(root, utt.utt_id)
            if not wav.is_file():
                raise DataError(path, f"wav file {wav} listed here does not exist; "
                                      f"{missing_corpus_hint(root)}", **where)
            utts.append(utt)
    return utts


def wav_path(root, utt_id: str) -> Path:
    return Path(root) / "wav" / f"{utt_id}.wav"
