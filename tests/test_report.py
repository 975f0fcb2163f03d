"""The report's sample set and pages (pytorch_backend/synth/report_samples.py, report_pages.py).

Tiny trained gst and fastspeech2 experiments (tests/synth_fixtures.py) with eval recordings
made up here; the sample set goes through the one synthesis function; the listening page is
loaded in headless Chromium and every player must hold playable audio. The Snakemake report of
the real DAG is tested in tests/test_report_dag.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from browser.cdp import Chromium, chromium_path
from synth_fixtures import EMOTIONS, build_experiments

needs_chromium = pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (Debian package "
                                    "`chromium`; .ci/run installs it)")


def write_eval_audio(data_dir: Path, wav_dir: Path, fs: int = 8000) -> Path:
    """A wav per eval utterance (a tone whose pitch follows the utterance) and its wav.scp."""
    wav_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, line in enumerate((data_dir / "text").read_text().splitlines()):
        utt = line.split()[0]
        t = np.arange(int(0.6 * fs)) / fs
        sf.write(wav_dir / f"{utt}.wav", (0.3 * np.sin(2 * np.pi * (140 + 15 * i) * t)).astype(np.float32), fs)
        lines.append(f"{utt} {wav_dir / (utt + '.wav')}\n")
    (data_dir / "wav.scp").write_text("".join(lines))
    return data_dir / "wav.scp"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Two backends' sample sets (floor: the recordings themselves stand in for it)."""
    from pytorch_backend.synth.report_samples import collect_samples
    from pytorch_backend.synth.synthesizer import Synthesizer

    root = tmp_path_factory.mktemp("report")
    out = build_experiments(root, backends=["gst", "fastspeech2"])
    data_dir = Path(out["corpus"]["data_root"]) / "eval"
    scp = write_eval_audio(data_dir, root / "wav")
    out["samples"] = {}
    for model in ("gst", "fastspeech2"):
        synth = Synthesizer.load(out["exp"][model])
        vocoders = ["griffin_lim", "hifigan"] if model == "gst" else ["griffin_lim"]
        out["samples"][model] = collect_samples(synth, data_dir, root / f"samples_{model}", vocoders=vocoders,
                                                floors={"griffin_lim": scp}, per_emotion=2)
    out["data_dir"] = data_dir
    return out


def test_sample_set_is_what_it_says(built):
    rec = built["samples"]["gst"]
    root = built["root"] / "samples_gst"
    assert rec["backend"] == "gst" and rec["emotions"] == EMOTIONS and rec["levels"] == [0.0, 0.5, 1.0]
    kinds = {}
    for e in rec["samples"]:
        kinds.setdefault(e["kind"], []).append(e)
        wav, fs = sf.read(root / e["path"], dtype="float32")
        assert fs == 8000 and len(wav) > 0 and np.isfinite(wav).all()
        assert e["seconds"] == pytest.approx(len(wav) / fs, abs=1e-3)
    # 2 sentences x 3 emotions of real, floor and synthesis (x 2 vocoders), and the sweep of the
    # 2 non-neutral emotions at 3 levels with the default vocoder
    assert len(kinds["real"]) == len(kinds["floor"]) == 6
    assert len(kinds["synth"]) == 12 and {e["vocoder"] for e in kinds["synth"]} == {"griffin_lim", "hifigan"}
    assert sorted((e["emotion"], e["intensity"]) for e in kinds["sweep"]) == [
        (emo, lv) for emo in ("happy", "sad") for lv in (0.0, 0.5, 1.0)]
    assert {e["vocoder"] for e in kinds["sweep"]} == {"griffin_lim"}
    # each emotion's real and synthesized samples are of the same utterance text and speaker
    for e in kinds["synth"]:
        real = [r for r in kinds["real"] if (r["emotion"], r["sentence"]) == (e["emotion"], e["sentence"])]
        assert len(real) == 1 and real[0]["text"] == e["text"] and real[0]["speaker"] == e["speaker"]
        assert e["soft_label"][e["emotion"]] == 1.0
    sweep0 = [e for e in kinds["sweep"] if e["intensity"] == 0.0]
    assert all(e["soft_label"]["neutral"] == 1.0 for e in sweep0)
    assert len(rec["mels"]) == 6 and all((root / "mels" / m).is_file() for m in rec["mels"])


def test_sample_set_goes_through_the_synthesis_function(built):
    """A sample equals what Synthesizer.synth gives for the same text and controls."""
    from pytorch_backend.synth.synthesizer import Synthesizer

    rec = built["samples"]["fastspeech2"]
    entry = next(e for e in rec["samples"] if e["kind"] == "synth" and e["emotion"] == "sad")
    wav, fs = Synthesizer.load(built["exp"]["fastspeech2"]).synth(entry["text"], emotion="sad",
                                                                   speaker=entry["speaker"])
    stored, _ = sf.read(built["root"] / "samples_fastspeech2" / entry["path"], dtype="float32")
    np.testing.assert_allclose(stored, np.clip(wav, -1, 1), atol=1.0 / 32767 + 1e-6)


