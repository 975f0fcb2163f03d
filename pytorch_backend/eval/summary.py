"""The results of one experiment in one place: ``summary.json`` and ``results.md``.

Reads (all required; a missing file or key is a DataError naming it):
``<exp>/train/train.json`` (num_params, train_seconds, steps, best_dev_loss),
``<exp>/decode/<split>/decode.json`` and ``<exp>/synth/<voc>/<split>/vocode.json``
(wall_seconds, audio_seconds), ``<exp>/eval/<voc>/<split>/metrics.json``,
``<exp>/eval/<voc>/floor/metrics.json`` (unless the floor is off) and ``<ser_dir>/ser.json``;
when present, ``<exp>/eval/intensity/intensity.json`` (the intensity check) and
``<exp>/plots/emotion_space.json`` (the emotion-space map); with ``real_dir``
(``exp/<corpus>_real/<split>``, eval/real.py) the real recordings' judge scores.

Derived numbers:
* emotion accuracy ratio = accuracy of the classifier on synthesized (or floor) speech /
  its accuracy on the real eval recordings (1.0 = as recognizable as real speech);
* CER ratio = the recognizer's character error rate on synthesized (or floor) speech / on the
  real recordings; P.808 gap = DNSMOS P.808 of synthesized (or floor) speech minus the real one;
* decode + vocode real-time factor = (decode wall s + vocode wall s) / seconds of audio
  produced (the vocoder's ``audio_seconds``; below 1 = faster than real time).

Writes ``summary.json``, ``results.md`` and ``done`` last, each atomically.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from pytorch_backend.errors import DataError
from pytorch_backend.utils.fileio import atomic_open, write_text_atomic

TRAIN_KEYS = ("num_params", "train_seconds", "steps", "best_dev_loss")
DNSMOS_KEYS = ("ovrl", "sig", "bak", "p808")
TIMING_KEYS = ("wall_seconds", "audio_seconds")
METRIC_KEYS = ("num_utts", "mcd", "log_f0_rmse", "vuv_error", "emotion_accuracy")


def read_json(path, keys=()) -> dict:
    """A JSON object from ``path`` that has every key of ``keys``; errors name the file (and key)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found (has the stage that writes it run?)")
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as exc:
        raise DataError(path, f"invalid JSON: {exc.msg}", line=exc.lineno) from None
    if not isinstance(data, dict):
        raise DataError(path, f"expected a JSON object, got {type(data).__name__}")
    for key in keys:
        if key not in data:
            raise DataError(path, f"missing key '{key}'")
    return data


def _ratio(num, den):
    if num is None or den in (None, 0):
        return None
    return num / den


def judge_row(metrics: dict, real: dict | None = None) -> dict:
    """The judges' headline numbers of one metrics.json (None where a judge did not run), and
    the CER ratio to the real recordings' (``real``: the real row of :func:`judge_row`)."""
    dn = metrics.get("dnsmos") or {}
    cer = metrics.get("cer") or {}
    ps = metrics.get("pocketsphinx") or {}
    spk = metrics.get("speaker_similarity") or {}
    row = {f"dnsmos_{k}": (dn.get(k) or {}).get("mean") for k in DNSMOS_KEYS}
    row.update(cer=cer.get("cer"), asr_wer=cer.get("wer"), pocketsphinx_wer=ps.get("wer"),
               speaker_similarity=spk.get("mean"))
    if real is not None:
        row["cer_ratio"] = _ratio(row["cer"], real.get("cer"))
        row["p808_gap"] = (None if row["dnsmos_p808"] is None or real.get("dnsmos_p808") is None
                           else row["dnsmos_p808"] - real["dnsmos_p808"])
    return row


def metrics_row(metrics: dict, real_accuracy, real: dict | None = None) -> dict:
    """The numbers of one metrics.json that go into the summary."""
    return {
        "num_utts": metrics["num_utts"],
        "mcd_mean": metrics["mcd"]["mean"],
        "mcd_std": metrics["mcd"]["std"],
        "log_f0_rmse_mean": metrics["log_f0_rmse"]["mean"],
        "log_f0_rmse_std": metrics["log_f0_rmse"]["std"],
        "vuv_error": metrics["vuv_error"],
        "emotion_accuracy": metrics["emotion_accuracy"],
        "emotion_accuracy_ratio": _ratio(metrics["emotion_accuracy"], real_accuracy),
        **judge_row(metrics, real),
    }


