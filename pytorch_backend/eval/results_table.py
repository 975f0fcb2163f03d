"""One table across the backends of a corpus (``results/<corpus>.md`` + ``.json``), read from
each experiment's ``summary.json``: MCD, log-F0 RMSE, emotion accuracy on synthesized speech
against real speech, whether intensity raises the target emotion's probability, parameters,
train time and real-time factor; then the judges from outside the corpus (DNSMOS, the CER of
the corpus's recognizer, PocketSphinx WER, speaker similarity, the intensity ranking) with the
real-recording and floor rows. One pair of tables per vocoder the experiments share; then, for
experiments that differ only in their training seed, each seed's quality with the mean and the
worst (eval/seed_groups.py)."""

from __future__ import annotations

import json
from pathlib import Path

from pytorch_backend.eval.seed_groups import seed_sections
from pytorch_backend.eval.summary import _duration, _num, _params, read_json
from pytorch_backend.utils.fileio import write_text_atomic


def collect_rows(exp_dirs) -> list[dict]:
    rows = []
    for exp_dir in exp_dirs:
        exp_dir = Path(exp_dir)
        summary = read_json(exp_dir / "summary.json", ("model", "ser", "vocoders"))
        rows.append({"exp": summary["exp"], "summary": summary, "dir": exp_dir})
    return rows


def intensity_cell(summary: dict) -> str:
    it = summary.get("intensity")
    if not it:
        return "n/a"
    if not it.get("supported"):
        return "unsupported"
    probs = " → ".join(_num(v["target_prob"], ".2f") for v in it["per_level"].values())
    return f"{probs} ({'rises' if it['monotonic'] else 'not monotonic'})"


