"""A small CTC speech recognizer trained on the corpus's real train speech: the intelligibility
judge of synthesized speech (its character error rate, ``pytorch_backend/eval/cer.py``).

Sits above the generic training skeleton (``pytorch_backend.train``) and below ``eval``.
"""

from __future__ import annotations

from pytorch_backend.asr.model import ConvBiGRU, ConvCTC
from pytorch_backend.utils.registry import Registry

RECOGNIZERS = Registry("recognizer", name_key="asr.model", conf_key="asr.model_conf",
                       data_args=("vocab_size", "n_mels"))
RECOGNIZERS.register("conv_ctc", ConvCTC)
RECOGNIZERS.register("conv_bigru", ConvBiGRU)

DEFAULT_RECOGNIZER = "conv_ctc"