def real_row(real_dir) -> dict | None:
    """The real recordings' row (``<real_dir>/metrics.json``, eval/real.py), or None without one."""
    if real_dir is None:
        return None
    metrics = read_json(Path(real_dir) / "metrics.json", ("num_utts", "emotion_accuracy"))
    return {"num_utts": metrics["num_utts"], "emotion_accuracy": metrics["emotion_accuracy"],
            "dir": str(real_dir), **judge_row(metrics)}


def collect(exp_dir, ser_dir, vocoders, split: str = "eval", floor: bool = True, real_dir=None,
            textemo_dir=None) -> dict:
    """Read every input and return the ``summary.json`` content (``real_dir``: the judges' scores
    of the real recordings, exp/<corpus>_real/<split>; None: no real row for them;
    ``textemo_dir``: the corpus's text emotion classifier, exp/<corpus>_textemo)."""
    exp_dir, ser_dir = Path(exp_dir), Path(ser_dir)
    if not vocoders:
        raise ValueError("at least one vocoder is needed")
    train = read_json(exp_dir / "train" / "train.json", TRAIN_KEYS)
    decode = read_json(exp_dir / "decode" / split / "decode.json", TIMING_KEYS)
    ser = read_json(ser_dir / "ser.json", ("accuracy",))
    real_acc = ser["accuracy"]
    summary = {
        "exp": exp_dir.resolve().name,
        "split": split,
        "model": {k: train[k] for k in TRAIN_KEYS},
        "ser": {"real_accuracy": real_acc, "num_utts": ser.get("num_utts"), "dir": str(ser_dir)},
        "decode": {k: decode[k] for k in TIMING_KEYS},
        "real": real_row(real_dir),
        "vocoders": {},
    }
    real = summary["real"]
    for voc in vocoders:
        vocode = read_json(exp_dir / "synth" / voc / split / "vocode.json", TIMING_KEYS)
        synth = read_json(exp_dir / "eval" / voc / split / "metrics.json", METRIC_KEYS)
        entry = {
            "synth": metrics_row(synth, real_acc, real),
            "floor": None,
            "vocode": {k: vocode[k] for k in TIMING_KEYS},
            "rtf": _ratio(decode["wall_seconds"] + vocode["wall_seconds"], vocode["audio_seconds"]),
        }
        if floor:
            floor_metrics = read_json(exp_dir / "eval" / voc / "floor" / "metrics.json", METRIC_KEYS)
            entry["floor"] = metrics_row(floor_metrics, real_acc, real)
        summary["vocoders"][voc] = entry
    intensity = exp_dir / "eval" / "intensity" / "intensity.json"
    if intensity.is_file():
        summary["intensity"] = read_json(intensity, ("supported",))
    space = exp_dir / "plots" / "emotion_space.json"
    if space.is_file():
        summary["emotion_space"] = {k: v for k, v in read_json(space, ("kind",)).items()
                                    if k in ("kind", "num_utts", "dim", "silhouette", "pca_explained_variance",
                                             "plots")}
    if textemo_dir is not None:
        textemo = read_json(Path(textemo_dir) / "textemo.json", ("accuracy",))
        summary["text_emotion"] = {k: textemo.get(k) for k in ("accuracy", "split", "num_utts", "per_class_recall",
                                                                "confusion", "labels", "majority_class",
                                                                "majority_accuracy", "num_train_utts")}
        summary["text_emotion"]["dir"] = str(textemo_dir)
    return summary