def render(rows: list[dict], corpus: str) -> tuple[str, dict]:
    vocoders = sorted({v for r in rows for v in r["summary"]["vocoders"]})
    real = {r["summary"]["ser"]["real_accuracy"] for r in rows}
    out = {"corpus": corpus, "experiments": {}}
    lines = [f"# Results on `{corpus}`: every backend", "",
             f"Written by `snakemake results/{corpus}.md` from each `exp/<exp>/summary.json`. Emotion accuracy is the "
             "corpus's speech-emotion classifier on the synthesized eval utterances; *ratio* divides it by the "
             f"classifier's accuracy on the real recordings ({', '.join(_num(a) for a in sorted(real))}). "
             "RTF = (decode + vocode wall time) / audio time on the machine that ran it.", ""]
    level_lists = [r["summary"]["intensity"]["per_level"] for r in rows
                   if (r["summary"].get("intensity") or {}).get("per_level")]
    levels = " → ".join(level_lists[0]) if level_lists else ""
    for voc in vocoders:
        lines += [f"## Vocoder: {voc}", "",
                  "| experiment | MCD (dB) | log-F0 RMSE | emotion acc. | ratio to real | P(target) by intensity "
                  f"{levels} | parameters | train steps | train time | RTF |",
                  "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
        for r in rows:
            s = r["summary"]
            entry = s["vocoders"].get(voc)
            if entry is None:
                continue
            syn, model = entry["synth"], s["model"]
            lines.append(
                f"| {r['exp']} | {_num(syn['mcd_mean'], '.2f')} ± {_num(syn['mcd_std'], '.2f')} "
                f"| {_num(syn['log_f0_rmse_mean'], '.3f')} | {_num(syn['emotion_accuracy'])} "
                f"| {_num(syn['emotion_accuracy_ratio'], '.2f')} | {intensity_cell(s)} | {_params(model['num_params'])} "
                f"| {model['steps']} | {_duration(model['train_seconds'])} | {_num(entry['rtf'], '.3f')} |")
            out["experiments"].setdefault(r["exp"], {"model": model, "intensity": s.get("intensity"),
                                                     "emotion_space": s.get("emotion_space"),
                                                     "real": s.get("real"), "vocoders": {}})
            out["experiments"][r["exp"]]["vocoders"][voc] = {"synth": syn, "floor": entry["floor"],
                                                             "rtf": entry["rtf"]}
        floors = {r["exp"]: r["summary"]["vocoders"][voc]["floor"] for r in rows
                  if voc in r["summary"]["vocoders"] and r["summary"]["vocoders"][voc]["floor"]}
        if floors:
            f = next(iter(floors.values()))
            lines += ["", f"Analysis-synthesis floor of {voc} (real eval mels through it): MCD "
                          f"{_num(f['mcd_mean'], '.2f')} dB, log-F0 RMSE {_num(f['log_f0_rmse_mean'], '.3f')}, "
                          f"emotion accuracy {_num(f['emotion_accuracy'])}.", ""]
        lines += judges_table(rows, voc, floors)
    reals = [r["summary"].get("real") for r in rows if r["summary"].get("real")]
    out["real"] = reals[0] if reals else None
    seed_lines, out["seed_groups"] = seed_sections(rows, vocoders)
    lines += seed_lines
    return "\n".join(lines) + "\n", out


def _judge_cells(row: dict | None, cer_ratio: str) -> list[str]:
    row = row or {}
    return [_num(row.get("dnsmos_ovrl"), ".2f"), _num(row.get("dnsmos_p808"), ".2f"), _num(row.get("cer"), ".3f"),
            cer_ratio, _num(row.get("pocketsphinx_wer"), ".3f"), _num(row.get("speaker_similarity"), ".3f")]


def judges_table(rows: list[dict], voc: str, floors: dict) -> list[str]:
    """Judges from outside the corpus: the real recordings, the floor, then every backend."""
    reals = [r["summary"].get("real") for r in rows if r["summary"].get("real")]
    real = reals[0] if reals else None
    judged = [r for r in rows if voc in r["summary"]["vocoders"]
              and any(r["summary"]["vocoders"][voc]["synth"].get(k) is not None
                      for k in ("dnsmos_ovrl", "cer", "pocketsphinx_wer", "speaker_similarity"))]
    if not judged and real is None:
        return []
    lines = ["", f"Judges from outside the corpus ({voc}): DNSMOS overall and P.808 (naturalness, 1-5), CER of the "
                 "corpus's CTC recognizer trained on real train speech (ratio: synthesized / real), PocketSphinx WER "
                 "(English corpora), Resemblyzer similarity to the speaker's real recordings and its change from "
                 "intensity 0 to 1, Spearman correlation of requested intensity with P(target).", "",
             "| speech | DNSMOS overall | P.808 | CER | CER ratio | PocketSphinx WER | speaker sim. "
             "| speaker sim. change 0 → 1 | intensity Spearman |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    if real is not None:
        lines.append("| real recordings | " + " | ".join(_judge_cells(real, "1.00")) + " | – | – |")
    if floors:
        f = next(iter(floors.values()))
        lines.append(f"| floor ({voc}) | " + " | ".join(_judge_cells(f, _num(f.get("cer_ratio"), ".2f")))
                     + " | – | – |")
    for r in judged:
        syn = r["summary"]["vocoders"][voc]["synth"]
        it = r["summary"].get("intensity") or {}
        change = (it.get("speaker_similarity") or {}).get("change")
        rho = (it.get("ranking") or {}).get("spearman")
        lines.append(f"| {r['exp']} | " + " | ".join(_judge_cells(syn, _num(syn.get("cer_ratio"), ".2f")))
                     + f" | {'n/a' if change is None else format(change, '+.3f')} | {_num(rho)} |")
    return lines + [""]


def write_results(exp_dirs, out_md) -> dict:
    out_md = Path(out_md)
    rows = collect_rows(exp_dirs)
    corpus = out_md.stem
    text, data = render(rows, corpus)
    write_text_atomic(out_md.with_suffix(".json"), json.dumps(data, indent=2) + "\n")
    write_text_atomic(out_md, text)
    return data
