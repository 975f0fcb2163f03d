"""A local demo server of a trained model: one page and a JSON API over the one synthesis function.

Routes::

    GET  /            the page: text, speaker, emotion, intensity, mixture, reference upload
                      (models that take one), prosody sliders (fastspeech2), play and download
    GET  /info        JSON: model, emotions, speakers, controls, vocoders, limits
    POST /synthesize  JSON or multipart/form-data fields -> audio/wav (16-bit PCM)

``POST /synthesize`` fields: ``text`` (required), ``speaker``, ``emotion`` (a label or ``auto``),
``intensity`` (0..1), ``mix`` (``{"happy": 0.7, "sad": 0.3}`` or ``happy=0.7,sad=0.3``),
``gst_weights``, ``style``, ``speed``, ``pitch_scale``, ``energy_scale``, ``seed``, ``vocoder``,
and the recordings ``reference_wav`` (latent models) / ``emotion_from_wav`` (label models with
an emotion classifier): a multipart file, or base64 of the wav in a JSON string.

Every bad request is a 4xx JSON answer ``{"error": message, "field": name}`` and the server
goes on serving: unknown fields, wrong types, empty or over-long text, symbols outside the
model's token list, unknown speaker / emotion / vocoder, intensity outside 0..1, a mixture not
summing to 1, a control the model does not have, an upload over the size limit or not a WAV
file. No client value becomes a file path: uploads are decoded in memory and handed to the
synthesizer as waveforms. Synthesis runs in at most ``max_active`` requests at a time with at
most ``max_waiting`` queued behind them; a request beyond that, or one that waited longer than
``queue_timeout`` seconds, gets 503 with ``Retry-After``. Bodies are capped (``max_upload_bytes``
per file, a bit more for the whole body), waitress bounds connections and threads, so memory
stays bounded whatever clients send.

Server library: Flask (routing, JSON, multipart parsing with werkzeug's size limits) on
waitress (the Pylons project's pure-Python WSGI server: a bounded thread pool, a connection
limit and a request-body cap of its own; no C extension, same behaviour on every platform).
Both are well kept and small; an async stack (Starlette + uvicorn) would gain nothing here,
since synthesis is blocking CPU work that must be bounded anyway.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import io
import ipaddress
import json
import logging
import math
import threading
import time
from dataclasses import dataclass

import numpy as np

from pytorch_backend.synth.errors import RequestError
from pytorch_backend.synth.server_page import PAGE_HTML
from pytorch_backend.synth.synthesizer import Request

log = logging.getLogger("emotts.serve")

UPLOAD_FIELDS = ("reference_wav", "emotion_from_wav")
STRING_FIELDS = ("text", "speaker", "emotion", "style", "vocoder")
NUMBER_FIELDS = ("intensity", "speed", "pitch_scale", "energy_scale")
FIELDS = (*STRING_FIELDS, *NUMBER_FIELDS, "mix", "gst_weights", "seed", *UPLOAD_FIELDS)
UPLOAD_RATES = (8000, 96000)  # accepted sample rates of an uploaded recording


@dataclass
class Limits:
    """What one request may ask for, and how many may run or wait."""

    max_text_chars: int = 600
    max_upload_bytes: int = 2 * 1024 * 1024
    max_upload_seconds: float = 30.0
    max_active: int = 1  # synthesis requests running at once
    max_waiting: int = 4  # queued behind them; more get 503
    queue_timeout: float = 60.0  # seconds a queued request waits before 503

    def record(self) -> dict:
        return {"max_text_chars": self.max_text_chars, "max_upload_bytes": self.max_upload_bytes,
                "max_upload_seconds": self.max_upload_seconds, "max_active": self.max_active,
                "max_waiting": self.max_waiting}


class ApiError(Exception):
    """A bad request: the HTTP status, the field at fault and why."""

    def __init__(self, status: int, field: str | None, message: str):
        super().__init__(message)
        self.status = status
        self.field = field
        self.message = message


class Busy(Exception):
    pass


class Slots:
    """At most ``active`` holders at once and ``waiting`` more queued; anyone else is Busy."""

    def __init__(self, active: int, waiting: int, timeout: float):
        if active < 1 or waiting < 0:
            raise ValueError("need at least one active slot and a non-negative queue")
        self._sem = threading.Semaphore(active)
        self._lock = threading.Lock()
        self._pending = 0
        self.limit = active + waiting
        self.timeout = timeout

    @property
    def pending(self) -> int:
        return self._pending

    @contextlib.contextmanager
    def take(self):
        with self._lock:
            if self._pending >= self.limit:
                raise Busy(f"{self._pending} requests running or queued (at most {self.limit})")
            self._pending += 1
        try:
            if not self._sem.acquire(timeout=self.timeout):
                raise Busy(f"waited {self.timeout:g} s for a synthesis slot")
            try:
                yield
            finally:
                self._sem.release()
        finally:
            with self._lock:
                self._pending -= 1


def public_info(synth, limits: Limits) -> dict:
    """``GET /info``: what the page and API clients need (no server paths)."""
    info = dict(synth.info())
    info.pop("source", None)
    info["limits"] = limits.record()
    info["fields"] = list(FIELDS)
    return info


# -- request parsing -------------------------------------------------------------------------------
def _number(field: str, value, form: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or (isinstance(value, str) and not form):
        raise ApiError(400, field, f"must be a number, got {type(value).__name__}")
    try:
        out = float(value)
    except ValueError:
        raise ApiError(400, field, f"'{value}' is not a number") from None
    if not math.isfinite(out):
        raise ApiError(400, field, f"must be a finite number, got {value}")
    return out


def decode_wav(field: str, data: bytes, limits: Limits) -> tuple[np.ndarray, int]:
    """An uploaded recording -> (mono float32 waveform, sample rate); ApiError if it is too
    large, not a WAV file, empty, too long or at an unusable rate. Decoded in memory only."""
    import soundfile as sf

    if len(data) > limits.max_upload_bytes:
        raise ApiError(413, field, f"upload of {len(data)} bytes is over the limit of {limits.max_upload_bytes} bytes")
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ApiError(400, field, "not a WAV file (expected a RIFF/WAVE header)")
    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            if f.format not in ("WAV", "WAVEX"):
                raise ApiError(400, field, f"not a WAV file (format {f.format})")
            rate, frames = int(f.samplerate), int(f.frames)
            if not UPLOAD_RATES[0] <= rate <= UPLOAD_RATES[1]:
                raise ApiError(400, field, f"sample rate {rate} Hz outside {UPLOAD_RATES[0]}..{UPLOAD_RATES[1]}")
            if frames / rate > limits.max_upload_seconds:
                raise ApiError(400, field, f"{frames / rate:.1f} s of audio, at most {limits.max_upload_seconds:g} s")
            wav = f.read(dtype="float32", always_2d=True)
    except ApiError:
        raise
    except Exception as exc:  # libsndfile: truncated, unsupported encoding, ...
        raise ApiError(400, field, f"not a readable WAV file: {exc}") from None
    wav = wav.mean(axis=1)
    if wav.size == 0:
        raise ApiError(400, field, "the recording is empty")
    if not np.isfinite(wav).all():
        raise ApiError(400, field, "the recording holds non-finite samples")
    return wav.astype(np.float32), rate


def parse_fields(values: dict, files: dict, limits: Limits, info: dict, form: bool) -> dict:
    """Checked keyword arguments of :class:`Request` (plus ``vocoder``) from request fields;
    ApiError naming the field otherwise. ``form``: values are strings from a form."""
    unknown = [k for k in list(values) + list(files) if k not in FIELDS]
    if unknown:
        raise ApiError(400, unknown[0], f"unknown field '{unknown[0]}' (known: {', '.join(FIELDS)})")
    out: dict = {}
    if "text" not in values:
        raise ApiError(400, "text", "missing: the text to say")
    for name in STRING_FIELDS:
        if name in values:
            value = values[name]
            if not isinstance(value, str):
                raise ApiError(400, name, f"must be a string, got {type(value).__name__}")
            if form and value == "" and name != "text":
                continue  # an empty form field is an absent one
            out[name] = value
    text = out["text"]
    if not text.strip():
        raise ApiError(400, "text", "empty text")
    if len(text) > limits.max_text_chars:
        raise ApiError(400, "text", f"{len(text)} characters, at most {limits.max_text_chars}")
    for name in NUMBER_FIELDS:
        if name in values and not (form and values[name] == ""):
            out[name] = _number(name, values[name], form)
    if "seed" in values and not (form and values["seed"] == ""):
        seed = values["seed"]
        try:
            if isinstance(seed, bool) or not isinstance(seed, (int, str)) or (isinstance(seed, str) and not form):
                raise ValueError
            out["seed"] = int(seed)
        except ValueError:
            raise ApiError(400, "seed", f"must be an integer, got {seed!r}") from None
        if not 0 <= out["seed"] < 2 ** 31:
            raise ApiError(400, "seed", f"must be in [0, 2^31), got {out['seed']}")
    if "mix" in values and not (form and values["mix"] == ""):
        mix = values["mix"]
        if isinstance(mix, str):
            if form and mix.lstrip().startswith("{"):
                try:
                    mix = json.loads(mix)
                except json.JSONDecodeError as exc:
                    raise ApiError(400, "mix", f"not JSON: {exc}") from None
        if isinstance(mix, dict):
            for label, weight in mix.items():
                if isinstance(weight, bool) or not isinstance(weight, (int, float)):
                    raise ApiError(400, "mix", f"weight of '{label}' must be a number, got {weight!r}")
        elif not isinstance(mix, str):
            raise ApiError(400, "mix", "an object {label: weight} or 'label=w,label=w'")
        out["mix"] = mix
    if "gst_weights" in values and not (form and values["gst_weights"] == ""):
        gst = values["gst_weights"]
        if isinstance(gst, list):
            if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in gst):
                raise ApiError(400, "gst_weights", "a list of numbers")
        elif not isinstance(gst, str):
            raise ApiError(400, "gst_weights", "a list of numbers or '0,0,1,...'")
        out["gst_weights"] = gst
    if out.get("vocoder") is not None and out["vocoder"] not in info["vocoders"]:
        raise ApiError(400, "vocoder", f"unknown vocoder '{out['vocoder']}' (available: {', '.join(info['vocoders'])})")
    for name in UPLOAD_FIELDS:
        data = files.get(name)
        if data is None and name in values:
            value = values[name]
            if form and value == "":
                continue
            if not isinstance(value, str):
                raise ApiError(400, name, "a wav file (multipart upload) or its base64 in a JSON string")
            if len(value) > (limits.max_upload_bytes * 4) // 3 + 8:
                raise ApiError(413, name, f"upload over the limit of {limits.max_upload_bytes} bytes")
            try:
                data = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise ApiError(400, name, "not valid base64") from None
        if data is None:
            continue
        allowed = info["reference_wav"] if name == "reference_wav" else info["emotion_from_wav"]
        if not allowed:
            what = ("a reference recording (gst, vae, emo_cvae do)" if name == "reference_wav"
                    else "an emotion classifier to read a recording with")
            raise ApiError(400, name, f"model '{info['model']}' takes no {what}")
        out[name] = decode_wav(name, data, limits)
    return out


# -- the app --------------------------------------------------------------------------------------
def wav_bytes(wav: np.ndarray, rate: int) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.clip(np.asarray(wav, dtype=np.float32), -1.0, 1.0), int(rate), format="WAV", subtype="PCM_16")
    return buf.getvalue()


def create_app(synth, limits: Limits | None = None):
    """The Flask app serving ``synth`` (a :class:`pytorch_backend.synth.Synthesizer`)."""
    from flask import Flask, Response, request
    from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

    limits = limits or Limits()
    info = public_info(synth, limits)
    slots = Slots(limits.max_active, limits.max_waiting, limits.queue_timeout)
    app = Flask("emotts.serve")
    # the whole body: every upload field at its limit plus the text fields
    app.config["MAX_CONTENT_LENGTH"] = len(UPLOAD_FIELDS) * ((limits.max_upload_bytes * 4) // 3) + 256 * 1024
    app.config["MAX_FORM_MEMORY_SIZE"] = 64 * 1024 + limits.max_text_chars * 4
    app.config["MAX_FORM_PARTS"] = 64
    app.config["JSON_SORT_KEYS"] = False
    app.extensions["emotts"] = {"synth": synth, "limits": limits, "slots": slots}

    def error(status: int, field, message: str, headers=None):
        body = json.dumps({"error": message, "field": field})
        return Response(body, status=status, mimetype="application/json", headers=headers or {})

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error(exc.status, exc.field, exc.message)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc):
        return error(413, "body", f"request body over {app.config['MAX_CONTENT_LENGTH']} bytes (uploads: at "
                     f"most {limits.max_upload_bytes} bytes each)")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return error(exc.code or 500, None, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _internal(exc: Exception):
        log.exception("internal error on %s %s", request.method, request.path)
        return error(500, None, f"internal error: {type(exc).__name__}: {exc}")

    @app.after_request
    def _headers(resp):
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Cache-Control"] = "no-store"
        return resp

    @app.get("/")
    def page():
        resp = Response(PAGE_HTML, mimetype="text/html")
        resp.headers["Content-Security-Policy"] = ("default-src 'self'; connect-src 'self' blob:; script-src 'self' 'unsafe-inline'; "
                                                   "style-src 'unsafe-inline'; media-src blob: 'self'; img-src data:")
        return resp

    @app.get("/info")
    def get_info():
        return Response(json.dumps(info), mimetype="application/json")

    @app.post("/synthesize")
    def synthesize():
        kind = request.mimetype
        if kind == "application/json":
            try:
                values = json.loads(request.get_data(cache=False) or b"null")
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise ApiError(400, "body", f"not JSON: {exc}") from None
            if not isinstance(values, dict):
                raise ApiError(400, "body", "a JSON object of fields")
            fields = parse_fields(values, {}, limits, info, form=False)
        elif kind in ("multipart/form-data", "application/x-www-form-urlencoded"):
            values = {k: v for k, v in request.form.items()}
            files = {}
            for name, storage in request.files.items():
                if name not in FIELDS:
                    raise ApiError(400, name, f"unknown field '{name}' (known: {', '.join(FIELDS)})")
                if name not in UPLOAD_FIELDS:
                    raise ApiError(400, name, "not a file field")
                data = storage.stream.read(limits.max_upload_bytes + 1)
                if len(data) > limits.max_upload_bytes:
                    raise ApiError(413, name, f"upload over the limit of {limits.max_upload_bytes} bytes")
                if data:
                    files[name] = data
            fields = parse_fields(values, files, limits, info, form=True)
        else:
            raise ApiError(415, "body", f"send application/json or multipart/form-data, not '{kind or 'nothing'}'")
        vocoder = fields.pop("vocoder", None)
        req = Request(**fields)
        t0 = time.perf_counter()
        try:
            with slots.take():
                t1 = time.perf_counter()
                result = synth.synthesize([req], vocoder=vocoder)[0]
        except Busy as exc:
            return error(503, None, f"busy: {exc}; retry later", headers={"Retry-After": "2"})
        except RequestError as exc:
            raise ApiError(400, exc.field, exc.message) from None
        t2 = time.perf_counter()
        body = wav_bytes(result.wav, result.sample_rate)
        emotions = sorted({s["intended"] for s in result.sentences})
        log.info("synthesized %.2f s of audio in %.2f s (waited %.2f s): %d chars, emotion %s",
                 len(result.wav) / result.sample_rate, t2 - t1, t1 - t0, len(req.text), ",".join(emotions))
        resp = Response(body, mimetype="audio/wav")
        resp.headers["Content-Disposition"] = 'inline; filename="emotts.wav"'
        resp.headers["X-Audio-Seconds"] = f"{len(result.wav) / result.sample_rate:.3f}"
        resp.headers["X-Synthesis-Seconds"] = f"{t2 - t1:.3f}"
        resp.headers["X-Queue-Seconds"] = f"{t1 - t0:.3f}"
        resp.headers["X-Emotion"] = ",".join(emotions)
        return resp

    return app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_server(app, host: str = "127.0.0.1", port: int = 8000, limits: Limits | None = None):
    """A waitress server for ``app`` (not started); ``port`` 0 picks a free one
    (``server.effective_port``)."""
    from waitress import create_server

    limits = limits or Limits()
    return create_server(
        app, host=host, port=int(port),
        # synthesis slots + queue + 2 for the page and /info while synthesis runs
        threads=limits.max_active + limits.max_waiting + 2,
        connection_limit=4 * (limits.max_active + limits.max_waiting) + 16,
        # waitress's own cap (answers 413 itself): above Flask's, which answers in JSON
        max_request_body_size=2 * app.config["MAX_CONTENT_LENGTH"],
        channel_timeout=60, ident="emotts", clear_untrusted_proxy_headers=True,
    )


def serve(model: str, host: str = "127.0.0.1", port: int = 8000, device: str = "cpu", vocoder: str | None = None,
          limits: Limits | None = None, warmup: bool = True, announce=print) -> None:
    """Load ``model`` (an exp dir or a pack) and serve it until interrupted."""
    from pytorch_backend.synth.synthesizer import Synthesizer

    limits = limits or Limits()
    if not is_loopback(host):
        log.warning("binding %s: the server is reachable from other machines; it has no authentication", host)
    t0 = time.perf_counter()
    synth = Synthesizer.load(model, device=device, vocoder=vocoder)
    log.info("loaded %s (%s) in %.1f s", model, synth.model_name, time.perf_counter() - t0)
    if warmup:  # the first call builds the vocoder and warms the kernels
        t0 = time.perf_counter()
        warm_up(synth)
        log.info("warm-up synthesis in %.2f s", time.perf_counter() - t0)
    app = create_app(synth, limits)
    server = make_server(app, host, port, limits)
    shown = f"[{host}]" if ":" in host else host
    announce(f"emotts serve: {synth.model_name} on http://{shown}:{server.effective_port}/", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def warm_up(synth) -> str | None:
    """Synthesize one short text the model can say (a char or phoneme token list); returns it."""
    letters = "".join(t for t in synth.token_list.tokens if len(t) == 1 and t.isalpha())[:6]
    for text in ("Hello there.", "A bad cab.", letters):
        if not text:
            continue
        try:
            synth.synthesize([Request(text)])
            return text
        except RequestError:
            continue
    return None


# -- the command line (emotts serve, python -m steps.serve) -----------------------------------------
def add_serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-m", "--model", required=True, help="an experiment directory (exp/<exp>) or a pack (pack.zip)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only; the server has no authentication)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    p.add_argument("--vocoder", default=None, help="default vocoder (griffin_lim or one in the model's assets)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--max-active", type=int, default=1, help="synthesis requests running at once (default 1)")
    p.add_argument("--max-waiting", type=int, default=4,
                   help="requests queued behind them (default 4); more are answered 503")
    p.add_argument("--queue-timeout", type=float, default=60.0, help="seconds a queued request waits before 503")
    p.add_argument("--max-text-chars", type=int, default=600, help="longest text accepted (default 600)")
    p.add_argument("--max-upload-mb", type=float, default=2.0, help="largest uploaded wav in MiB (default 2)")
    p.add_argument("--max-upload-seconds", type=float, default=30.0, help="longest uploaded recording (default 30)")
    p.add_argument("--no-warmup", action="store_true", help="skip the warm-up synthesis at start")
    p.add_argument("--verbose", action="store_true")


def serve_main(args) -> None:
    """``emotts serve``: check the limits, load the model, serve until interrupted."""
    from pytorch_backend.errors import ConfigError

    limits = Limits(max_text_chars=args.max_text_chars, max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
                    max_upload_seconds=args.max_upload_seconds, max_active=args.max_active,
                    max_waiting=args.max_waiting, queue_timeout=args.queue_timeout)
    for option, value, low in (("--max-active", limits.max_active, 1), ("--max-waiting", limits.max_waiting, 0),
                               ("--max-text-chars", limits.max_text_chars, 1),
                               ("--max-upload-mb", limits.max_upload_bytes, 1),
                               ("--port", args.port, 0)):
        if value < low:
            raise ConfigError("<command line>", f"must be at least {low}, got {value}", key=option)
    if args.threads:
        import torch

        torch.set_num_threads(int(args.threads))
    serve(args.model, host=args.host, port=args.port, device=args.device, vocoder=args.vocoder, limits=limits,
          warmup=not args.no_warmup)
