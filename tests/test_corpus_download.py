"""Download step: fetch (file:// here, nothing leaves the machine), verify, extract atomically."""

import hashlib
import io
import json
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from local.common.download import extract, install
from pytorch_backend.errors import ConfigError, DataError
from tests.process_group import run as run_in_group

REPO = Path(__file__).resolve().parent.parent


def tar_bz2(path, files: dict) -> Path:
    with tarfile.open(path, "w:bz2") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def digest(path, algo="sha256"):
    return hashlib.new(algo, Path(path).read_bytes()).hexdigest()


@pytest.fixture
def archive(tmp_path):
    return tar_bz2(tmp_path / "LJSpeech-1.1.tar.bz2", {"LJSpeech-1.1/metadata.csv": b"LJ001-0001|a|a\n",
                                                       "LJSpeech-1.1/wavs/LJ001-0001.wav": b"RIFF"})


def test_fetch_verify_extract_with_strip(tmp_path, archive):
    root = tmp_path / "downloads" / "ljspeech"
    entries = [{"url": archive.as_uri(), "sha256": digest(archive), "strip": 1}]
    install(entries, root, tmp_path / "archives", layout=("metadata.csv", "wavs/*.wav"))
    assert (root / "metadata.csv").read_bytes() == b"LJ001-0001|a|a\n"
    assert (tmp_path / "archives" / archive.name).is_file()
    assert not list(root.parent.glob(".*"))  # no temporary directory left behind
    # a complete layout is not fetched again, even from a url that no longer exists
    install([{"url": "file:///nonexistent/x.tar.bz2"}], root, tmp_path / "archives",
            layout=("metadata.csv", "wavs/*.wav"))


def test_checksum_mismatch_is_an_error_and_leaves_nothing(tmp_path, archive):
    root = tmp_path / "root"
    with pytest.raises(DataError, match="sha256 mismatch"):
        install([{"url": archive.as_uri(), "sha256": "0" * 64}], root, tmp_path / "archives",
                layout=("metadata.csv",))
    assert not (tmp_path / "archives" / archive.name).exists()
    assert not list((tmp_path / "archives").glob("*.part"))
    assert not (root / "metadata.csv").exists()


def test_zip_md5_into_and_plain_file(tmp_path):
    z = tmp_path / "bea_Angry.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("anger_1-28_0001.wav", b"RIFF")
    prompts = tmp_path / "cmuarctic.data"
    prompts.write_text('( arctic_a0001 "Author of the danger trail." )\n')
    root = tmp_path / "emov"
    install([{"url": prompts.as_uri(), "extract": False, "bytes": prompts.stat().st_size},
             {"url": z.as_uri(), "md5": digest(z, "md5"), "into": "bea_Angry"}],
            root, tmp_path / "archives", layout=("cmuarctic.data", "*_*/**/*.wav"))
    assert (root / "bea_Angry" / "anger_1-28_0001.wav").read_bytes() == b"RIFF"
    assert (root / "cmuarctic.data").is_file()


def test_size_mismatch_without_checksum(tmp_path, archive):
    with pytest.raises(DataError, match="size mismatch"):
        install([{"url": archive.as_uri(), "bytes": 1}], tmp_path / "root", tmp_path / "archives")


def test_incomplete_layout_after_extraction_is_an_error(tmp_path, archive):
    with pytest.raises(DataError, match="nothing matches transcript_utf8.txt"):
        install([{"url": archive.as_uri(), "strip": 1}], tmp_path / "root", tmp_path / "archives",
                layout=("transcript_utf8.txt",))


def test_unsafe_member_is_refused(tmp_path):
    bad = tar_bz2(tmp_path / "bad.tar.bz2", {"../evil.txt": b"x"})
    with pytest.raises(DataError, match="unsafe member"):
        extract(bad, tmp_path / "root")
    assert not (tmp_path / "evil.txt").exists()


def test_bad_entry_keys_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"prep.download\[0\].sha1"):
        install([{"url": "file:///x.tgz", "sha1": "abc"}], tmp_path / "r", tmp_path / "a")


def test_cli_touches_the_marker(tmp_path, archive):
    conf = {"name": "ljspeech", "root": str(tmp_path / "root"), "layout": ["metadata.csv"],
            "download": [{"url": archive.as_uri(), "sha256": digest(archive), "strip": 1}]}
    marker = tmp_path / "downloads" / ".download.done"
    proc = run_in_group([sys.executable, str(REPO / "steps" / "download_corpus.py"), "--conf", json.dumps(conf),
                           "--archives", str(tmp_path / "archives"), "--touch", str(marker)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert marker.is_file() and (tmp_path / "root" / "metadata.csv").is_file()