def test_sentences_prefer_texts_spoken_in_every_emotion(tmp_path):
    from pytorch_backend.synth.report_samples import choose_sentences

    rows = [("a1_happy", "a1", "happy", "Good day."), ("a1_neutral", "a1", "neutral", "Good day."),
            ("a1_sad", "a1", "sad", "Good day."), ("a0_sad", "a0", "sad", "Only sad here."),
            ("b2_happy", "b2", "happy", "Second one."), ("b2_neutral", "b2", "neutral", "second  ONE."),
            ("b2_sad", "b2", "sad", "Second one.")]
    rows.sort(key=lambda r: r[0].encode())
    for name, col in (("text", 3), ("utt2emo", 2), ("utt2spk", 1)):
        (tmp_path / name).write_text("".join(f"{r[0]} {r[col]}\n" for r in rows))
    chosen = choose_sentences(tmp_path, ["neutral", "happy", "sad"], per_emotion=2)
    assert [(c["emotion"], c["sentence"], c["utt"]) for c in chosen] == [
        ("neutral", "s1", "a1_neutral"), ("neutral", "s2", "b2_neutral"),
        ("happy", "s1", "a1_happy"), ("happy", "s2", "b2_happy"),
        ("sad", "s1", "a1_sad"), ("sad", "s2", "b2_sad")]
    assert choose_sentences(tmp_path, ["neutral", "happy", "sad"], per_emotion=2) == chosen  # deterministic
    # texts with symbols the model lacks come after every text it can say in full
    sayable = choose_sentences(tmp_path, ["neutral", "happy", "sad"], per_emotion=2,
                               sayable=lambda t: "good" not in t.lower())
    assert [(c["emotion"], c["sentence"], c["utt"]) for c in sayable] == [
        ("neutral", "s1", "b2_neutral"), ("neutral", "s3", "a1_neutral"), ("happy", "s1", "b2_happy"),
        ("happy", "s3", "a1_happy"), ("sad", "s1", "b2_sad"), ("sad", "s2", "a0_sad")]
    (tmp_path / "utt2spk").write_text("".join(f"{r[0]} {r[1]}\n" for r in rows[1:]))
    from pytorch_backend.errors import DataError

    with pytest.raises(DataError, match=rf"utt2spk \(utterance {rows[0][0]}\)"):
        choose_sentences(tmp_path, ["neutral"], per_emotion=1)


