"""The files of a Snakemake report (``snakemake --report report.html <target>``) of one
experiment or of every backend of a corpus, built from the sample sets of
:mod:`pytorch_backend.synth.report_samples`, the results tables and the plots.

Snakemake's report shows a report item by its type: PNG inline, HTML in a frame, anything
else as a download. So what a person listens to is ``listen.html``, a self-contained page
(the samples inside as Ogg Vorbis data URIs) with a player per sample, laid out for comparison: per emotion a
table of sentences x (real recording, floor, each backend) and the intensity sweep 0 / 0.5 / 1
per backend and emotion. The same wavs are report items too (download, with a caption each),
under ``samples/<emotion>/<sentence>/<speech>/<vocoder>/<intensity>.wav``, which the report
rule declares with ``report(directory(...), patterns=[...])`` so that category, subcategory
and labels come from the path. Captions are reStructuredText files under ``captions/`` at the
same relative paths, included by ``report/sample.rst`` and ``report/figure.rst``.
``tables.html`` holds the results tables (markdown turned into HTML), ``figures/<kind>/<name>.png``
the plots.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import os
import re
import shutil
from pathlib import Path

from pytorch_backend.errors import DataError
from pytorch_backend.utils.fileio import write_text_atomic

log = logging.getLogger("emotts.report")

NONE = "none"  # the vocoder / intensity label of a real recording (a floor: its intensity)
SAMPLE_PATTERN = "{emotion}/{sentence}/{speech}/{vocoder}/{intensity}.wav"
FIGURE_PATTERN = "{kind}/{figure}.png"
FIGURE_KINDS = ("curves", "attention", "mels", "confusion", "emotion_maps", "intensity")
_SAFE = re.compile(r"[^A-Za-z0-9_.=+-]+")

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1rem 1.5rem; color: #1d2330; }
h1 { font-size: 1.35rem; } h2 { font-size: 1.15rem; margin-top: 1.6rem; } h3 { font-size: 1rem; }
table { border-collapse: collapse; margin: .6rem 0 1.2rem; }
th, td { border: 1px solid #d4d7de; padding: .3rem .5rem; vertical-align: top; text-align: left; }
th { background: #eef0f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.text { max-width: 22rem; font-size: .9rem; }
audio { width: 13rem; height: 2rem; display: block; }
.note { color: #5a6275; font-size: .9rem; max-width: 60rem; }
code { background: #f1f2f5; padding: 0 .2rem; }
"""


def safe_part(value) -> str:
    """A path component of a label value (no separators, never empty)."""
    text = _SAFE.sub("_", str(value)).strip("._") or "x"
    return text[:80]


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n")


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        dst.unlink()
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


# -- markdown tables -> HTML --------------------------------------------------------------------------
def _inline(text: str) -> str:
    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"(?<![*\w])\*([^*\s][^*]*)\*(?!\w)", r"<em>\1</em>", out)
    out = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", r"\1", out)  # links: their text (the report is offline)
    return out


def _cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|"):
        line = line[:-1]
    return [c.strip() for c in line.split("|")]


