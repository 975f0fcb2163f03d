"""Every path of the DAG, defined once.

The templates below are Snakemake patterns (the ``{wildcard}`` fields of rule inputs, outputs,
logs and params) and Python format strings at once: rules name them directly, and Python code
fills them with :func:`fill`. Wildcards: ``corpus``, ``model`` (a ``conf/tts/`` name), ``split``
(train | dev | eval), ``name`` (a split or ``floor``), ``feats`` (a ``conf/feats/`` name),
``token_type``, ``vocoder``; ``file`` and ``stage`` are always filled in by the rules.
"""

from __future__ import annotations

import re

SPLITS = ["train", "dev", "eval"]
DATA_FILES = ["wav.scp", "text", "utt2spk", "spk2utt", "utt2emo", "utt2dur"]

# -- the corpus in its own layout, and its Kaldi data dirs --------------------------------------
DOWNLOADS = "downloads/{corpus}"  # default root of a corpus (fixed for a generated one)
DOWNLOAD_DONE = DOWNLOADS + "/.download.done"  # a public corpus fetched, verified and in place
ARCHIVES = "downloads/.archives/{corpus}"  # fetched archives, kept for a re-extraction
GENERATED = DOWNLOADS + "/metadata.tsv"  # written last by the embedded corpus's generator
DATA = "data/{corpus}"
DATA_LOG = DATA + "/log/{stage}.log"
DATA_SPLIT = DATA + "/{split}"
DATA_FILE = DATA_SPLIT + "/{file}"  # file: one of DATA_FILES
VALIDATED = DATA_SPLIT + "/.validated"
TOKENS = DATA + "/tokens/{token_type}"
TOKEN_LIST = TOKENS + "/token_list"
TEXT_TOKENS = TOKENS + "/{split}/text_tokens"
BPE_MODEL = TOKENS + "/bpe.model"  # token_type bpe only (written by make_tokens beside the token list)

# -- features --------------------------------------------------------------------------------
DUMP = "dump/{corpus}/{feats}"
DUMP_LOG = DUMP + "/log/{stage}.log"
FEATS_DIR = DUMP + "/{split}"
FEATS_SCP = FEATS_DIR + "/feats.scp"
NUM_FRAMES = FEATS_DIR + "/utt2num_frames"
PITCH_SCP = FEATS_DIR + "/pitch.scp"
ENERGY_SCP = FEATS_DIR + "/energy.scp"
STATS = DUMP + "/stats.npz"

# -- models shared by a corpus's experiments -------------------------------------------------
SER = "exp/{corpus}_ser"  # the emotion classifier, trained on real train speech
SER_DONE = SER + "/done"
SER_LOG = SER + "/log/{stage}.log"
SER_MODEL = SER + "/model.pt"
TEXTEMO = "exp/{corpus}_textemo"  # the text emotion classifier (--emotion auto), trained on train texts
TEXTEMO_MODEL = TEXTEMO + "/model.json"
TEXTEMO_JSON = TEXTEMO + "/textemo.json"  # its eval accuracy and confusion
TEXTEMO_DONE = TEXTEMO + "/done"
TEXTEMO_LOG = TEXTEMO + "/log/{stage}.log"
ASR = "exp/{corpus}_asr"  # the CTC recognizer (intelligibility judge), trained on real train speech
ASR_DONE = ASR + "/done"
ASR_LOG = ASR + "/log/{stage}.log"
REAL = "exp/{corpus}_real/{split}"  # the real recordings of a split scored by every judge
REAL_METRICS = REAL + "/metrics.json"
REF_ANALYSIS = REAL + "/reference_analysis.npz"  # the reference side of MCD/F0, made once per split
REAL_LOG = "exp/{corpus}_real/log/{stage}.log"
VOC = "exp/{corpus}_voc_{vocoder}"  # a neural vocoder trained on real speech
VOC_LOG = VOC + "/log/{stage}.log"
VOC_TRAIN_DONE = VOC + "/train.done"
VOC_MODEL = VOC + "/model.pt"
VOC_FLOOR_SYNTH = VOC + "/synth/floor"
VOC_FLOOR_WAV_SCP = VOC_FLOOR_SYNTH + "/wav.scp"
VOC_FLOOR_EVAL = VOC + "/eval/floor"
VOC_FLOOR_METRICS = VOC_FLOOR_EVAL + "/metrics.json"
VOC_DONE = VOC + "/done"

