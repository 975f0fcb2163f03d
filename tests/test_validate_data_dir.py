"""Tests of the Kaldi data-dir validator (pytorch_backend.data.validate) and its step script."""

import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from pytorch_backend.data.validate import validate_data_dir
from pytorch_backend.errors import DataError
from tests.process_group import run as run_in_group

REPO = Path(__file__).resolve().parent.parent
EMOTIONS = ["neutral", "happy", "sad"]

UTTS = {  # utt: (speaker, emotion, text)
    "spk1_001": ("spk1", "neutral", "Hello there."),
    "spk1_002": ("spk1", "happy", "What a day!"),
    "spk2_001": ("spk2", "sad", "It is over."),
}


def write_lines(path: Path, lines) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def make_data_dir(root: Path, utts=UTTS, with_dur: bool = True) -> Path:
    """A small valid data dir with 0.1 s sine wavs; returns its path."""
    data = root / "data"
    wav_dir = root / "wav"
    data.mkdir(parents=True)
    wav_dir.mkdir()
    sr = 16000
    t = np.arange(int(0.1 * sr)) / sr
    for utt in utts:
        soundfile.write(wav_dir / f"{utt}.wav", 0.3 * np.sin(2 * np.pi * 220 * t), sr)
    order = sorted(utts, key=lambda u: u.encode())
    write_lines(data / "wav.scp", [f"{u} {wav_dir / (u + '.wav')}" for u in order])
    write_lines(data / "text", [f"{u} {utts[u][2]}" for u in order])
    write_lines(data / "utt2spk", [f"{u} {utts[u][0]}" for u in order])
    write_lines(data / "utt2emo", [f"{u} {utts[u][1]}" for u in order])
    spk2utt = {}
    for u in order:
        spk2utt.setdefault(utts[u][0], []).append(u)
    write_lines(data / "spk2utt", [f"{s} {' '.join(us)}" for s, us in sorted(spk2utt.items())])
    if with_dur:
        write_lines(data / "utt2dur", [f"{u} 0.1" for u in order])
    return data


def read_lines(path: Path):
    return path.read_text(encoding="utf-8").splitlines()


def expect_error(data: Path, *fragments, **kwargs) -> DataError:
    kwargs.setdefault("check_audio", True)
    with pytest.raises(DataError) as info:
        validate_data_dir(data, EMOTIONS, **kwargs)
    msg = str(info.value)
    for fragment in fragments:
        assert fragment in msg, f"{fragment!r} not in {msg!r}"
    return info.value


def test_valid_dir_passes_and_counts(tmp_path):
    data = make_data_dir(tmp_path)
    summary = validate_data_dir(data, EMOTIONS, check_audio=True)
    assert summary["utterances"] == 3
    assert summary["speakers"] == 2
    assert summary["emotions"] == {"happy": 1, "neutral": 1, "sad": 1}
    assert summary["duration_s"] == pytest.approx(0.3)


def test_valid_dir_without_utt2dur_sums_audio(tmp_path):
    data = make_data_dir(tmp_path, with_dur=False)
    summary = validate_data_dir(data, EMOTIONS, check_audio=True)
    assert summary["duration_s"] == pytest.approx(0.3)
    assert validate_data_dir(data, EMOTIONS)["duration_s"] is None


def test_missing_required_file(tmp_path):
    data = make_data_dir(tmp_path)
    (data / "utt2emo").unlink()
    expect_error(data, "utt2emo", "required file missing")


def test_unsorted_file(tmp_path):
    data = make_data_dir(tmp_path)
    lines = read_lines(data / "text")
    write_lines(data / "text", [lines[1], lines[0], lines[2]])
    err = expect_error(data, "text:2 (utterance spk1_001)", "not sorted")
    assert str(err).startswith(f"{data / 'text'}:2")


def test_c_sort_order_not_locale_order(tmp_path):
    # C order puts upper case before lower case: "spk1_B" < "spk1_a".
    utts = {"spk1_a": ("spk1", "neutral", "a"), "spk1_B": ("spk1", "neutral", "b")}
    data = make_data_dir(tmp_path, utts)
    validate_data_dir(data, EMOTIONS, check_audio=True)
    write_lines(data / "utt2emo", ["spk1_a neutral", "spk1_B neutral"])
    expect_error(data, "utt2emo:2 (utterance spk1_B)", "not sorted")


def test_duplicate_id(tmp_path):
    data = make_data_dir(tmp_path)
    lines = read_lines(data / "utt2emo")
    write_lines(data / "utt2emo", [lines[0], lines[0].replace("neutral", "happy"), *lines[1:]])
    expect_error(data, "utt2emo:2 (utterance spk1_001)", "duplicate id", "first on line 1")


def test_ids_disagree_across_files(tmp_path):
    data = make_data_dir(tmp_path)
    lines = read_lines(data / "text")
    write_lines(data / "text", lines[:2])  # spk2_001 dropped from text
    err = expect_error(data, "utt2spk:3 (utterance spk2_001)", "in utt2spk but missing from text")
    assert len(err.errors) == 1