def test_report_pages(built, tmp_path):
    from pipeline import paths as P
    from pytorch_backend.synth import report_pages

    assert P.REPORT_SAMPLE == report_pages.SAMPLE_PATTERN and P.REPORT_FIGURE == report_pages.FIGURE_PATTERN
    md = tmp_path / "results.md"
    md.write_text("# tiny\n\nSome *words* and `code`.\n\n| backend | MCD (dB) |\n|---|---:|\n| gst | 9.50 |\n"
                  "| fastspeech2 | 8.25 |\n\n- one\n- two <b>not html</b>\n")
    png = built["root"] / "samples_gst" / "mels" / built["samples"]["gst"]["mels"][0]
    out = tmp_path / "report"
    index = report_pages.build_report(
        out, "tiny: every backend", [built["root"] / "samples_gst", built["root"] / "samples_fastspeech2"],
        figures=[("mels", "gst_first", png, "A **mel** plot."), ("curves", "missing", tmp_path / "no.png", "x")],
        tables=[("tiny", md)])
    assert index["backends"] == ["gst", "fastspeech2"]
    assert index["figures"] == [{"kind": "mels", "name": "gst_first", "path": "figures/mels/gst_first.png"}]
    assert (out / "captions" / "figures" / "mels" / "gst_first.rst").read_text() == "A **mel** plot.\n"
    # samples laid out as the report rule's pattern says, each with its caption
    pattern = re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(P.REPORT_SAMPLE)) + "$")
    wavs = sorted(p.relative_to(out / "samples").as_posix() for p in (out / "samples").rglob("*.wav"))
    assert wavs and len(wavs) == len(index["samples"])
    speeches = set()
    for rel in wavs:
        m = pattern.match(rel)
        assert m, rel
        speeches.add(m["speech"])
        caption = (out / "captions" / "samples" / rel).with_suffix(".rst").read_text()
        if m["speech"] == "real":
            assert m["vocoder"] == m["intensity"] == "none" and "Real recording" in caption
        elif m["speech"] == "floor":
            assert "floor" in caption and m["vocoder"] in caption
        else:
            assert f"**{m['speech']}**" in caption and f"intensity **{m['intensity']}**" in caption
            assert f"vocoder **{m['vocoder']}**" in caption and f"with emotion **{m['emotion']}**" in caption
    assert speeches == {"real", "floor", "gst", "fastspeech2"}
    # real and floor once, although both experiments hold them
    assert sum(1 for w in wavs if "/real/" in w) == 6
    tables = (out / "tables.html").read_text()
    assert "<table><thead><tr><th>backend</th><th>MCD (dB)</th></tr></thead>" in tables
    assert '<td class="num">8.25</td>' in tables and "<em>words</em>" in tables and "<code>code</code>" in tables
    assert "&lt;b&gt;not html&lt;/b&gt;" in tables
    listen = (out / "listen.html").read_text()
    players = re.findall(r'<audio controls preload="metadata" data-sample="([^"]+)"', listen)
    assert set(players) == {w[:-len(".wav")] for w in wavs}  # every sample has a player
    for emotion in EMOTIONS:
        assert f'data-emotion="{emotion}"' in listen
    heads = re.findall(r"<th>([^<]+)</th>", listen.split('id="sweep"')[0])
    assert heads[:6] == ["sentence", "real recording", "floor (griffin_lim)", "gst (griffin_lim)", "gst (hifigan)",
                         "fastspeech2 (griffin_lim)"]
    assert 'id="sweep"' in listen and "<th>intensity 0.5</th>" in listen
    # the players embed Ogg Vorbis, a fraction of the wavs, to fit the 2 MiB data URL of the report's frame
    embedded = re.findall(r'src="data:audio/ogg;base64,([A-Za-z0-9+/=]+)"', listen)
    assert len(embedded) == len(players)
    import base64
    import io

    import soundfile as sf

    first = next(w for w in wavs if w[:-len(".wav")] == players[0])
    audio, rate = sf.read(io.BytesIO(base64.b64decode(embedded[0])))
    real, real_rate = sf.read(out / "samples" / first)
    assert rate == real_rate and abs(len(audio) - len(real)) <= rate // 100
    assert len(base64.b64decode(embedded[0])) < (out / "samples" / first).stat().st_size / 3


def test_a_broken_sample_set_names_its_file(tmp_path):
    from pytorch_backend.errors import DataError
    from pytorch_backend.synth.report_pages import build_report

    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "samples.json").write_text("{truncated")
    with pytest.raises(DataError, match=r"s/samples.json: cannot read the sample set"):
        build_report(tmp_path / "out", "x", [tmp_path / "s"])
    with pytest.raises(DataError, match=r"results.md: results table not found"):
        from pytorch_backend.synth.report_pages import tables_page

        tables_page("x", [("x", tmp_path / "results.md")])


LISTEN_CHECK = """(async () => {
  const players = [...document.querySelectorAll('audio')];
  const durations = await Promise.all(players.map((a) => new Promise((resolve) => {
    if (a.readyState >= 1) resolve(a.duration);
    else { a.addEventListener('loadedmetadata', () => resolve(a.duration), {once: true});
           a.addEventListener('error', () => resolve(-1), {once: true}); a.load(); }
    setTimeout(() => resolve(-2), 20000);
  })));
  return {players: players.length, durations, tables: document.querySelectorAll('table').length,
          samples: players.map((a) => a.dataset.sample)};
})()"""


@needs_chromium
def test_listen_page_plays_in_chromium(built, tmp_path):
    from pytorch_backend.synth.report_pages import build_report

    out = tmp_path / "report"
    index = build_report(out, "tiny", [built["root"] / "samples_gst", built["root"] / "samples_fastspeech2"])
    with Chromium(tmp_path) as browser:
        page = browser.new_page()
        page.navigate((out / "listen.html").as_uri())
        res = page.evaluate(LISTEN_CHECK, timeout=60)
        page.screenshot(tmp_path / "listen.png")
    assert res["tables"] == len(EMOTIONS) + 1  # one per emotion and the sweep
    assert res["players"] >= len(index["samples"]) and all(d > 0 for d in res["durations"]), res
    assert set(res["samples"]) == {s[len("samples/"):-len(".wav")] for s in index["samples"]}


def test_samples_json_is_written_last(built):
    rec = json.loads((built["root"] / "samples_gst" / "samples.json").read_text())
    for e in rec["samples"]:
        assert (built["root"] / "samples_gst" / e["path"]).stat().st_mtime <= \
            (built["root"] / "samples_gst" / "samples.json").stat().st_mtime