def text_emotion_lines(textemo: dict | None) -> list[str]:
    """The text emotion classifier (``--emotion auto``): its accuracy and confusion."""
    if not textemo:
        return []
    labels = textemo["labels"]
    lines = ["## Emotion from text", "",
             f"The tf-idf + logistic-regression classifier of `{textemo['dir']}` (what `emotts synthesize "
             f"--emotion auto` uses) labels the {textemo['num_utts']} {textemo['split']} transcripts with accuracy "
             f"{_num(textemo['accuracy'])}; the majority baseline (always the train set's most frequent label, "
             f"'{textemo['majority_class']}') scores {_num(textemo['majority_accuracy'])}.", "",
             "| labelled / predicted | " + " | ".join(labels) + " |",
             "|---|" + "---:|" * len(labels)]
    for label, row in zip(labels, textemo["confusion"]):
        lines.append(f"| {label} | " + " | ".join(str(n) for n in row) + " |")
    return lines + [""]


JUDGE_COLUMNS = (("dnsmos_ovrl", "DNSMOS overall", ".2f"), ("dnsmos_sig", "signal", ".2f"),
                 ("dnsmos_bak", "background", ".2f"), ("dnsmos_p808", "P.808", ".2f"),
                 ("cer", "CER", ".3f"), ("asr_wer", "WER (CTC)", ".3f"),
                 ("pocketsphinx_wer", "WER (PocketSphinx)", ".3f"), ("speaker_similarity", "speaker sim.", ".3f"))


def judges_lines(real: dict | None, rows: list[tuple[str, dict]]) -> list[str]:
    """The judges from outside the corpus as a table: the real recordings, then ``rows``
    (``[(name, metrics_row)]``); columns of judges that ran for no row are left out."""
    all_rows = ([("real recordings", real)] if real else []) + list(rows)
    cols = [c for c in JUDGE_COLUMNS if any(r.get(c[0]) is not None for _, r in all_rows)]
    if not cols:
        return []
    lines = ["", "Judges from outside the corpus: DNSMOS (naturalness, 1-5), the character error rate of the "
             "corpus's CTC recognizer (trained on real train speech), PocketSphinx's word error rate (English), "
             "Resemblyzer similarity to the speaker's other real recordings.", "",
             "| speech | " + " | ".join(c[1] for c in cols) + " | CER ratio to real |",
             "|---|" + "---:|" * (len(cols) + 1)]
    for name, r in all_rows:
        ratio = "1.00" if r is real else _num(r.get("cer_ratio"), ".2f")
        lines.append(f"| {name} | " + " | ".join(_num(r.get(k), fmt) for k, _, fmt in cols) + f" | {ratio} |")
    return lines


def intensity_lines(intensity: dict | None) -> list[str]:
    """The intensity check as a markdown table (empty when absent)."""
    if not intensity:
        return []
    if not intensity.get("supported"):
        return ["## Intensity check", "", f"Not supported: {intensity.get('reason', '')}", ""]
    levels = list(intensity["per_level"])
    emotions = sorted({e for v in intensity["per_level"].values() for e in v["per_emotion"]})
    lines = ["## Intensity check", "",
             f"P(target emotion) from the classifier on {len(intensity['utts'])} eval utterances decoded at "
             f"each intensity (0 = {intensity['neutral']}), Griffin-Lim; rises with intensity: "
             f"**{'yes' if intensity['monotonic'] else 'no'}**.", "",
             "| intensity | mean P(target) | accuracy | " + " | ".join(emotions) + " |",
             "|---:|---:|---:|" + "---:|" * len(emotions)]
    spk = (intensity.get("speaker_similarity") or {}).get("per_level") or {}
    if spk:
        lines[-2] += " speaker sim. |"
        lines[-1] += "---:|"
    for level in levels:
        row = intensity["per_level"][level]
        lines.append(f"| {level} | {_num(row['target_prob'])} | {_num(row['accuracy'])} | "
                     + " | ".join(_num(row["per_emotion"].get(e)) for e in emotions) + " |"
                     + (f" {_num((spk.get(level) or {}).get('mean'))} |" if spk else ""))
    ranking = intensity.get("ranking")
    if ranking:
        lines += ["", f"Ranking: Spearman correlation between the requested intensity and P(target) "
                      f"**{_num(ranking.get('spearman'))}** over all (utterance, level) pairs "
                      f"({_num(ranking.get('spearman_per_utt'))} per utterance, {_num(ranking.get('spearman_of_means'))} "
                      "of the level means)."]
    change = (intensity.get("speaker_similarity") or {}).get("change")
    if change is not None:
        sp = intensity["speaker_similarity"]
        lines += ["", f"Speaker similarity to the real recordings changes by {change:+.3f} from intensity "
                      f"{sp['from']} to {sp['to']} (emotion should not change the voice)."]
    return lines + [""]


