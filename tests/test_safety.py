"""Safety rules: weights-only checkpoint loading, schema-checked confs, ids safe as file names,
piped wav.scp entries refused by default, the deterministic-mode switch."""

import ast
import inspect
import os
from pathlib import Path

import pytest
import torch

from pytorch_backend.config import TTS_SCHEMA, check_keys
from pytorch_backend.data.validate import safe_file_stem, unsafe_id_reason
from pytorch_backend.errors import ConfigError, DataError
from pytorch_backend.train.device import set_deterministic
from pytorch_backend.tts.loading import tts_conf_of
from test_validate_data_dir import expect_error, make_data_dir
from tts_fixtures import tiny_conf

REPO = Path(__file__).resolve().parent.parent


def test_every_torch_load_is_weights_only():
    offenders = []
    for folder in ("pytorch_backend", "steps", "local", "benchmarks", "recipes"):
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "load" and getattr(node.func.value, "id", None) == "torch"):
                    ok = any(k.arg == "weights_only" and isinstance(k.value, ast.Constant) and k.value.value is True
                             for k in node.keywords)
                    if not ok:
                        offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not offenders, f"torch.load without weights_only=True: {offenders}"


@pytest.mark.parametrize("ident,reason", [
    ("", "is empty"), ("a/b", "path separator"), ("a\\b", "path separator"), ("x..y", "'..'"),
    ("..", "'..'"), ("-rf", "starts with '-'"), (".hidden", "starts with '.'"),
    ("a\x00b", "non-printable"), ("a\tb", "whitespace"), ("u" * 201, "longer than 200 bytes"),
])
def test_unsafe_ids_are_named(ident, reason):
    assert reason in unsafe_id_reason(ident)
    with pytest.raises(DataError) as err:
        safe_file_stem(ident, "exp/x/decode/eval/feats.scp", line=3)
    assert "exp/x/decode/eval/feats.scp:3" in str(err.value) and reason in str(err.value)


def test_safe_ids_pass():
    for ident in ("spk1_001", "F01-angry_0003", "spkA_utt.2", "ü_ok"):
        assert unsafe_id_reason(ident) is None and safe_file_stem(ident, "x") == ident


def test_validation_refuses_an_id_starting_with_a_dot(tmp_path):
    data = make_data_dir(tmp_path, {".spk_1": (".spk", "neutral", "a")})
    expect_error(data, "wav.scp:1 (utterance .spk_1)", "starts with '.'", check_audio=False)


def test_hand_written_tts_conf_with_unknown_key_is_refused():
    conf = tiny_conf("gst")
    conf["tts"]["train"]["determinstic"] = True  # typo
    with pytest.raises(ConfigError) as err:
        tts_conf_of(conf, "conf/tts/gst.yaml")
    assert err.value.key == "train.determinstic" and "conf/tts/gst.yaml" in str(err.value)
    conf["tts"]["train"].pop("determinstic")
    conf["tts"]["train"]["deterministic"] = True
    assert tts_conf_of(conf)["train"]["deterministic"] is True
    with pytest.raises(ConfigError) as err:
        check_keys({"decode": {"sed": 1}}, TTS_SCHEMA, "conf/tts/x.yaml")
    assert err.value.key == "decode.sed"


def test_readers_of_wav_scp_refuse_pipes_by_default(tmp_path):
    from pytorch_backend.data.validate import validate_data_dir
    from pytorch_backend.feats.audio import load_audio
    from pytorch_backend.feats.dump import dump_feats

    for func in (load_audio, dump_feats, validate_data_dir):
        assert inspect.signature(func).parameters["allow_pipes"].default is False, func.__name__
    marker = tmp_path / "ran"
    with pytest.raises(DataError) as err:
        load_audio(f"touch {marker} |", 16000, source="data/x/wav.scp", line=7, utt="u1")
    assert "data/x/wav.scp:7 (utterance u1)" in str(err.value) and "allow_pipes" in str(err.value)
    assert not marker.exists()  # the command never ran


def test_deterministic_mode_switch(monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    try:
        set_deterministic(True)
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    finally:
        set_deterministic(False)
    assert not torch.are_deterministic_algorithms_enabled() and not torch.backends.cudnn.deterministic
