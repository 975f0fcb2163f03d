"""The one page of the demo server (plain HTML + a little JavaScript, no external resources).

It reads ``GET /info`` and shows only the controls the model has: text, speaker, emotion (and
``auto`` when the model has a text emotion classifier), an intensity slider, a two-emotion
mixture, a reference recording upload (latent models) or an "emotion from a recording" upload
(label models with an emotion classifier), speed / pitch / energy sliders (fastspeech2), the
vocoder and a seed. "Synthesize" posts the form to ``/synthesize``; the wav comes back into an
audio player and a download link. An error names the field and marks its control.
"""

PAGE_HTML = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>emotts demo</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 1.5rem auto; padding: 0 1rem;
         color: #1d2330; background: #f7f7f9; }
  h1 { font-size: 1.4rem; margin-bottom: .2rem; }
  #model { color: #5a6275; margin-top: 0; }
  form { background: #fff; border: 1px solid #d9dce3; border-radius: .5rem; padding: 1rem 1.2rem; }
  label { display: block; font-weight: 600; margin: .7rem 0 .25rem; }
  .hint { font-weight: 400; color: #6b7385; font-size: .85rem; }
  textarea { width: 100%; box-sizing: border-box; font: inherit; padding: .4rem; min-height: 4.5rem; }
  select, input[type=number] { font: inherit; padding: .2rem; }
  input[type=range] { width: 70%; vertical-align: middle; }
  output { display: inline-block; min-width: 3rem; text-align: right; font-variant-numeric: tabular-nums; }
  .row { display: flex; gap: 1.2rem; flex-wrap: wrap; }
  .row > div { flex: 1 1 12rem; }
  fieldset { border: 1px solid #e3e5ea; border-radius: .4rem; margin-top: .8rem; }
  legend { font-weight: 600; }
  .bad { outline: 2px solid #c62828; outline-offset: 2px; }
  button { font: inherit; font-weight: 600; margin-top: 1rem; padding: .5rem 1.4rem; border-radius: .4rem;
           border: 0; background: #2457c5; color: #fff; cursor: pointer; }
  button:disabled { background: #8ea3cf; cursor: wait; }
  #status { margin: .8rem 0; min-height: 1.3rem; }
  #status.error { color: #b71c1c; font-weight: 600; }
  #result { background: #fff; border: 1px solid #d9dce3; border-radius: .5rem; padding: .8rem 1.2rem; }
  #result audio { width: 100%; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<h1>emotts: emotional text-to-speech</h1>
<p id="model">loading the model&hellip;</p>
<form id="form" autocomplete="off">
  <label for="text">Text <span class="hint">(inline tags work too: &lt;happy 0.8&gt;We won!&lt;/happy&gt;)</span></label>
  <textarea id="text" name="text" required></textarea>
  <div class="row">
    <div><label for="speaker">Speaker</label><select id="speaker" name="speaker"></select></div>
    <div><label for="emotion">Emotion</label><select id="emotion" name="emotion"></select></div>
    <div id="vocoder-box"><label for="vocoder">Vocoder</label><select id="vocoder" name="vocoder"></select></div>
  </div>
  <label for="intensity">Intensity <span class="hint">(0 = neutral, 1 = full emotion)</span></label>
  <input type="range" id="intensity" name="intensity" min="0" max="1" step="0.05" value="1">
  <output id="intensity-value" for="intensity">1.00</output>
  <fieldset id="mix-box">
    <legend><input type="checkbox" id="mix-on"> <label for="mix-on" style="display:inline">Mix with a second emotion</label></legend>
    <div id="mix-controls" hidden>
      <label for="mix-second">Second emotion</label><select id="mix-second"></select>
      <label for="mix-weight">Share of the second emotion</label>
      <input type="range" id="mix-weight" min="0" max="1" step="0.05" value="0.3">
      <output id="mix-weight-value" for="mix-weight">0.30</output>
    </div>
  </fieldset>
  <fieldset id="reference-box" hidden>
    <legend>Reference recording <span class="hint">(optional: its style replaces the emotion's)</span></legend>
    <input type="file" id="reference_wav" name="reference_wav" accept=".wav,audio/wav,audio/x-wav">
  </fieldset>
  <fieldset id="emotion-wav-box" hidden>
    <legend>Emotion from a recording <span class="hint">(optional: the emotion classifier's reading of it)</span></legend>
    <input type="file" id="emotion_from_wav" name="emotion_from_wav" accept=".wav,audio/wav,audio/x-wav">
  </fieldset>
  <fieldset id="prosody-box" hidden>
    <legend>Prosody</legend>
    <label for="speed">Speed</label><input type="range" id="speed" name="speed" min="0.5" max="2" step="0.05" value="1"><output id="speed-value" for="speed">1.00</output>
    <label for="pitch_scale">Pitch</label><input type="range" id="pitch_scale" name="pitch_scale" min="0.5" max="2" step="0.05" value="1"><output id="pitch_scale-value" for="pitch_scale">1.00</output>
    <label for="energy_scale">Energy</label><input type="range" id="energy_scale" name="energy_scale" min="0.5" max="2" step="0.05" value="1"><output id="energy_scale-value" for="energy_scale">1.00</output>
  </fieldset>
  <label for="seed">Seed <span class="hint">(optional)</span></label>
  <input type="number" id="seed" name="seed" min="0" step="1">
  <div><button type="submit" id="synthesize" disabled>Synthesize</button></div>
</form>
<p id="status" role="status" aria-live="polite"></p>
<div id="result" hidden>
  <audio id="player" controls preload="auto"></audio>
  <p><a id="download" href="#" download="emotts.wav">Download the wav</a> <span id="result-info" class="hint"></span></p>
</div>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
let info = null;
let lastUrl = null;

function fill(select, values, selected) {
  select.replaceChildren(...values.map((v) => {
    const o = document.createElement("option");
    o.value = v; o.textContent = v; o.selected = v === selected; return o;
  }));
}

function bindOutput(id) {
  const input = $(id), out = $(id + "-value");
  const show = () => { out.textContent = Number(input.value).toFixed(2); };
  input.addEventListener("input", show); show();
}

function setStatus(text, isError) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

function clearMarks() {
  document.querySelectorAll(".bad").forEach((el) => { el.classList.remove("bad"); el.removeAttribute("aria-invalid"); });
}

function controlOf(field) {
  const ids = { mix: "mix-second", body: "text" };
  return $(ids[field] || field);
}

async function loadInfo() {
  const r = await fetch("/info");
  info = await r.json();
  $("model").textContent = `model ${info.model}` + (info.exp ? ` (${info.exp})` : "") +
    `, ${info.emotions.length} emotions, ${info.speakers.length} speaker(s), ${info.sample_rate} Hz`;
  fill($("speaker"), info.speakers, info.speakers[0]);
  const emotions = info.emotion_auto ? [...info.emotions, "auto"] : info.emotions;
  const firstEmotion = info.emotions.find((e) => e !== info.neutral) || info.emotions[0];
  fill($("emotion"), emotions, firstEmotion);
  fill($("mix-second"), info.emotions, info.emotions.find((e) => e !== firstEmotion));
  fill($("vocoder"), info.vocoders, info.vocoder);
  $("vocoder-box").hidden = info.vocoders.length < 2;
  $("reference-box").hidden = !info.reference_wav;
  $("emotion-wav-box").hidden = info.reference_wav || !info.emotion_from_wav;
  $("prosody-box").hidden = info.prosody.length === 0;
  for (const k of ["speed", "pitch_scale", "energy_scale"]) {
    for (const el of [$(k), $(`${k}-value`), document.querySelector(`label[for=${k}]`)]) {
      el.hidden = !info.prosody.includes(k);
    }
  }
  $("text").maxLength = info.limits.max_text_chars;
  $("synthesize").disabled = false;
  setStatus("ready", false);
}

function formData() {
  const fd = new FormData();
  fd.append("text", $("text").value);
  fd.append("speaker", $("speaker").value);
  const fromWav = !$("emotion-wav-box").hidden && $("emotion_from_wav").files.length > 0;
  if (fromWav) {
    fd.append("emotion_from_wav", $("emotion_from_wav").files[0]);
  } else if ($("mix-on").checked) {
    const w = Number($("mix-weight").value);
    fd.append("mix", `${$("emotion").value}=${(1 - w).toFixed(2)},${$("mix-second").value}=${w.toFixed(2)}`);
  } else {
    fd.append("emotion", $("emotion").value);
  }
  fd.append("intensity", $("intensity").value);
  if (!$("reference-box").hidden && $("reference_wav").files.length > 0) {
    fd.append("reference_wav", $("reference_wav").files[0]);
  }
  for (const k of info.prosody) fd.append(k, $(k).value);
  if (info.vocoders.length > 1) fd.append("vocoder", $("vocoder").value);
  if ($("seed").value !== "") fd.append("seed", $("seed").value);
  return fd;
}

async function synthesize(event) {
  event.preventDefault();
  clearMarks();
  const button = $("synthesize");
  button.disabled = true;
  setStatus("synthesizing\u2026", false);
  const t0 = performance.now();
  try {
    const r = await fetch("/synthesize", { method: "POST", body: formData() });
    if (!r.ok) {
      let err = { error: `HTTP ${r.status}`, field: null };
      try { err = await r.json(); } catch (e) { /* not JSON */ }
      const el = err.field ? controlOf(err.field) : null;
      if (el) { el.classList.add("bad"); el.setAttribute("aria-invalid", "true"); el.focus(); }
      setStatus((err.field ? `${err.field}: ` : "") + err.error, true);
      return;
    }
    const blob = await r.blob();
    if (lastUrl) URL.revokeObjectURL(lastUrl);
    lastUrl = URL.createObjectURL(blob);
    const player = $("player");
    player.src = lastUrl;
    const label = ($("mix-on").checked ? "mix" : $("emotion").value) + "_" + Number($("intensity").value).toFixed(2);
    $("download").href = lastUrl;
    $("download").download = `emotts_${label}.wav`;
    $("result").hidden = false;
    const secs = r.headers.get("X-Audio-Seconds"), took = r.headers.get("X-Synthesis-Seconds");
    $("result-info").textContent = `${secs} s of audio (${r.headers.get("X-Emotion")}), synthesized in ${took} s`;
    setStatus(`done in ${((performance.now() - t0) / 1000).toFixed(2)} s`, false);
    player.play().catch(() => { /* autoplay may be blocked: the player is there */ });
  } catch (e) {
    setStatus(`request failed: ${e}`, true);
  } finally {
    button.disabled = false;
  }
}

$("mix-on").addEventListener("change", () => { $("mix-controls").hidden = !$("mix-on").checked; });
$("form").addEventListener("submit", synthesize);
$("text").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) $("form").requestSubmit(); });
for (const id of ["intensity", "mix-weight", "speed", "pitch_scale", "energy_scale"]) bindOutput(id);
loadInfo().catch((e) => setStatus(`cannot read /info: ${e}`, true));
</script>
</body>
</html>
"""
