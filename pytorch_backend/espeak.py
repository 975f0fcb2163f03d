"""A small ctypes binding to eSpeak NG, as shipped by the PyPI package ``espeakng-loader``.

Three things are offered:

- :func:`synthesize` speaks a text in this process and returns ``(int16 samples, sample_rate)``;
- :func:`synthesize_isolated` does the same in a freshly forked child process that loads its own
  private copy of the library, so the result depends only on the arguments: the same call gives
  byte-identical samples every time, whatever was synthesized before;
- :func:`phonemize` turns a text into an IPA string (words separated by single spaces) with
  ``espeak_TextToPhonemes``.

Why the isolation: libespeak-ng keeps waveform state (filter memories, the voicing source
phase, ...) in static variables from one synthesis to the next, and re-initializing does not
clear it, so the same text synthesized twice in one process comes out slightly different. A
child process that ``dlopen``s a *separate file* holding the library gets fresh statics (the
dynamic loader treats a copy with another inode as a different object), and a forked child
costs a few milliseconds, about as much as the synthesis itself.

The parameters follow ``speak_lib.h`` (``espeak_SetParameter``):

=============  =======================================================  ===========
parameter      meaning                                                   range
=============  =======================================================  ===========
rate           speaking rate in words per minute                         80 .. 450
volume         amplitude, 100 = normal (above ~150 compresses)          0 .. 200
pitch          base pitch of the voice, 50 = the voice's own             0 .. 99
pitch_range    pitch range, 0 = monotone, 50 = the voice's own           0 .. 99
word_gap       extra pause between words, units of 10 ms                 0 .. 100
intonation     intonation group (tune set); 0 keeps the voice's own      0 .. 255
=============  =======================================================  ===========

Voices are named as for the ``espeak-ng -v`` option: a language voice and an optional variant,
e.g. ``"en-us+m3"``. The variants f2, f3 and f5 add breath noise that is random on every run;
:func:`synthesize_isolated` refuses them because its promise is byte-identical output.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import shutil
import struct
import tempfile
import threading
from pathlib import Path

import numpy as np

__all__ = ["synthesize", "synthesize_isolated", "phonemize", "sample_rate", "EspeakError",
           "NONDETERMINISTIC_VARIANTS"]

# Constants of speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_SSML = 0x10
_ENDPAUSE = 0x1000
_PHONEMES_IPA = 0x02
_PARAMETER_IDS = {"rate": 1, "volume": 2, "pitch": 3, "pitch_range": 4, "word_gap": 7,
                  "intonation": 9}
_LIMITS = {"rate": (80, 450), "volume": (0, 200), "pitch": (0, 99), "pitch_range": (0, 99),
           "word_gap": (0, 100), "intonation": (0, 255)}

#: Voice variants whose breath noise makes every synthesis different.
NONDETERMINISTIC_VARIANTS = frozenset({"f2", "f3", "f5"})

# int SynthCallback(short *wav, int numsamples, espeak_EVENT *events)
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                   ctypes.c_void_p)


class EspeakError(RuntimeError):
    """The library could not be loaded, initialized, or refused a voice or a text."""


def _loader_paths() -> tuple[str, str]:
    """(library file, directory holding ``espeak-ng-data``) from espeakng-loader."""
    import espeakng_loader

    lib = espeakng_loader.get_library_path()
    data = espeakng_loader.get_data_path()
    return lib, str(Path(data).parent)


class _Engine:
    """One loaded and initialized copy of libespeak-ng (not thread safe on its own)."""

    def __init__(self, lib_path: str, data_dir: str):
        try:
            lib = ctypes.CDLL(lib_path)
        except OSError as exc:
            raise EspeakError(f"cannot load libespeak-ng from {lib_path}: {exc}") from None
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int,
                                              ctypes.c_int]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        self.lib = lib
        self._chunks: list[np.ndarray] = []
        self._callback = _SYNTH_CALLBACK(self._collect)  # kept alive as long as the engine
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_dir.encode(), 0)
        if rate <= 0:
            raise EspeakError(f"espeak_Initialize failed (data directory {data_dir})")
        self.sample_rate = int(rate)
        lib.espeak_SetSynthCallback(self._callback)
        self._voice: str | None = None

    def _collect(self, wav, numsamples, _events) -> int:
        if wav and numsamples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(numsamples,)).copy())
        return 0  # continue

    def set_voice(self, voice: str, force: bool = False) -> None:
        if force or voice != self._voice:
            self._voice = None
            if self.lib.espeak_SetVoiceByName(voice.encode("utf-8")) != 0:
                raise EspeakError(f"unknown eSpeak NG voice '{voice}'")
            self._voice = voice

    def synth(self, text: str, voice: str, params: dict[str, int], ssml: bool) -> np.ndarray:
        # Reloading the voice restores everything a previous call may have changed
        # (the intonation parameter edits the voice's translator), then every parameter is set.
        self.set_voice(voice, force=True)
        for name, value in params.items():
            if self.lib.espeak_SetParameter(_PARAMETER_IDS[name], int(value), 0) != 0:
                raise EspeakError(f"espeak_SetParameter({name}={value}) failed")
        data = text.encode("utf-8")
        flags = _CHARS_UTF8 | (_SSML if ssml else 0)
        self._chunks = []
        status = self.lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, flags, None, None)
        chunks, self._chunks = self._chunks, []
        if status != 0:
            raise EspeakError(f"espeak_Synth failed with status {status} for text {text!r}")
        if not chunks:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(chunks).astype(np.int16, copy=False)

    def phonemize(self, text: str, voice: str) -> str:
        self.set_voice(voice)
        buf = ctypes.create_string_buffer(text.encode("utf-8"))
        ptr = ctypes.c_void_p(ctypes.addressof(buf))
        end = ctypes.addressof(buf) + len(buf)
        clauses = []
        # espeak_TextToPhonemes translates one clause per call and moves the pointer on;
        # it sets the pointer to NULL after the last clause.
        while ptr.value:
            before = ptr.value
            out = self.lib.espeak_TextToPhonemes(ctypes.byref(ptr), _CHARS_UTF8, _PHONEMES_IPA)
            if out:
                clauses.append(out.decode("utf-8"))
            if ptr.value and (ptr.value <= before or ptr.value >= end):
                break  # defensive: no progress, or past the buffer
        return " ".join(" ".join(clauses).split())


_LOCK = threading.RLock()
_SHARED: dict[int, _Engine] = {}  # pid -> the in-process engine
_COPY: list[str] = []  # the private copy of the library file, once made


def _shared_engine() -> _Engine:
    pid = os.getpid()
    engine = _SHARED.get(pid)
    if engine is None:
        lib, data = _loader_paths()
        engine = _Engine(lib, data)
        _SHARED.clear()
        _SHARED[pid] = engine
    return engine


def _private_library_copy() -> str:
    """Path of a copy of libespeak-ng that is only ever loaded by forked children.

    Made once per process tree: processes forked after it was made (e.g. pool workers) use the
    same file, which is fine because none of them loads it either. The process that made it
    deletes it at exit.
    """
    with _LOCK:
        if _COPY and os.path.exists(_COPY[0]):
            return _COPY[0]
        lib, _ = _loader_paths()
        tmpdir = tempfile.mkdtemp(prefix="emotts-espeak-")
        path = os.path.join(tmpdir, "libespeak-ng-private.so")
        shutil.copyfile(lib, path)
        _COPY[:] = [path]
        atexit.register(_remove_copy, os.getpid(), tmpdir)
        return path


def _remove_copy(pid: int, tmpdir: str) -> None:
    if os.getpid() == pid:  # forked children never clean up their parent's copy
        shutil.rmtree(tmpdir, ignore_errors=True)


def _check_params(voice: str, rate, pitch, pitch_range, volume, word_gap, more) -> dict[str, int]:
    if not isinstance(voice, str) or not voice.strip():
        raise ValueError(f"voice must be a non-empty string, got {voice!r}")
    unknown = set(more) - {"intonation", "ssml"}
    if unknown:
        raise TypeError(f"unknown eSpeak option(s): {', '.join(sorted(unknown))}")
    params = {"rate": rate, "volume": volume, "pitch": pitch, "pitch_range": pitch_range,
              "word_gap": word_gap}
    if more.get("intonation"):
        params["intonation"] = more["intonation"]
    for name, value in params.items():
        lo, hi = _LIMITS[name]
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
            raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    return {k: int(v) for k, v in params.items()}


def sample_rate() -> int:
    """The sample rate of the synthesized audio (22050 Hz for the bundled library)."""
    with _LOCK:
        return _shared_engine().sample_rate


def synthesize(text: str, voice: str = "en-us", rate: int = 175, pitch: int = 50,
               pitch_range: int = 50, volume: int = 100, word_gap: int = 0,
               **more) -> tuple[np.ndarray, int]:
    """Speak ``text`` in this process; returns (int16 mono samples, sample rate).

    ``more`` accepts ``intonation`` (int, see the module docstring) and ``ssml`` (bool: the text
    holds SSML markup). Output may differ by a few samples from call to call (library state);
    use :func:`synthesize_isolated` when byte-identical output matters.
    """
    params = _check_params(voice, rate, pitch, pitch_range, volume, word_gap, more)
    with _LOCK:
        engine = _shared_engine()
        audio = engine.synth(text, voice, params, bool(more.get("ssml", False)))
        return audio, engine.sample_rate


def _read_all(fd: int) -> bytes:
    parts = []
    while True:
        block = os.read(fd, 1 << 20)
        if not block:
            return b"".join(parts)
        parts.append(block)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def synthesize_isolated(text: str, voice: str = "en-us", rate: int = 175, pitch: int = 50,
                        pitch_range: int = 50, volume: int = 100, word_gap: int = 0,
                        **more) -> tuple[np.ndarray, int]:
    """Like :func:`synthesize`, but in a forked child with a pristine library: deterministic bytes.

    Safe to call from several processes at once (e.g. the workers of a multiprocessing pool).
    """
    params = _check_params(voice, rate, pitch, pitch_range, volume, word_gap, more)
    variant = voice.split("+", 1)[1] if "+" in voice else ""
    if variant in NONDETERMINISTIC_VARIANTS:
        raise ValueError(f"voice variant '{variant}' adds random breath noise; isolated synthesis "
                         f"promises identical output, so it refuses {sorted(NONDETERMINISTIC_VARIANTS)}")
    ssml = bool(more.get("ssml", False))
    lib_copy = _private_library_copy()
    _, data_dir = _loader_paths()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns
        status = 0
        try:
            os.close(read_fd)
            engine = _Engine(lib_copy, data_dir)
            audio = engine.synth(text, voice, params, ssml)
            payload = b"K" + struct.pack("<iq", engine.sample_rate, audio.size) + audio.tobytes()
        except BaseException as exc:  # report anything to the parent, then exit
            payload = b"E" + f"{type(exc).__name__}: {exc}".encode("utf-8", "replace")
            status = 1
        try:
            _write_all(write_fd, payload)
        finally:
            os._exit(status)
    os.close(write_fd)
    try:
        payload = _read_all(read_fd)
    finally:
        os.close(read_fd)
        _, wait_status = os.waitpid(pid, 0)
    if payload[:1] == b"E":
        raise EspeakError(f"isolated synthesis of {text!r} with voice '{voice}' failed: "
                          f"{payload[1:].decode('utf-8', 'replace')}")
    if payload[:1] != b"K" or len(payload) < 13 or os.waitstatus_to_exitcode(wait_status) != 0:
        raise EspeakError(f"isolated synthesis worker for {text!r} died "
                          f"(exit status {os.waitstatus_to_exitcode(wait_status)})")
    rate_hz, count = struct.unpack("<iq", payload[1:13])
    audio = np.frombuffer(payload[13:], dtype=np.int16)
    if audio.size != count:
        raise EspeakError(f"isolated synthesis of {text!r}: got {audio.size} of {count} samples")
    return audio.copy(), int(rate_hz)


def phonemize(text: str, voice: str = "en-us") -> str:
    """IPA transcription of ``text``; words are separated by single spaces, punctuation dropped.

    Every clause of a multi-clause text is transcribed. Serialized by a lock, so threads may share it.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    with _LOCK:
        return _shared_engine().phonemize(text, voice)
