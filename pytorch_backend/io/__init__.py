"""Ground-floor Kaldi I/O: "key value" map files (``kaldi_map``) and feature ark/scp writing
(``ark``). Imports only ``pytorch_backend.errors`` and ``pytorch_backend.utils``."""