def test_extra_id_in_one_file(tmp_path):
    data = make_data_dir(tmp_path)
    lines = read_lines(data / "wav.scp")
    write_lines(data / "wav.scp", lines + [lines[2].replace("spk2_001", "spk2_002", 1)])
    expect_error(data, "wav.scp:4 (utterance spk2_002)", "in wav.scp but missing from utt2spk")


def test_spk2utt_inconsistent(tmp_path):
    data = make_data_dir(tmp_path)
    write_lines(data / "spk2utt", ["spk1 spk1_001", "spk2 spk1_002 spk2_001"])
    err = expect_error(data, "spk2utt:2 (utterance spk1_002)", "utt2spk says 'spk1'")
    messages = [str(e) for e in err.errors]
    assert len(messages) == 1


def test_spk2utt_missing_utterance(tmp_path):
    data = make_data_dir(tmp_path)
    write_lines(data / "spk2utt", ["spk1 spk1_001", "spk2 spk2_001"])
    expect_error(data, "utt2spk:2 (utterance spk1_002)", "missing from spk2utt")


def test_unknown_emotion_label(tmp_path):
    data = make_data_dir(tmp_path)
    write_lines(data / "utt2emo", ["spk1_001 neutral", "spk1_002 angry", "spk2_001 sad"])
    expect_error(data, "utt2emo:2 (utterance spk1_002)", "unknown emotion label 'angry'")


def test_empty_text(tmp_path):
    data = make_data_dir(tmp_path)
    write_lines(data / "text", ["spk1_001 Hello.", "spk1_002   \t ", "spk2_001 Bye."])
    expect_error(data, "text:2 (utterance spk1_002)", "empty transcription")


def test_empty_line(tmp_path):
    data = make_data_dir(tmp_path)
    lines = read_lines(data / "utt2emo")
    write_lines(data / "utt2emo", [lines[0], "", *lines[1:]])
    expect_error(data, "utt2emo:2", "empty line")


def test_utterance_not_speaker_prefixed(tmp_path):
    utts = {"spk1_001": ("spk1", "neutral", "a"), "xyz_002": ("spk2", "neutral", "b")}
    data = make_data_dir(tmp_path, utts)
    expect_error(data, "utt2spk:2 (utterance xyz_002)", "does not start with its speaker id 'spk2'")


def test_utterance_equal_to_speaker_is_allowed(tmp_path):
    utts = {"u1": ("u1", "neutral", "a"), "u2": ("u2", "happy", "b")}
    validate_data_dir(make_data_dir(tmp_path, utts), EMOTIONS, check_audio=True)


def test_speakers_out_of_order(tmp_path):
    # Prefixed ids, but "a-b_1" < "a_1" while speaker "a-b" > "a": Kaldi's speaker sort breaks.
    utts = {"a-b_1": ("a-b", "neutral", "x"), "a_1": ("a", "neutral", "y")}
    data = make_data_dir(tmp_path, utts)
    expect_error(data, "utt2spk:2 (utterance a_1)", "sorted on the speaker id")


def test_pipe_refused_and_accepted_with_allow_pipes(tmp_path):
    data = make_data_dir(tmp_path)
    lines = read_lines(data / "wav.scp")
    lines[1] = "spk1_002 sox in.flac -t wav - |"
    write_lines(data / "wav.scp", lines)
    expect_error(data, "wav.scp:2 (utterance spk1_002)", "piped command")
    # Accepted with allow_pipes; the command is never run, even with check_audio.
    validate_data_dir(data, EMOTIONS, allow_pipes=True, check_audio=True)


@pytest.mark.parametrize("sep", [" ", "\t", "  "])
def test_wav_path_with_whitespace_is_refused_naming_the_line(tmp_path, sep):
    data = make_data_dir(tmp_path)
    spaced = tmp_path / f"Emotion{sep}Speech" / "spk1_002.wav"
    spaced.parent.mkdir()
    (tmp_path / "wav" / "spk1_002.wav").rename(spaced)  # the file exists: only the line is wrong
    lines = read_lines(data / "wav.scp")
    lines[1] = f"spk1_002 {spaced}"
    write_lines(data / "wav.scp", lines)
    for allow_pipes in (False, True):  # not a command, so allow_pipes does not accept it either
        err = expect_error(data, f"{data / 'wav.scp'}:2 (utterance spk1_002): entry has 3 fields",
                           "'<id> <path>' or '<id> <command> |'", "contains whitespace", allow_pipes=allow_pipes)
        assert len(err.errors) == 1 and err.line == 2  # reported once, the audio is not opened


def test_piped_command_may_have_many_fields(tmp_path):
    data = make_data_dir(tmp_path)
    lines = read_lines(data / "wav.scp")
    lines[0] = "spk1_001 sox -t flac in.flac -t wav -r 16000 - |"
    write_lines(data / "wav.scp", lines)
    validate_data_dir(data, EMOTIONS, allow_pipes=True, check_audio=True)


