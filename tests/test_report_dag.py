"""The report through the real DAG, and Snakemake's HTML report of it in headless Chromium.

The tiny slice of the embedded corpus (tests/pipeline_fixtures.py) with two backends (gst and
fastspeech2): ``snakemake results/report/espeak_emo/done exp/espeak_emo_gst/report/done``, then
``snakemake --report report.html`` of the same targets. Chromium opens the report as a person
would (Results -> category -> listen / results), and the test asserts the tables and that every
audio player of the listening page loads a playable wav.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest

from browser.cdp import Chromium, chromium_path
from pipeline_fixtures import make_workdir, snakemake

# the module fixture runs the whole tiny DAG of two backends inside the first test's time limit
pytestmark = pytest.mark.timeout(1500)

MODELS = ["gst", "fastspeech2"]
TARGETS = ["results/report/espeak_emo/done", "exp/espeak_emo_gst/report/done"]
CLICK = """((text, nth) => {
  const links = [...document.querySelectorAll('a')].filter((a) => a.textContent.trim() === text);
  if (links.length <= (nth || 0)) return false;
  links[nth || 0].click(); return true;
})"""
HAS_LINK = "((text) => [...document.querySelectorAll('a')].some((a) => a.textContent.trim() === text))"
PLAYERS = """(async () => {
  const players = [...document.querySelectorAll('audio')];
  const durations = await Promise.all(players.map((a) => new Promise((resolve) => {
    if (a.readyState >= 1) resolve(a.duration);
    else { a.addEventListener('loadedmetadata', () => resolve(a.duration), {once: true});
           a.addEventListener('error', () => resolve(-1), {once: true}); a.load(); }
    setTimeout(() => resolve(-2), 30000);
  })));
  return {durations, samples: players.map((a) => a.dataset.sample),
          heads: [...document.querySelectorAll('th')].map((t) => t.textContent),
          tables: document.querySelectorAll('table').length};
})()"""


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    workdir = make_workdir(tmp_path_factory.mktemp("report_dag"))
    for conf in (workdir / "conf" / "tts").glob("*.yaml"):
        if conf.stem not in MODELS:
            conf.unlink()
    snakemake(workdir, *TARGETS, timeout=1800)
    report = workdir / "report.html"
    proc = snakemake(workdir, *TARGETS, extra=("--report", str(report)), timeout=600)
    assert report.is_file(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return workdir, report


def test_report_items_on_disk(reported):
    workdir, _ = reported
    corpus = workdir / "results" / "report" / "espeak_emo"
    index = json.loads((corpus / "index.json").read_text())
    assert index["backends"] == sorted(MODELS) or set(index["backends"]) == set(MODELS)
    kinds = {f["kind"] for f in index["figures"]}
    assert {"curves", "attention", "mels", "confusion", "emotion_maps", "intensity"} <= kinds
    speeches = {s.split("/")[3] for s in index["samples"]}
    assert speeches == {"real", "floor", *MODELS}
    levels = {s.split("/")[5][:-4] for s in index["samples"] if s.split("/")[3] in MODELS}
    assert levels == {"0", "0.5", "1"}
    assert "<table>" in (corpus / "tables.html").read_text()
    exp = workdir / "exp" / "espeak_emo_gst" / "report"
    assert (exp / "done").is_file() and json.loads((exp / "index.json").read_text())["backends"] == ["gst"]
    # the report's own DAG planned nothing more after it ran
    proc = snakemake(workdir, *TARGETS, extra=("-n",))
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_report_html_holds_every_item(reported):
    _, report = reported
    text = report.read_text(encoding="utf-8")
    assert "espeak_emo: every backend" in text and "espeak_emo_gst" in text
    for name in ("listen.html", "tables.html", "curves/gst.png", "curves/fastspeech2.png", "intensity/gst.png",
                 "attention/fastspeech2.png", "emotion_maps/gst_pca.png"):
        assert name in text, name
    assert re.search(r"samples: (neutral|happy|sad|angry|surprise)", text)


@pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (Debian package `chromium`; "
                    ".ci/run installs it)")
def test_report_in_chromium(reported, tmp_path):
    workdir, report = reported
    with Chromium(tmp_path) as browser:
        page = browser.new_page()
        page.navigate(report.as_uri())
        # one category sits behind a "Results" menu entry; several are listed under RESULTS at once
        page.wait_for(f"{CLICK}('Results') || {HAS_LINK}('espeak_emo: every backend')",
                      what="the report's Results menu")
        page.wait_for(CLICK + "('espeak_emo: every backend')", what="the corpus category")
        found = {}
        for sub in ("listen", "results"):
            page.wait_for(CLICK + f"('{sub}')", what=f"subcategory {sub}")
            page.wait_for("document.querySelectorAll('table a').length > 0", what=f"{sub} result row")
            page.evaluate("document.querySelector('table a').click()")
            name = "listen.html" if sub == "listen" else "tables.html"
            page.wait_for("(() => { const f = document.querySelector('iframe'); "
                          f"return !!f && f.src.includes('filename={name};'); }})()", what=f"the {name} frame")
            deadline = time.monotonic() + 90  # the frame navigates to a data: URL of several MB
            frames = []
            while not frames and time.monotonic() < deadline:
                frames = [f for f in page.frames() if f"filename={name};" in f["url"]]
                time.sleep(0.5)
            assert frames, page.frames()
            ctx = page.frame_context(frames[-1]["id"])
            found[sub] = page.evaluate(PLAYERS, context=ctx, timeout=90)
            page.screenshot(tmp_path / f"report_{sub}.png")
            page.wait_for(CLICK + "('espeak_emo: every backend')", what="back to the category")
    listen, results = found["listen"], found["results"]
    assert listen["tables"] >= 2 and listen["samples"], listen
    assert all(d > 0 for d in listen["durations"]), listen["durations"]
    heads = set(listen["heads"])
    assert {"real recording", "gst (griffin_lim)", "fastspeech2 (griffin_lim)", "intensity 0.5"} <= heads, heads
    assert results["tables"] >= 1 and "MCD (dB)" in " ".join(results["heads"]), results["heads"]
    shutil.copy(tmp_path / "report_listen.png", workdir / "report_listen.png")