def emotion_space_lines(space: dict | None) -> list[str]:
    if not space or not space.get("kind"):
        return []
    return ["## Emotion space", "",
            f"{space['kind']} embeddings of {space['num_utts']} train utterances ({space['dim']} dims): "
            f"silhouette of the emotion labels {_num(space.get('silhouette'))}; maps: "
            + ", ".join(f"`plots/{p}`" for p in space.get("plots", [])), ""]


def _num(value, fmt: str = ".3f") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return format(value, fmt)


def _pm(mean, std, fmt: str = ".3f") -> str:
    if mean is None:
        return "n/a"
    return f"{_num(mean, fmt)} ± {_num(std, fmt)}"


def _duration(seconds) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def _params(n) -> str:
    if n is None:
        return "n/a"
    return f"{n / 1e6:.2f} M" if n >= 1e5 else f"{n:,}"


def render_markdown(summary: dict) -> str:
    """``results.md``: one table per vocoder plus the model's cost."""
    model, real_acc = summary["model"], summary["ser"]["real_accuracy"]
    lines = [f"# Results: {summary['exp']}", "",
             f"Split `{summary['split']}`. The emotion classifier recognizes the real {summary['split']} "
             f"recordings with accuracy {_num(real_acc)}; the ratio column divides by it.", ""]
    for voc, entry in summary["vocoders"].items():
        lines += [f"## Vocoder: {voc}", "",
                  "| speech | utts | MCD (dB) | log-F0 RMSE | V/UV error | emotion accuracy | ratio to real |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        rows = [("synthesized", entry["synth"])]
        if entry["floor"] is not None:
            rows.append(("floor (real mels, same vocoder)", entry["floor"]))
        for name, row in rows:
            lines.append(f"| {name} | {row['num_utts']} | {_pm(row['mcd_mean'], row['mcd_std'], '.2f')} "
                         f"| {_pm(row['log_f0_rmse_mean'], row['log_f0_rmse_std'], '.4f')} "
                         f"| {_num(row['vuv_error'])} | {_num(row['emotion_accuracy'])} "
                         f"| {_num(row['emotion_accuracy_ratio'], '.2f')} |")
        lines.append(f"| real recordings | {summary['ser']['num_utts'] or 'n/a'} | – | – | – "
                     f"| {_num(real_acc)} | 1.00 |")
        lines += judges_lines(summary.get("real"), rows)
        timing = entry["vocode"]
        lines += ["", "| parameters | train steps | train time | best dev loss | decode + vocode RTF |",
                  "|---:|---:|---:|---:|---:|",
                  f"| {_params(model['num_params'])} | {model['steps']} | {_duration(model['train_seconds'])} "
                  f"| {_num(model['best_dev_loss'], '.4f')} | {_num(entry['rtf'], '.4f')} |", "",
                  f"Real-time factor = (decode {summary['decode']['wall_seconds']:.2f} s + vocode "
                  f"{timing['wall_seconds']:.2f} s) / {timing['audio_seconds']:.2f} s of audio.", ""]
    lines += intensity_lines(summary.get("intensity")) + emotion_space_lines(summary.get("emotion_space"))
    lines += text_emotion_lines(summary.get("text_emotion"))
    return "\n".join(lines)


def summarize(exp_dir, ser_dir, vocoders, split: str = "eval", floor: bool = True, real_dir=None,
              textemo_dir=None) -> dict:
    """Write ``summary.json``, ``results.md`` and then ``done`` into ``exp_dir``."""
    summary = collect(exp_dir, ser_dir, vocoders, split, floor, real_dir, textemo_dir)
    exp_dir = Path(exp_dir)
    with atomic_open(exp_dir / "summary.json") as fh:
        json.dump(summary, fh, indent=2)
        fh.write("\n")
    write_text_atomic(exp_dir / "results.md", render_markdown(summary))
    write_text_atomic(exp_dir / "done", "summary.json results.md\n")
    return summary