def test_step_rejects_wav_path_with_whitespace(tmp_path):
    data = make_data_dir(tmp_path)
    lines = read_lines(data / "wav.scp")
    lines[2] = "spk2_001 /corpus/Emotion Speech Dataset/spk2_001.wav"
    write_lines(data / "wav.scp", lines)
    res = run_step("--conf", '{"emotions": ["neutral", "happy", "sad"]}', "--data-dir", str(data),
                   "--touch", str(data / ".validated"))
    assert res.returncode == 1 and not (data / ".validated").exists()
    assert f"{data / 'wav.scp'}:3 (utterance spk2_001): entry has 4 fields" in res.stderr
    assert "Traceback" not in res.stderr


def test_missing_wav(tmp_path):
    data = make_data_dir(tmp_path)
    (tmp_path / "wav" / "spk1_002.wav").unlink()
    expect_error(data, "wav.scp:2 (utterance spk1_002)", "audio file not found")
    validate_data_dir(data, EMOTIONS, check_audio=False)  # only checked on request


def test_corrupt_wav(tmp_path):
    data = make_data_dir(tmp_path)
    rng = np.random.default_rng(0)
    (tmp_path / "wav" / "spk2_001.wav").write_bytes(rng.integers(0, 256, 500, dtype=np.uint8).tobytes())
    expect_error(data, "wav.scp:3 (utterance spk2_001)", "not readable")


def test_empty_wav(tmp_path):
    data = make_data_dir(tmp_path)
    soundfile.write(tmp_path / "wav" / "spk1_001.wav", np.zeros(0, dtype=np.float32), 16000)
    expect_error(data, "wav.scp:1 (utterance spk1_001)", "no samples")


@pytest.mark.parametrize("bad_id", ["spk1/../b", "spk1..x", "spk1\\x"])
def test_bad_utterance_id(tmp_path, bad_id):
    data = make_data_dir(tmp_path, {"spk1_001": ("spk1", "neutral", "a")})
    for name in ("wav.scp", "text", "utt2spk", "utt2emo", "utt2dur", "spk2utt"):
        path = data / name
        path.write_text(path.read_text().replace("spk1_001 ", bad_id + " "))
    expect_error(data, f"wav.scp:1 (utterance {bad_id})", "unsafe utterance id", check_audio=False)


def test_bad_id_leading_dash(tmp_path):
    data = make_data_dir(tmp_path, {"-x_1": ("-x", "neutral", "a")})
    expect_error(data, "wav.scp:1 (utterance -x_1)", "starts with '-'")


def test_bad_duration(tmp_path):
    data = make_data_dir(tmp_path)
    write_lines(data / "utt2dur", ["spk1_001 0.1", "spk1_002 -1", "spk2_001 abc"])
    err = expect_error(data, "utt2dur:2 (utterance spk1_002)", "positive number")
    assert any("utt2dur:3" in str(e) for e in err.errors)


def test_errors_are_collected_and_first_leads(tmp_path):
    data = make_data_dir(tmp_path)
    write_lines(data / "utt2emo", ["spk1_001 angry", "spk1_002 bored", "spk2_001 sad"])
    write_lines(data / "text", ["spk1_001 a", "spk1_002 ", "spk2_001 c"])
    err = expect_error(data, "more problem(s)", "utt2emo:1", "utt2emo:2")
    assert str(err).startswith(f"{data / 'text'}:2 (utterance spk1_002)")
    assert err.line == 2 and err.utt == "spk1_002"
    assert len(err.errors) == 3


def run_step(*args, cwd=None):
    return run_in_group([sys.executable, str(REPO / "steps" / "validate_data_dir.py"), *args],
                          capture_output=True, text=True, cwd=cwd)


def test_step_touches_marker_only_on_success(tmp_path):
    data = make_data_dir(tmp_path)
    marker = data / ".validated"
    log = tmp_path / "log" / "validate.log"
    conf = '{"emotions": ["neutral", "happy", "sad"], "allow_pipes": false}'
    res = run_step("--conf", conf, "--data-dir", str(data), "--touch", str(marker), "--log", str(log),
                   cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert marker.is_file()
    assert "3 utterances, 2 speakers" in log.read_text()

    marker.write_text("old\n")
    write_lines(data / "utt2emo", ["spk1_001 neutral", "spk1_002 angry", "spk2_001 sad"])
    res = run_step("--conf", conf, "--data-dir", str(data), "--touch", str(marker))
    assert res.returncode == 1
    assert f"{data / 'utt2emo'}:2 (utterance spk1_002)" in res.stderr
    assert marker.read_text() == "old\n"  # neither rewritten nor removed


def test_step_rejects_unknown_conf_key(tmp_path):
    data = make_data_dir(tmp_path)
    res = run_step("--conf", '{"emotions": ["neutral"], "alow_pipes": true}', "--data-dir", str(data))
    assert res.returncode == 1
    assert "alow_pipes" in res.stderr