def markdown_to_html(text: str) -> str:
    """The markdown our results files use (headings, pipe tables, lists, paragraphs) as HTML."""
    lines = text.splitlines()
    out: list[str] = []
    para: list[str] = []
    i = 0

    def flush():
        if para:
            out.append(f"<p>{_inline(' '.join(para))}</p>")
            para.clear()

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            flush()
            i += 1
            continue
        m = re.match(r"^(#{1,6})\s+(.*)$", stripped)
        if m:
            flush()
            level = min(6, len(m.group(1)) + 1)
            out.append(f"<h{level}>{_inline(m.group(2))}</h{level}>")
            i += 1
            continue
        if stripped.startswith("|") and i + 1 < len(lines) and re.match(r"^\s*\|?\s*:?-{2,}", lines[i + 1]):
            flush()
            head = _cells(stripped)
            aligns = ["num" if c.strip().endswith(":") else "" for c in _cells(lines[i + 1])]
            rows = []
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            th = "".join(f"<th>{_inline(c)}</th>" for c in head)
            body = []
            for row in rows:
                tds = "".join(f'<td class="{aligns[k] if k < len(aligns) else ""}">{_inline(c)}</td>'
                              for k, c in enumerate(row))
                body.append(f"<tr>{tds}</tr>")
            out.append(f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>")
            continue
        if re.match(r"^[-*]\s+", stripped):
            flush()
            items = []
            while i < len(lines) and (re.match(r"^\s*[-*]\s+", lines[i]) or
                                      (lines[i].startswith("  ") and lines[i].strip() and items)):
                if re.match(r"^\s*[-*]\s+", lines[i]):
                    items.append(re.sub(r"^\s*[-*]\s+", "", lines[i]))
                else:
                    items[-1] += " " + lines[i].strip()
                i += 1
            out.append("<ul>" + "".join(f"<li>{_inline(x)}</li>" for x in items) + "</ul>")
            continue
        para.append(stripped)
        i += 1
    flush()
    return "\n".join(out)


# -- the report directory -----------------------------------------------------------------------------
def _sample_key(entry: dict, backend: str) -> tuple[str, str, str, str, str]:
    """(emotion, sentence, speech, vocoder, intensity) of a samples.json entry."""
    if entry["kind"] == "real":
        return entry["emotion"], entry["sentence"], "real", NONE, NONE
    if entry["kind"] == "floor":
        return entry["emotion"], entry["sentence"], "floor", entry["vocoder"], NONE
    return entry["emotion"], entry["sentence"], backend, entry["vocoder"], f"{float(entry['intensity']):g}"


def _caption(entry: dict, key: tuple, corpus_title: str) -> str:
    emotion, sentence, speech, vocoder, intensity = key
    if speech == "real":
        what = f"**Real recording** of utterance ``{entry['utt']}`` (speaker {entry['speaker']})"
    elif speech == "floor":
        what = (f"**Analysis-synthesis floor**: the real mel spectrogram of ``{entry['utt']}`` through the "
                f"**{vocoder}** vocoder (the best this vocoder can do)")
    else:
        what = (f"**{speech}** (experiment ``{entry['exp']}``) synthesizing the sentence's text with emotion "
                f"**{emotion}** at intensity **{intensity}**, speaker {entry['speaker']}, vocoder **{vocoder}**")
        if entry.get("soft_label"):
            label = ", ".join(f"{k} {v:g}" for k, v in entry["soft_label"].items() if v)
            what += f"; soft label: {label}"
    text = entry["text"].replace("`", "'")
    return (f"{what}.\n\nEmotion **{emotion}**, sentence {sentence}: \"{text}\" "
            f"({entry['seconds']:.2f} s, {corpus_title}).\n")


def build_report(out_dir, title: str, sample_dirs: list, figures: list[tuple] = (), tables: list[tuple] = (),
                 note: str = "") -> dict:
    """Write the report files of ``sample_dirs`` (each holding a samples.json; the order is the
    backends' column order) into ``out_dir``; ``figures``: (kind, name, png, caption) of the
    plots, a missing png skipped; ``tables``: (heading, markdown file). Returns an index
    (also written as ``index.json``)."""
    out = Path(out_dir)
    for sub in ("samples", "figures", "captions"):
        shutil.rmtree(out / sub, ignore_errors=True)
    records = []
    for d in sample_dirs:
        path = Path(d) / "samples.json"
        try:
            records.append((Path(d), json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, json.JSONDecodeError) as exc:
            raise DataError(path, f"cannot read the sample set: {exc}") from None
    if not records:
        raise DataError(out, "no sample sets to report")
    emotions = records[0][1]["emotions"]
    neutral = records[0][1].get("neutral")
    levels = records[0][1].get("levels", [0.0, 0.5, 1.0])
    samples: dict[tuple, dict] = {}  # key -> {src, entry}
    backends: list[str] = []
    sentences: dict[str, str] = {}
    for d, rec in records:
        backend = rec["backend"]
        if backend in backends:  # two experiments of one model class: tell them apart by exp
            backend = rec["exp"]
        backends.append(backend)
        for s, t in rec["sentences"].items():
            sentences.setdefault(s, t)
        for entry in rec["samples"]:
            key = _sample_key(entry, backend)
            if key in samples:  # real / floor of the same corpus appear in every experiment
                continue
            samples[key] = {"src": d / entry["path"], "entry": entry}
    for key, item in samples.items():
        rel = "/".join(safe_part(k) for k in key)
        _link_or_copy(item["src"], out / "samples" / f"{rel}.wav")
        caption = out / "captions" / "samples" / f"{rel}.rst"
        caption.parent.mkdir(parents=True, exist_ok=True)
        caption.write_text(_caption(item["entry"], key, title), encoding="utf-8")
        item["rel"] = f"samples/{rel}.wav"
    kept_figures = []
    for kind, name, png, caption in figures:
        png = Path(png)
        if not png.is_file():
            log.info("no %s plot %s (skipped)", kind, png)
            continue
        rel = f"{safe_part(kind)}/{safe_part(name)}"
        _link_or_copy(png, out / "figures" / f"{rel}.png")
        cap = out / "captions" / "figures" / f"{rel}.rst"
        cap.parent.mkdir(parents=True, exist_ok=True)
        cap.write_text(caption.rstrip() + "\n", encoding="utf-8")
        kept_figures.append({"kind": kind, "name": name, "path": f"figures/{rel}.png"})
    write_text_atomic(out / "tables.html", tables_page(title, tables))
    listen = listen_page(title, samples, emotions, neutral, backends, sentences, levels, out, note)
    url_bytes = len("data:text/html;charset=utf-8;base64,") + (len(listen.encode("utf-8")) + 2) // 3 * 4
    if url_bytes > EMBED_LIMIT:
        log.warning("%s: the listen page is %.1f MiB as a data URL, over the 2 MiB a browser shows inside "
                    "Snakemake's report: open %s directly (fewer backends or sentences make it fit)",
                    title, url_bytes / 2 ** 20, out / "listen.html")
    write_text_atomic(out / "listen.html", listen)
    index = {"title": title, "backends": backends, "emotions": emotions, "sentences": sentences,
             "samples": sorted(item["rel"] for item in samples.values()), "figures": kept_figures}
    write_text_atomic(out / "index.json", json.dumps(index, indent=2, ensure_ascii=False) + "\n")
    log.info("report of %s: %d samples, %d figures -> %s", title, len(samples), len(kept_figures), out)
    return index


def tables_page(title: str, tables: list[tuple]) -> str:
    parts = [f"<h1>{html.escape(title)}: results</h1>"]
    for heading, md in tables:
        md = Path(md)
        if not md.is_file():
            raise DataError(md, "results table not found")
        parts.append(f"<section><h2>{html.escape(heading)}</h2>"
                     f'<p class="note">from <code>{html.escape(str(md))}</code></p>'
                     f"{markdown_to_html(md.read_text(encoding='utf-8'))}</section>")
    return _page(f"{title}: results", "\n".join(parts))


# Snakemake's report shows an HTML item in a frame whose src is a data: URL, and Chromium refuses
# URLs over 2 MiB (the frame stays blank). 16-bit wavs reach that with a dozen samples, so the page
# embeds Ogg Vorbis at libsndfile's smallest setting (~37 kb/s for 22.05 kHz speech, 12x smaller;
# every browser plays it); the wav items of the report stay the exact files.
EMBED_LIMIT = 2 * 1024 * 1024


def _embedded_ogg(wav: Path) -> str:
    import io

    import soundfile as sf

    audio, rate = sf.read(str(wav), dtype="float32", always_2d=False)
    buf = io.BytesIO()
    sf.write(buf, audio, rate, format="OGG", subtype="VORBIS", compression_level=1.0)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _audio(item: dict | None, out: Path, label: str) -> str:
    if item is None:
        return '<td class="missing">&ndash;</td>'
    data = _embedded_ogg(out / item["rel"])
    sample = html.escape(item["rel"][len("samples/"):-len(".wav")])
    return (f'<td><audio controls preload="metadata" data-sample="{sample}" title="{html.escape(label)}" '
            f'src="data:audio/ogg;base64,{data}"></audio></td>')


def listen_page(title: str, samples: dict, emotions: list[str], neutral: str | None, backends: list[str],
                sentences: dict, levels, out: Path, note: str = "") -> str:
    vocoders = sorted({k[3] for k in samples if k[3] != NONE})
    floors = [v for v in vocoders if any(k[2] == "floor" and k[3] == v for k in samples)]
    columns = [("real", NONE, NONE, "real recording")]
    columns += [("floor", v, NONE, f"floor ({v})") for v in floors]
    columns += [(b, v, "1", f"{b} ({v})") for b in backends for v in vocoders
                if any(k[2] == b and k[3] == v and k[4] == "1" for k in samples)]
    parts = [f"<h1>{html.escape(title)}: listen</h1>",
             '<p class="note">Each row is one eval sentence in one emotion: the real recording, the '
             "analysis-synthesis floor (the real mel spectrogram through the vocoder: the best that vocoder "
             "can do), and each backend's synthesis of the same text, speaker and emotion (intensity 1). "
             "Below: each backend at intensity " + " / ".join(f"{x:g}" for x in levels) +
             " (0 is the neutral voice). Sentences never seen in training.</p>"]
    if note:
        parts.append(f'<p class="note">{html.escape(note)}</p>')
    for emotion in emotions:
        rows = []
        for s in sorted(sentences, key=lambda x: int(x[1:]) if x[1:].isdigit() else 0):
            cells = [samples.get((emotion, s, speech, voc, inten)) for speech, voc, inten, _ in columns]
            if not any(cells):
                continue
            tds = "".join(_audio(c, out, f"{emotion}, {s}: {label}") for c, (_, _, _, label) in zip(cells, columns))
            rows.append(f'<tr><td class="text"><strong>{s}</strong> {html.escape(sentences[s])}</td>{tds}</tr>')
        if not rows:
            continue
        head = "".join(f"<th>{html.escape(label)}</th>" for *_, label in columns)
        parts.append(f'<section class="emotion" data-emotion="{html.escape(emotion)}"><h2>{html.escape(emotion)}</h2>'
                     f"<table><thead><tr><th>sentence</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
                     "</section>")
    sweep_rows = []
    level_names = [f"{float(x):g}" for x in levels]
    for b in backends:
        for voc in vocoders:
            for emotion in emotions:
                if emotion == neutral:
                    continue
                for s in sorted(sentences):
                    cells = [samples.get((emotion, s, b, voc, lv)) for lv in level_names]
                    if sum(c is not None for c in cells) < 2:
                        continue
                    tds = "".join(_audio(c, out, f"{b} ({voc}), {emotion} at intensity {lv}")
                                  for c, lv in zip(cells, level_names))
                    sweep_rows.append(f"<tr><td>{html.escape(b)}</td><td>{html.escape(voc)}</td>"
                                      f"<td>{html.escape(emotion)}</td><td class='text'><strong>{s}</strong> "
                                      f"{html.escape(sentences[s])}</td>{tds}</tr>")
    if sweep_rows:
        head = "".join(f"<th>intensity {lv}</th>" for lv in level_names)
        parts.append('<section id="sweep"><h2>Intensity sweep</h2><table><thead><tr><th>backend</th><th>vocoder</th>'
                     f"<th>emotion</th><th>sentence</th>{head}</tr></thead><tbody>{''.join(sweep_rows)}</tbody>"
                     "</table></section>")
    return _page(f"{title}: listen", "\n".join(parts))
