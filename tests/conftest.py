"""Shared pytest set-up: the repository on sys.path, headless plots, few threads."""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("OMP_NUM_THREADS", "1")

# The longest test files first: `make test` hands whole files to two workers in collection
# order, so the end-to-end DAG runs (several minutes each) must not start last.
SLOW_FIRST = ("test_pipeline.py", "test_report_dag.py")


def pytest_configure(config):
    # before the controller starts its workers: two workers compiling librosa's numba kernels at
    # once can leave a cache that segfaults (pytorch_backend/utils/numba_cache.py)
    if not hasattr(config, "workerinput"):
        from pytorch_backend.utils.numba_cache import warm

        warm()


def pytest_collection_modifyitems(session, config, items):
    def rank(item):
        name = item.path.name
        return SLOW_FIRST.index(name) if name in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)  # stable: the order inside each file is kept