# -- one experiment: corpus x TTS model --------------------------------------------------------
EXP = "exp/{corpus}_{model}"
EXP_LOG = EXP + "/log/{stage}.log"
CONFIG = EXP + "/config.yaml"
TRAIN = EXP + "/train"
TRAIN_DONE = TRAIN + "/train.done"
DECODE = EXP + "/decode/{split}"
DECODE_SCP = DECODE + "/feats.scp"
DECODE_UTT2EMO = DECODE + "/utt2emo"  # the emotion each decoded utterance was meant to carry
TEACHER_FORCED = EXP + "/teacher_forced"
TEACHER_FORCED_SCP = TEACHER_FORCED + "/{split}/feats.scp"
SYNTH = EXP + "/synth/{vocoder}/{name}"
SYNTH_WAV_SCP = SYNTH + "/wav.scp"
EVAL = EXP + "/eval/{vocoder}/{name}"
METRICS = EVAL + "/metrics.json"
PLOTS = EXP + "/plots"
EMOTION_SPACE = PLOTS + "/emotion_space.json"
INTENSITY = EXP + "/eval/intensity"
INTENSITY_JSON = INTENSITY + "/intensity.json"
SUMMARY = EXP + "/summary.json"
RESULTS = EXP + "/results.md"
DONE = EXP + "/done"
STYLES = EXP + "/styles.pt"  # emotion-mean styles of the train utterances (latent models)
PACK = EXP + "/pack.zip"  # the packed model (pytorch_backend/synth/assets.py; rules/synth.smk)

# -- across the experiments of a corpus ----------------------------------------------------------
TABLE_MD = "results/{corpus}.md"
TABLE_JSON = "results/{corpus}.json"
TABLE_LOG = "results/log/{corpus}.log"

# -- the report (rules/report.smk): a fixed sample set through the synthesis path, pages, plots --
ASSETS = EXP + "/assets.json"  # what synthesis needs of an experiment (pytorch_backend/synth/assets.py)
SAMPLES = EXP + "/samples"  # the fixed sample set (steps/report_samples.py)
SAMPLES_JSON = SAMPLES + "/samples.json"  # written last
REPORT = EXP + "/report"  # one experiment's report items (steps/make_report.py)
TABLE_REPORT = "results/report/{corpus}"  # every backend of a corpus side by side
TABLE_REPORT_LOG = "results/log/{corpus}_report.log"
REPORT_PARTS = {  # inside REPORT or TABLE_REPORT
    "listen": "/listen.html", "tables": "/tables.html", "samples": "/samples", "figures": "/figures",
    "captions": "/captions", "done": "/done"}
# the report items inside REPORT_PARTS["samples"] / ["figures"] (pytorch_backend/synth/report_pages.py)
REPORT_SAMPLE = "{emotion}/{sentence}/{speech}/{vocoder}/{intensity}.wav"
REPORT_FIGURE = "{kind}/{figure}.png"

_FIELD = re.compile(r"\{(\w+)\}")


def fill(template: str, wc=None, **values) -> str:
    """``template`` with the fields named in ``values`` or found as attributes of ``wc`` (Snakemake
    wildcards) filled in; other fields stay ``{field}`` patterns for Snakemake to match."""
    known = {**(vars(wc) if wc is not None else {}), **values}

    def one(match: re.Match) -> str:
        key = match.group(1)
        return str(known[key]) if key in known else match.group(0)

    return _FIELD.sub(one, template)


def of_job(template: str):
    """A params function giving ``template`` filled with the job's wildcards: a directory or file
    prefix the stage is told (``--out``, ``--data-root``, ...). Snakemake's linter wants those as
    functions, not strings; the workflow assumes a shared filesystem (local, or a cluster's)."""
    def param(wc) -> str:
        return fill(template, wc)

    return param


def alternation(names) -> str:
    """A regex matching exactly one of ``names`` (longest first); matches nothing when empty."""
    return "|".join(sorted(names, key=len, reverse=True)) or "(?!x)x"
