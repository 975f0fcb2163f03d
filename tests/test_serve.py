"""The demo server (emotts serve) over real HTTP on 127.0.0.1, and its page in headless Chromium.

Tiny trained models (tests/synth_fixtures.py: gst, tacotron2, fastspeech2 on the tiny corpus,
a few steps) are served by ``python -m steps.serve --port 0`` in their own process groups,
killed on teardown. Every good request is checked as a wav; every bad one as a 4xx JSON error
naming its field, after which the server must still answer.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
import urllib.error
import urllib.request
import uuid

import numpy as np
import pytest
import soundfile as sf

from browser.cdp import Chromium, chromium_path
from browser.procs import Server, repo_root
from synth_fixtures import EMOTIONS, SPEAKERS, build_experiments

GOOD_TEXT = "Bad cab, face a bead!"
UPLOAD_LIMIT_MB = 0.05  # the servers below take uploads up to 52428 bytes


@pytest.fixture(scope="module")
def exps(tmp_path_factory):
    return build_experiments(tmp_path_factory.mktemp("serve"), backends=["gst", "tacotron2", "fastspeech2"])


def _server(exp_dir, *extra):
    return Server(exp_dir, "--no-warmup", "--max-text-chars", "120", "--max-upload-mb", str(UPLOAD_LIMIT_MB),
                  *extra, cwd=repo_root())


@pytest.fixture(scope="module")
def gst(exps):
    srv = _server(exps["exp"]["gst"], "--max-active", "1", "--max-waiting", "2")
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def taco(exps):
    srv = _server(exps["exp"]["tacotron2"])
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def fs2(exps):
    srv = _server(exps["exp"]["fastspeech2"])
    yield srv
    srv.close()


# -- HTTP helpers -----------------------------------------------------------------------------------
def call(url, path, body=None, content_type="application/json", timeout=120):
    """(status, headers, bytes) of a GET (body None) or POST."""
    data = None
    headers = {}
    if body is not None:
        data = json.dumps(body).encode() if content_type == "application/json" and not isinstance(body, bytes) else body
        headers["Content-Type"] = content_type
    req = urllib.request.Request(url + path, data=data, headers=headers, method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data) in files.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                  f"Content-Type: audio/wav\r\n\r\n".encode())
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def wav_file(seconds=0.5, rate=8000, freq=220.0) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    buf = io.BytesIO()
    sf.write(buf, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def assert_wav(status, headers, data, rate=8000):
    assert status == 200, data[:500]
    assert headers["Content-Type"] == "audio/wav"
    wav, fs = sf.read(io.BytesIO(data), dtype="float32")
    assert fs == rate and wav.ndim == 1 and len(wav) > 0 and np.isfinite(wav).all()
    assert float(headers["X-Audio-Seconds"]) == pytest.approx(len(wav) / fs, abs=1e-3)
    return wav


def assert_error(response, status, field):
    code, headers, data = response
    assert code == status, data[:500]
    assert headers["Content-Type"] == "application/json"
    body = json.loads(data)
    assert body["field"] == field, body
    assert body["error"]
    return body["error"]


def still_serving(srv):
    assert srv.alive(), srv.log
    code, _, data = call(srv.url, "/info")
    assert code == 200 and json.loads(data)["emotions"] == EMOTIONS


# -- info, good requests -----------------------------------------------------------------------------
def test_info_names_emotions_speakers_controls_and_hides_paths(gst, exps):
    code, headers, data = call(gst.url, "/info")
    info = json.loads(data)
    assert code == 200 and headers["Content-Type"] == "application/json"
    assert info["model"] == "gst" and info["emotions"] == EMOTIONS and info["speakers"] == SPEAKERS
    assert info["reference_wav"] is True and "reference" in info["controls"] and info["prosody"] == ["speed"]
    assert info["vocoders"] == ["griffin_lim", "hifigan"] and info["emotion_auto"] is True
    assert info["limits"]["max_text_chars"] == 120 and info["limits"]["max_upload_bytes"] == int(UPLOAD_LIMIT_MB * 2 ** 20)
    assert str(exps["root"]) not in data.decode(), "no server path in /info"
    assert gst.url.startswith("http://127.0.0.1:")  # the default bind address


def test_page_is_served(gst):
    code, headers, data = call(gst.url, "/")
    assert code == 200 and headers["Content-Type"].startswith("text/html")
    page = data.decode()
    for element in ('id="text"', 'id="speaker"', 'id="emotion"', 'id="intensity"', 'id="mix-on"',
                    'id="reference_wav"', 'id="player"', 'id="download"'):
        assert element in page


@pytest.mark.parametrize("emotion", EMOTIONS)
def test_every_emotion_json(gst, emotion):
    resp = call(gst.url, "/synthesize", {"text": GOOD_TEXT, "emotion": emotion, "speaker": "spkB", "seed": 3})
    assert_wav(*resp)
    assert resp[1]["X-Emotion"] == emotion


def test_controls_json_and_form(gst):
    a = assert_wav(*call(gst.url, "/synthesize", {"text": GOOD_TEXT, "emotion": "happy", "intensity": 0.5}))
    b = assert_wav(*call(gst.url, "/synthesize", {"text": GOOD_TEXT, "emotion": "happy", "intensity": 0.5}))
    np.testing.assert_array_equal(a, b)  # deterministic for the same request
    zero = assert_wav(*call(gst.url, "/synthesize", {"text": GOOD_TEXT, "emotion": "sad", "intensity": 0}))
    neutral = assert_wav(*call(gst.url, "/synthesize", {"text": GOOD_TEXT, "emotion": "neutral"}))
    np.testing.assert_array_equal(zero, neutral)  # intensity 0 is the neutral voice
    resp = call(gst.url, "/synthesize", {"text": GOOD_TEXT, "mix": {"happy": 0.7, "sad": 0.3}})
    assert_wav(*resp)
    assert resp[1]["X-Emotion"] == "happy"
    assert_wav(*call(gst.url, "/synthesize", {"text": "<sad>Bad cab.</sad> <happy 0.8>Face a bead!</happy>"}))
    assert_wav(*call(gst.url, "/synthesize", {"text": GOOD_TEXT, "emotion": "auto"}))
    assert_wav(*call(gst.url, "/synthesize", {"text": GOOD_TEXT, "vocoder": "hifigan"}))
    body, ctype = multipart({"text": GOOD_TEXT, "emotion": "sad", "intensity": "0.5", "mix": "", "seed": "4"}, {})
    assert_wav(*call(gst.url, "/synthesize", body, ctype))
    body, ctype = multipart({"text": GOOD_TEXT}, {"reference_wav": ("ref.wav", wav_file(rate=16000))})
    assert_wav(*call(gst.url, "/synthesize", body, ctype))  # resampled from 16 kHz
    b64 = base64.b64encode(wav_file()).decode()
    assert_wav(*call(gst.url, "/synthesize", {"text": GOOD_TEXT, "reference_wav": b64, "intensity": 0.5}))


# -- bad requests: 4xx JSON naming the field, and the server goes on -----------------------------------
BAD_JSON = [
    ({"text": GOOD_TEXT, "emotion": "joy"}, 400, "emotion", "unknown emotion 'joy'"),
    ({"text": GOOD_TEXT, "speaker": "spkZ"}, 400, "speaker", "unknown speaker 'spkZ'"),
    ({"text": GOOD_TEXT, "intensity": 1.5}, 400, "intensity", "[0, 1]"),
    ({"text": GOOD_TEXT, "intensity": -0.1}, 400, "intensity", "[0, 1]"),
    ({"text": GOOD_TEXT, "intensity": "high"}, 400, "intensity", "number"),
    ({"text": GOOD_TEXT, "intensity": True}, 400, "intensity", "number"),
    ({"text": GOOD_TEXT, "mix": {"happy": 0.7, "sad": 0.2}}, 400, "mix", "sum to 1"),
    ({"text": GOOD_TEXT, "mix": "happy=0.5,joy=0.5"}, 400, "mix", "unknown emotion 'joy'"),
    ({"text": GOOD_TEXT, "mix": {"happy": "a lot", "sad": 0.5}}, 400, "mix", "number"),
    ({"text": GOOD_TEXT, "mix": {"happy": 0.5, "sad": 0.5}, "emotion": "sad"}, 400, "mix", "exclude"),
    ({"text": ""}, 400, "text", "empty"),
    ({"text": "   \n "}, 400, "text", "empty"),
    ({"text": "bad " * 31}, 400, "text", "at most 120"),
    ({"text": 42}, 400, "text", "string"),
    ({"emotion": "happy"}, 400, "text", "missing"),
    ({"text": "Bad cab, xylophone!"}, 400, "text", "outside the model's token list"),
    ({"text": GOOD_TEXT, "volume": 3}, 400, "volume", "unknown field"),
    ({"text": GOOD_TEXT, "vocoder": "wavenet"}, 400, "vocoder", "unknown vocoder"),
    ({"text": GOOD_TEXT, "pitch_scale": 1.3}, 400, "pitch_scale", "no pitch_scale control (it has: speed"),
    ({"text": GOOD_TEXT, "seed": "x"}, 400, "seed", "integer"),
    ({"text": GOOD_TEXT, "style": "loud"}, 400, "style", "unknown style"),
    ({"text": GOOD_TEXT, "gst_weights": "1,2,x"}, 400, "gst_weights", "numbers"),
    ({"text": GOOD_TEXT, "reference_wav": "not base64!"}, 400, "reference_wav", "base64"),
    ({"text": GOOD_TEXT, "reference_wav": base64.b64encode(b"RIFF....WAVEjunk" * 4).decode()}, 400,
     "reference_wav", "WAV"),
    ({"text": GOOD_TEXT, "reference_wav": base64.b64encode(b"hello, not audio").decode()}, 400, "reference_wav",
     "not a WAV file"),
]


@pytest.mark.parametrize("body,status,field,message", BAD_JSON, ids=[f"{b[2]}-{i}" for i, b in enumerate(BAD_JSON)])
def test_bad_json_request(gst, body, status, field, message):
    error = assert_error(call(gst.url, "/synthesize", body), status, field)
    assert message in error
    still_serving(gst)


def test_bad_bodies_and_methods(gst):
    assert_error(call(gst.url, "/synthesize", b"{not json", "application/json"), 400, "body")
    assert_error(call(gst.url, "/synthesize", b"[1, 2]", "application/json"), 400, "body")
    assert_error(call(gst.url, "/synthesize", b"text=hello", "text/plain"), 415, "body")
    assert_error(call(gst.url, "/nothing-here"), 404, None)
    assert_error(call(gst.url, "/info", b"{}", "application/json"), 405, None)
    still_serving(gst)


def test_bad_uploads(gst, taco):
    limit = int(UPLOAD_LIMIT_MB * 2 ** 20)
    big = wav_file(seconds=4.0)  # 64 kB of PCM at 8 kHz
    assert len(big) > limit
    body, ctype = multipart({"text": GOOD_TEXT}, {"reference_wav": ("big.wav", big)})
    assert "over the limit" in assert_error(call(gst.url, "/synthesize", body, ctype), 413, "reference_wav")
    body, ctype = multipart({"text": GOOD_TEXT}, {"reference_wav": ("notes.wav", b"just some text, really" * 10)})
    assert "not a WAV file" in assert_error(call(gst.url, "/synthesize", body, ctype), 400, "reference_wav")
    flac = io.BytesIO()
    sf.write(flac, np.zeros(800, dtype=np.float32), 8000, format="FLAC")
    body, ctype = multipart({"text": GOOD_TEXT}, {"reference_wav": ("a.flac", flac.getvalue())})
    assert_error(call(gst.url, "/synthesize", body, ctype), 400, "reference_wav")
    body, ctype = multipart({"text": GOOD_TEXT}, {"other": ("a.wav", wav_file())})
    assert "unknown field" in assert_error(call(gst.url, "/synthesize", body, ctype), 400, "other")
    # far over every limit: refused before it is read, naming the body
    huge = b"0" * (4 * limit + 300 * 1024)
    body, ctype = multipart({"text": GOOD_TEXT}, {"reference_wav": ("huge.wav", huge)})
    assert_error(call(gst.url, "/synthesize", body, ctype), 413, "body")
    # a label model takes no reference recording
    body, ctype = multipart({"text": GOOD_TEXT}, {"reference_wav": ("r.wav", wav_file())})
    assert "takes no" in assert_error(call(taco.url, "/synthesize", body, ctype), 400, "reference_wav")
    still_serving(gst)
    still_serving(taco)


def test_a_client_path_is_never_opened(gst, tmp_path):
    """A string in an upload field is base64 of a wav, never a file name."""
    ref = tmp_path / "ref.wav"
    ref.write_bytes(wav_file())
    for value in (str(ref), "/etc/passwd", "../../../../etc/hostname"):
        error = assert_error(call(gst.url, "/synthesize", {"text": GOOD_TEXT, "reference_wav": value}), 400,
                             "reference_wav")
        assert "base64" in error or "WAV" in error
    assert_error(call(gst.url, "/synthesize", {"text": GOOD_TEXT, "vocoder": str(ref)}), 400, "vocoder")


def test_label_model_controls(taco):
    info = json.loads(call(taco.url, "/info")[2])
    assert info["model"] == "tacotron2" and info["reference_wav"] is False and info["emotion_from_wav"] is True
    for emotion in EMOTIONS:
        assert_wav(*call(taco.url, "/synthesize", {"text": GOOD_TEXT, "emotion": emotion}))
    body, ctype = multipart({"text": GOOD_TEXT}, {"emotion_from_wav": ("e.wav", wav_file())})
    assert_wav(*call(taco.url, "/synthesize", body, ctype))
    assert_error(call(taco.url, "/synthesize", {"text": GOOD_TEXT, "gst_weights": [0, 1, 0, 0]}), 400, "gst_weights")
    still_serving(taco)


def test_fastspeech2_prosody(fs2):
    info = json.loads(call(fs2.url, "/info")[2])
    assert info["prosody"] == ["speed", "pitch_scale", "energy_scale"]
    for emotion in EMOTIONS:
        assert_wav(*call(fs2.url, "/synthesize", {"text": GOOD_TEXT, "emotion": emotion}))
    slow = assert_wav(*call(fs2.url, "/synthesize", {"text": GOOD_TEXT, "speed": 0.5, "pitch_scale": 1.2}))
    fast = assert_wav(*call(fs2.url, "/synthesize", {"text": GOOD_TEXT, "speed": 2.0}))
    assert len(slow) > len(fast)
    assert "[0.25, 4]" in assert_error(call(fs2.url, "/synthesize", {"text": GOOD_TEXT, "speed": 9}), 400, "speed")
    still_serving(fs2)


# -- concurrency ----------------------------------------------------------------------------------------
def _fire(url, n, body):
    barrier = threading.Barrier(n)
    out = [None] * n

    def one(i):
        barrier.wait()
        out[i] = call(url, "/synthesize", body, timeout=300)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=400)
    return out


def test_concurrent_requests_wait_or_get_503(gst):
    long_text = "Bad cab, face a bead! Deaf head, fade a badge. Dead beach, a cafe egg? " * 1
    # within the bound (1 running + 2 waiting): every request is served, identically
    results = _fire(gst.url, 3, {"text": long_text, "emotion": "sad"})
    wavs = [assert_wav(*r) for r in results]
    for w in wavs[1:]:
        np.testing.assert_array_equal(w, wavs[0])
    # beyond it: the extra requests get 503 (JSON, Retry-After), the rest are served
    results = _fire(gst.url, 10, {"text": long_text, "emotion": "happy"})
    codes = sorted(r[0] for r in results)
    assert set(codes) <= {200, 503}, codes
    assert codes.count(200) >= 1
    for code, headers, data in results:
        if code == 503:
            assert headers["Retry-After"] and "busy" in json.loads(data)["error"]
    still_serving(gst)


def test_slots_bound_running_and_waiting():
    from pytorch_backend.synth.server import Busy, Slots

    slots = Slots(active=1, waiting=1, timeout=5.0)
    entered = threading.Event()
    release = threading.Event()
    waited = []

    def holder():
        with slots.take():
            entered.set()
            release.wait(10)

    def waiter():
        with slots.take():
            waited.append(True)

    t1 = threading.Thread(target=holder)
    t1.start()
    assert entered.wait(5)
    t2 = threading.Thread(target=waiter)
    t2.start()
    for _ in range(500):
        if slots.pending == 2:
            break
        time.sleep(0.01)
    assert slots.pending == 2
    with pytest.raises(Busy):  # one running + one waiting: a third is refused at once
        with slots.take():
            pass
    release.set()
    t1.join(5)
    t2.join(5)
    assert waited == [True] and slots.pending == 0
    short = Slots(active=1, waiting=1, timeout=0.05)
    errors = []

    def late():
        try:
            with short.take():
                pass
        except Busy as exc:
            errors.append(str(exc))

    with short.take():
        t = threading.Thread(target=late)
        t.start()
        t.join(5)
    assert errors and "waited" in errors[0] and short.pending == 0


def test_server_refuses_a_bad_model_path(tmp_path):
    with pytest.raises(RuntimeError, match="no such model"):
        Server(tmp_path / "nothing", "--no-warmup", cwd=repo_root(), timeout=120)


# -- the page in a real browser -------------------------------------------------------------------------
needs_chromium = pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (Debian package "
                                    "`chromium`; .ci/run installs it)")

AUDIO_DURATION = """new Promise((resolve) => {
  const a = document.querySelector('#player');
  if (a.readyState >= 1 && a.duration > 0) resolve(a.duration);
  else a.addEventListener('loadedmetadata', () => resolve(a.duration), {once: true});
  setTimeout(() => resolve(-1), 20000);
})"""
BLOB = """fetch(document.querySelector('#player').src).then(r => r.arrayBuffer()).then(b => {
  const h = new Uint8Array(b.slice(0, 12));
  return [b.byteLength, String.fromCharCode(...h.slice(0, 4)), String.fromCharCode(...h.slice(8, 12))];
})"""


def _synthesize_on_page(page, timeout=180):
    before = page.evaluate("document.querySelector('#player').src")
    page.evaluate("document.querySelector('#synthesize').click()")
    page.wait_for("document.querySelector('#synthesize').disabled === false && "
                  f"(document.querySelector('#player').src !== {json.dumps(before)} || "
                  "document.querySelector('#status').className === 'error')", timeout=timeout, what="synthesis")


@needs_chromium
def test_page_in_chromium(gst, tmp_path):
    with Chromium(tmp_path) as browser:
        page = browser.new_page()
        page.navigate(gst.url + "/")
        page.wait_for("document.querySelector('#synthesize').disabled === false", what="/info loaded")
        # what the model offers is on the page
        assert page.evaluate("[...document.querySelectorAll('#emotion option')].map(o => o.value)") == [*EMOTIONS, "auto"]
        assert page.evaluate("[...document.querySelectorAll('#speaker option')].map(o => o.value)") == SPEAKERS
        assert page.evaluate("document.querySelector('#reference-box').hidden") is False
        # gst learns durations here: speed is offered, pitch and energy are not
        assert page.evaluate("document.querySelector('#prosody-box').hidden") is False
        assert page.evaluate("['speed', 'pitch_scale', 'energy_scale'].map(k => document.getElementById(k).hidden)") \
            == [False, True, True]
        # fill the form as a person would, then synthesize
        page.evaluate(f"document.querySelector('#text').value = {json.dumps(GOOD_TEXT)}")
        page.evaluate("document.querySelector('#emotion').value = 'sad'")
        page.evaluate("const s = document.querySelector('#intensity'); s.value = '0.75'; "
                      "s.dispatchEvent(new Event('input'))")
        assert page.evaluate("document.querySelector('#intensity-value').textContent") == "0.75"
        _synthesize_on_page(page)
        assert page.evaluate("document.querySelector('#status').className") == "", \
            page.evaluate("document.querySelector('#status').textContent")
        assert page.evaluate("document.querySelector('#result').hidden") is False
        assert page.evaluate("document.querySelector('#player').src").startswith("blob:")
        assert page.evaluate(AUDIO_DURATION) > 0
        size, riff, wave = page.evaluate(BLOB)
        assert size > 44 and (riff, wave) == ("RIFF", "WAVE")
        assert page.evaluate("document.querySelector('#download').download") == "emotts_sad_0.75.wav"
        assert page.evaluate("document.querySelector('#download').href") == page.evaluate(
            "document.querySelector('#player').src")
        assert "(sad)" in page.evaluate("document.querySelector('#result-info').textContent")
        page.screenshot(tmp_path / "page.png")
        # a mixture through the form
        page.evaluate("document.querySelector('#mix-on').click()")
        assert page.evaluate("document.querySelector('#mix-controls').hidden") is False
        page.evaluate("document.querySelector('#emotion').value = 'happy'; "
                      "document.querySelector('#mix-second').value = 'sad'")
        _synthesize_on_page(page)
        assert page.evaluate("document.querySelector('#status').className") == ""
        assert page.evaluate(AUDIO_DURATION) > 0
        assert page.evaluate("document.querySelector('#download').download") == "emotts_mix_0.75.wav"
        # an error is shown with its field marked, and the page goes on working
        page.evaluate("document.querySelector('#mix-on').click()")
        page.evaluate("document.querySelector('#text').value = 'Bad xylophone!'")
        _synthesize_on_page(page)
        assert page.evaluate("document.querySelector('#status').className") == "error"
        assert page.evaluate("document.querySelector('#status').textContent").startswith("text: symbols outside")
        assert page.evaluate("document.querySelector('#text').classList.contains('bad')") is True
        page.evaluate(f"document.querySelector('#text').value = {json.dumps(GOOD_TEXT)}")
        _synthesize_on_page(page)
        assert page.evaluate("document.querySelector('#status').className") == ""
        assert page.evaluate("document.querySelector('#text').classList.contains('bad')") is False
        assert page.console_errors() == []
    still_serving(gst)


@needs_chromium
def test_page_shows_prosody_for_fastspeech2(fs2, tmp_path):
    with Chromium(tmp_path) as browser:
        page = browser.new_page()
        page.navigate(fs2.url + "/")
        page.wait_for("document.querySelector('#synthesize').disabled === false", what="/info loaded")
        assert page.evaluate("document.querySelector('#prosody-box').hidden") is False
        assert page.evaluate("document.querySelector('#reference-box').hidden") is True
        page.evaluate(f"document.querySelector('#text').value = {json.dumps(GOOD_TEXT)}")
        page.evaluate("document.querySelector('#speed').value = '0.5'")
        _synthesize_on_page(page)
        assert page.evaluate("document.querySelector('#status').className") == ""
        assert page.evaluate(AUDIO_DURATION) > 0
