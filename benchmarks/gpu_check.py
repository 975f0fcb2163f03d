#!/usr/bin/env python
"""GPU check: one command that exercises what only a GPU run reaches, in a few minutes.

On tiny synthetic data it writes itself into a temporary directory (the test suite's fixture
writers: tests/tts_fixtures.py, tests/prosody_fixtures.py, tests/vocoder_fixtures.py):

1. trains every TTS backend of ``pytorch_backend.tts.MODELS`` ``--steps`` steps with AMP
   (``train.amp: true``) and decodes its eval split on the device; one decode is also vocoded
   with Griffin-Lim;
2. trains two neural vocoders (HiFi-GAN, Parallel WaveGAN) ``--steps`` steps and vocodes the
   dev mels with each trained generator on the device;
3. kills a GST training (``steps/train_tts.py`` in its own process, SIGKILL once a checkpoint
   is on disk), starts it again, and checks that it resumed from that checkpoint and reached
   the final step: the step counter continues;
4. trains the same conf twice more uninterrupted with ``train.deterministic: true`` and compares
   the final weights and logged losses of the two runs (and of the resumed one);
5. times training steps of every backend at the size of its ``conf/tts/<model>.yaml`` on the
   CPU and on the device (AMP) and prints the CPU/GPU step-time ratio.

It prints a summary table and exits non-zero if any check failed. Without a CUDA device it
refuses ("no CUDA device") unless given ``--device cpu``, which runs the same checks on the CPU
as a dry run (the ratios are then CPU over CPU).

Usage:  python benchmarks/gpu_check.py [--device cuda|cpu] [--steps 20] [--time-steps 10]
                                       [--cpu-threads N] [--workdir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # the fixture writers

VOCODERS = ("hifigan", "parallel_wavegan")
RESUME_STEPS, RESUME_SAVE, KILL_AT = 60, 5, 10


class Checks:
    """Rows of the summary table; ``run`` turns any exception into a FAIL row and goes on."""

    def __init__(self):
        self.rows: list[tuple[str, str, str, float]] = []

    def run(self, name: str, fn, *args, **kwargs):
        t0 = time.monotonic()
        try:
            detail = fn(*args, **kwargs)
            status = "ok"
        except Exception as exc:  # every failure is reported, then the next check runs
            detail = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:300]
            status = "FAIL"
            traceback.print_exc()
        self.rows.append((name, status, str(detail or ""), time.monotonic() - t0))
        print(f"[{status}] {name}: {detail} ({time.monotonic() - t0:.1f} s)", flush=True)
        return status == "ok"

    def table(self) -> str:
        lines = ["| check | result | detail | s |", "|---|---|---|---:|"]
        lines += [f"| {n} | {s} | {d} | {t:.1f} |" for n, s, d, t in self.rows]
        return "\n".join(lines)

    @property
    def failed(self) -> int:
        return sum(1 for r in self.rows if r[1] != "ok")


# -- data -----------------------------------------------------------------------------------------
def make_data(work: Path) -> dict:
    from prosody_fixtures import add_prosody
    from tts_fixtures import make_corpus as make_tts
    from vocoder_fixtures import make_corpus as make_voc

    tts = add_prosody(make_tts(work / "tts"))
    voc = make_voc(work / "voc")
    return {"tts": tts, "voc": voc}


def tts_conf(model: str, **train) -> dict:
    from prosody_fixtures import tiny_fs2_conf
    from tts_fixtures import tiny_conf

    return tiny_fs2_conf(**train) if model == "fastspeech2" else tiny_conf(model, **train)


def _finite_scp(scp: Path) -> int:
    import kaldiio
    import numpy as np

    n = 0
    for utt, mat in kaldiio.load_scp(str(scp)).items():
        if not np.isfinite(mat).all():
            raise AssertionError(f"{scp}: non-finite values for {utt}")
        n += 1
    return n


def _find(state, key):
    """The first value stored under ``key`` anywhere in a nested checkpoint dict."""
    if isinstance(state, dict):
        if key in state:
            return state[key]
        for v in state.values():
            found = _find(v, key)
            if found is not None:
                return found
    return None


# -- 1. every TTS backend: train with AMP, decode -------------------------------------------------
def train_and_decode(model: str, data: dict, work: Path, device: str, steps: int) -> str:
    import torch

    from pytorch_backend.train import checkpoints as ckpt
    from pytorch_backend.tts.inference import decode
    from pytorch_backend.tts.training import train_tts

    c = data["tts"]
    conf = tts_conf(model, max_steps=steps, save_interval=steps, eval_interval=steps, log_interval=max(1, steps // 4),
                    amp=True, ngpu=1 if device == "cuda" else 0)
    out = work / "tts" / model
    info = train_tts(conf, c["data_root"], c["tokens"], c["dump"], out, gpus=1 if device == "cuda" else 0)
    assert info["steps"] == steps, f"trained {info['steps']} steps, expected {steps}"
    assert str(info["device"]).startswith(device), f"trained on {info['device']}, expected {device}"
    loss = (info.get("last_train") or {}).get("loss")
    assert loss is not None and math.isfinite(loss), f"last train loss {loss}"
    state, _ = ckpt.load_newest(out / "checkpoints")
    scaler = _find(state, "scaler") or {}
    amp = f"AMP scale {scaler['scale']:g}" if scaler.get("scale") else "no AMP (CPU)"
    if device == "cuda":
        assert scaler.get("scale"), "AMP was not used on CUDA (no GradScaler state in the checkpoint)"
    dec = work / "decode" / model
    decode(conf, out, c["data_root"], "eval", c["tokens"], c["dump"], dec, device=device, progress=False)
    n = _finite_scp(dec / "feats.scp")
    torch.cuda.empty_cache() if device == "cuda" else None
    return f"{info['num_params']:,} params, loss {loss:.3f}, {amp}; decoded {n} utts"


def griffin_lim_vocode(work: Path) -> str:
    from tts_fixtures import FEATS_CONF

    from pytorch_backend.vocoders import build_vocoder
    from pytorch_backend.vocoders.synth import vocode_scp

    scp = work / "decode" / "gst" / "feats.scp"
    voc = build_vocoder("griffin_lim", {}, FEATS_CONF)
    vocode_scp(voc, scp, work / "synth" / "griffin_lim", FEATS_CONF["n_mels"], progress=False)
    return _check_wavs(work / "synth" / "griffin_lim")


def _check_wavs(out: Path) -> str:
    import numpy as np
    import soundfile as sf

    wavs = sorted((out / "wav").glob("*.wav"))
    assert wavs, f"no wav in {out / 'wav'}"
    for w in wavs:
        audio, _ = sf.read(str(w), dtype="float32")
        assert len(audio) and np.isfinite(audio).all() and np.abs(audio).max() <= 1.0, f"bad audio {w}"
    return f"{len(wavs)} wav{'s' if len(wavs) != 1 else ''}"


# -- 2. two neural vocoders -------------------------------------------------------------------------
def train_and_vocode(name: str, data: dict, work: Path, device: str, steps: int) -> str:
    from vocoder_fixtures import FEATS, tiny_train_conf

    from pytorch_backend.vocoders import build_vocoder
    from pytorch_backend.vocoders import train as voc_train
    from pytorch_backend.vocoders.synth import vocode_scp

    train = tiny_train_conf(name, max_steps=steps, eval_interval=steps, save_interval=steps)
    amp = "amp" in voc_train.TRAIN_SCHEMA
    if amp:
        train["amp"] = True
    out = work / "voc" / name
    data_root, dump = data["voc"]
    info = voc_train.train_vocoder(name, {"name": name, "conf": {}, "train": train}, FEATS, data_root, dump, out,
                                   device=device, progress=False)
    assert info["steps"] == steps, f"trained {info['steps']} steps, expected {steps}"
    voc = build_vocoder(name, {"device": device, "batch_size": 2}, FEATS, model_dir=out)
    vocode_scp(voc, dump / "dev" / "feats.scp", work / "synth" / name, FEATS["n_mels"], progress=False)
    return (f"{info['generator_params']:,} generator params, {'AMP' if amp else 'fp32 (no AMP option)'}; "
            f"{_check_wavs(work / 'synth' / name)}")


# -- 3./4. kill + resume, determinism (each run in its own process) -------------------------------
def _train_cmd(conf: dict, c: dict, out: Path, device: str) -> list[str]:
    return [sys.executable, str(REPO / "steps" / "train_tts.py"), "--conf", json.dumps(conf),
            "--data-root", str(c["data_root"]), "--tokens", str(c["tokens"]), "--dump", str(c["dump"]),
            "--out", str(out), "--gpus", "1" if device == "cuda" else "0", "--threads", "1"]


def _start(cmd: list[str], log: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    fh = open(log, "ab")
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    fh.close()
    return proc


def _wait(proc: subprocess.Popen, timeout: float, what: str) -> int:
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise AssertionError(f"{what} did not finish within {timeout:.0f} s (killed)") from None


def resume_conf(device: str) -> dict:
    return tts_conf("gst", max_steps=RESUME_STEPS, save_interval=RESUME_SAVE, eval_interval=RESUME_STEPS,
                    log_interval=RESUME_SAVE, keep_checkpoints=50, deterministic=True, amp=True,
                    ngpu=1 if device == "cuda" else 0)


def kill_and_resume(data: dict, work: Path, device: str, timeout: float) -> str:
    from pytorch_backend.train import checkpoints as ckpt

    c, conf = data["tts"], resume_conf(device)
    out = work / "resume" / "killed"
    log = work / "resume" / "killed.log"
    out.parent.mkdir(parents=True, exist_ok=True)
    proc = _start(_train_cmd(conf, c, out, device), log)
    deadline = time.monotonic() + timeout
    target = ckpt.checkpoint_path(out / "checkpoints", KILL_AT)
    try:
        while not target.exists():
            if proc.poll() is not None:
                raise AssertionError(f"training ended (exit {proc.returncode}) before step {KILL_AT}: "
                                     f"{log.read_text()[-800:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no checkpoint of step {KILL_AT} within {timeout:.0f} s")
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"training was not killed by the signal (exit {proc.returncode})"
    saved = [s for s, _ in ckpt.list_checkpoints(out / "checkpoints")]
    newest = max(saved)
    assert newest >= KILL_AT and newest < RESUME_STEPS and not (out / "train.done").exists()
    rc = _wait(_start(_train_cmd(conf, c, out, device), log), timeout, "the resumed training")
    assert rc == 0, f"resumed training failed (exit {rc}): {log.read_text()[-800:]}"
    info = json.loads((out / "train.json").read_text())
    assert info["resumed_from"] == newest, f"resumed from {info['resumed_from']}, newest checkpoint was {newest}"
    assert info["steps"] == RESUME_STEPS, f"ended at step {info['steps']}, expected {RESUME_STEPS}"
    return f"SIGKILL after step {newest}; resumed from {info['resumed_from']} to step {info['steps']}"


def _final_state(out: Path) -> dict:
    from pytorch_backend.train import checkpoints as ckpt

    return ckpt.load_checkpoint(ckpt.checkpoint_path(out / "checkpoints", RESUME_STEPS))


def _max_diff(a: dict, b: dict) -> float:
    diff = 0.0
    for key in a["model"]:
        diff = max(diff, float((a["model"][key].float() - b["model"][key].float()).abs().max()))
    return diff


def deterministic_twice(data: dict, work: Path, device: str, timeout: float) -> str:
    c, conf = data["tts"], resume_conf(device)
    procs = []
    for name in ("run_a", "run_b"):
        out = work / "resume" / name
        procs.append((name, _start(_train_cmd(conf, c, out, device), work / "resume" / f"{name}.log")))
    for name, proc in procs:  # the two runs side by side: same result regardless
        rc = _wait(proc, timeout, name)
        assert rc == 0, f"{name} failed (exit {rc}): {(work / 'resume' / f'{name}.log').read_text()[-800:]}"
    a, b = _final_state(work / "resume" / "run_a"), _final_state(work / "resume" / "run_b")
    diff = _max_diff(a, b)
    same_history = a.get("history") == b.get("history")
    assert diff == 0.0 and same_history, (f"two deterministic runs differ: max |weight diff| {diff:g}, "
                                          f"logged losses {'equal' if same_history else 'differ'}")
    return f"2 runs x {RESUME_STEPS} steps: weights and logged losses identical"


def resumed_equals_uninterrupted(work: Path) -> str:
    a = _final_state(work / "resume" / "run_a")
    k = _final_state(work / "resume" / "killed")
    diff = _max_diff(a, k)
    assert diff == 0.0, f"the killed + resumed run differs from the uninterrupted one: max |weight diff| {diff:g}"
    return "final weights identical"


# -- 5. step time, CPU vs device -------------------------------------------------------------------
def step_times(model_name: str, data: dict, device: str, steps: int, cpu_threads: int) -> str:
    import torch
    import yaml
    from tts_fixtures import EMOTIONS, SPEAKERS

    from pytorch_backend.data.tts_dataset import TTSDataset, collate, read_token_list
    from pytorch_backend.train.distributed import loss_terms
    from pytorch_backend.tts import build_model, needs_prosody

    c = data["tts"]
    demo = yaml.safe_load((REPO / "conf" / "tts" / f"{model_name}.yaml").read_text())
    tokens = read_token_list(c["tokens"] / "token_list")
    ds = TTSDataset(c["data_root"] / "train", c["tokens"] / "train" / "text_tokens", tokens, SPEAKERS, EMOTIONS,
                    feats_scp=c["dump"] / "train" / "feats.scp", stats=c["dump"] / "stats.npz",
                    with_prosody=needs_prosody(model_name))
    n_mels = ds.n_mels
    torch.set_num_threads(cpu_threads)  # a CPU training job would use the machine's cores
    times = {}
    for dev in ("cpu", device):
        if dev in times:
            continue
        torch.manual_seed(0)
        net = build_model(model_name, demo["model_conf"], len(tokens), len(SPEAKERS), len(EMOTIONS), n_mels).to(dev)
        r = getattr(net, "r", 1)
        batch = collate([ds[i] for i in range(min(16, len(ds)))], r)
        batch = {k: v.to(dev) if torch.is_tensor(v) else v for k, v in batch.items()}
        opt = torch.optim.Adam(net.parameters(), lr=1e-4)
        amp = dev == "cuda"
        scaler = torch.amp.GradScaler("cuda", enabled=amp)
        net.train()

        def step(i):
            terms = loss_terms(net, batch, i, use_amp=amp)
            opt.zero_grad(set_to_none=True)
            scaler.scale(terms["loss"]).backward()
            scaler.step(opt)
            scaler.update()

        for i in range(2):  # warm-up (cuDNN autotuning, allocator)
            step(i)
        if dev == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for i in range(steps):
            step(i + 2)
        if dev == "cuda":
            torch.cuda.synchronize()
        times[dev] = (time.perf_counter() - t0) / steps
    ratio = times["cpu"] / times[device]
    return (f"conf/tts/{model_name}.yaml size, batch 16: CPU ({cpu_threads} threads) {1000 * times['cpu']:.1f} ms/step, "
            f"{device} {1000 * times[device]:.1f} ms/step, CPU/{device} = {ratio:.2f}")


# -- main ---------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"],
                    help="cuda (default), or cpu for a dry run on a machine without a GPU")
    ap.add_argument("--steps", type=int, default=20, help="training steps of each backend and vocoder")
    ap.add_argument("--time-steps", type=int, default=10, help="timed steps per device and backend")
    ap.add_argument("--cpu-threads", type=int, default=None, help="torch threads of the CPU timings (default: all cores)")
    ap.add_argument("--timeout", type=float, default=240.0, help="seconds allowed to each training process")
    ap.add_argument("--workdir", default=None, help="where the temporary data and runs go")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args(argv)

    os.environ.setdefault("TQDM_DISABLE", "1")  # no progress bars between the report lines
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device: this check needs a GPU (run with --device cpu for a dry run on the CPU)",
              file=sys.stderr)
        return 2
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from pytorch_backend.tts import MODELS

    if args.device == "cuda":
        print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}")
    else:
        print(f"device: CPU dry run ({os.cpu_count()} cores), torch {torch.__version__}")
    t_start = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="emotts-gpu-check-", dir=args.workdir))
    checks = Checks()
    try:
        data = None

        def _data():
            nonlocal data
            data = make_data(work)
            return f"tiny corpora in {work}"

        if not checks.run("fixture data", _data):
            raise SystemExit(1)
        models = list(MODELS)
        for model in models:
            checks.run(f"train + decode {model}", train_and_decode, model, data, work, args.device, args.steps)
        checks.run("vocode a decode with griffin_lim", griffin_lim_vocode, work)
        for name in VOCODERS:
            checks.run(f"train + vocode {name}", train_and_vocode, name, data, work, args.device, args.steps)
        killed = checks.run("kill + resume gst (separate processes)", kill_and_resume, data, work, args.device,
                            args.timeout)
        twice = checks.run("train.deterministic: true, twice", deterministic_twice, data, work, args.device,
                           args.timeout)
        if killed and twice:
            checks.run("resumed run == uninterrupted run (deterministic)", resumed_equals_uninterrupted, work)
        for model in models:
            checks.run(f"step time {model}", step_times, model, data, args.device, args.time_steps,
                       args.cpu_threads or os.cpu_count() or 1)
    finally:
        print()
        print(checks.table())
        total = time.monotonic() - t_start
        print(f"\n{len(checks.rows) - checks.failed} of {len(checks.rows)} checks passed on {args.device} "
              f"in {total:.0f} s")
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
