# Three entry points of a fresh machine (Python 3.11 + pip): setup, demo, test.
SHELL := /bin/bash
PYTHON ?= python3.11
CORES ?= 2
# test worker processes: the suite mostly runs one thread at a time, so 2 workers use 2 cores
TEST_WORKERS ?= 2
# the whole suite's wall-clock limit (it takes ~12 min on 2 cores)
TEST_LIMIT_S ?= 1800

.PHONY: setup demo guard test lint bench clean-exp

setup:
	$(PYTHON) -m venv .venv
	.venv/bin/pip install --upgrade pip
	.venv/bin/pip install -e '.[test]'
	.venv/bin/python -m pytorch_backend.utils.numba_cache

demo:
	. ./path.sh && snakemake --cores $(CORES) exp/espeak_emo_gst/done

# the demo, then its quality guard (conf/guard.yaml): exit 1 when a guarded number regressed
guard: demo
	. ./path.sh && python -m steps.check_quality --guard conf/guard.yaml exp/espeak_emo_gst

# --max-worker-restart=0: a crashed worker fails the run at once (pytest-xdist 3.8 can hang for
# good when it replaces a crashed worker under --dist loadfile); `timeout` is the last resort
test:
	. ./path.sh && timeout --kill-after=60 $(TEST_LIMIT_S) pytest -q -n $(TEST_WORKERS) --dist loadfile --max-worker-restart=0

lint:
	. ./path.sh && snakemake --lint

bench:
	. ./path.sh && python benchmarks/bench_feats.py && python benchmarks/bench_train.py
