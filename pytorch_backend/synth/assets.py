"""What synthesis needs of a trained experiment, read from its exp dir or from one packed file.

**Asset index** ``exp/<exp>/assets.json`` (written by the DAG): each role's file, as a path
relative to the index's directory (``../../data/<corpus>/tokens/...``), so the exp dir can be
used in place from any working directory::

    {"format": "emotts-assets", "version": 1, "exp": "<exp>",
     "files": {"model": "train/best.pt", "config": "config.yaml", "token_list": ..., "stats": ...,
               "styles": "styles.pt", "text_emotion": ..., "ser": ..., "results": "results.md", ...},
     "vocoders": {"<vocoder conf name>": ".../model.pt"}, "vocoder": "<default vocoder>"}

**Pack** ``exp/<exp>/pack.zip``: the same files as zip members with fixed names
(:data:`MEMBERS`, ``vocoders/<name>.pt``), plus ``pack.json`` (what the pack is),
``speakers.txt``, ``emotions.txt`` and ``manifest.json`` (the sha256 and size of every other
member). Opening a pack checks everything before anything is used: a truncated file names the
member it breaks off in; a member that is missing, extra, of another size or another sha256
than the manifest says (an edited pack) is refused by name. Weights are plain tensors
(``torch.load(weights_only=True)``); the text emotion classifier is JSON.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import zipfile
from pathlib import Path

from pytorch_backend.errors import DataError
from pytorch_backend.utils.fileio import atomic_path, write_text_atomic

INDEX_NAME = "assets.json"
INDEX_FORMAT = "emotts-assets"
PACK_FORMAT = "emotts-pack"
MANIFEST = "manifest.json"
PACK_INFO = "pack.json"
# role -> member name in a pack
MEMBERS = {"model": "model.pt", "config": "config.yaml", "token_list": "token_list", "bpe_model": "bpe.model",
           "stats": "stats.npz", "styles": "styles.pt", "text_emotion": "text_emotion.json", "ser": "ser.pt",
           "results": "results.md"}
REQUIRED = ("model", "config", "token_list", "stats")
LISTS = ("speakers.txt", "emotions.txt")


def vocoder_member(name: str) -> str:
    return f"vocoders/{name}.pt"


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- the asset index ---------------------------------------------------------------------------
def write_index(index_path, exp: str, files: dict, vocoders: dict | None = None, vocoder: str = "griffin_lim") -> dict:
    """Write ``assets.json``: ``files`` role -> path (or None), ``vocoders`` name -> model file,
    paths given relative to the working directory and stored relative to the index."""
    index_path = Path(index_path)
    base = index_path.parent.resolve()
    unknown = [role for role in files if role not in MEMBERS]
    if unknown:
        raise ValueError(f"unknown asset roles {unknown} (known: {', '.join(MEMBERS)})")
    for role in REQUIRED:
        if not files.get(role):
            raise ValueError(f"the asset index needs a '{role}' file")

    def rel(path):
        return None if path is None else os.path.relpath(Path(path).resolve(), base)

    data = {"format": INDEX_FORMAT, "version": 1, "exp": exp,
            "files": {role: rel(path) for role, path in files.items() if path},
            "vocoders": {name: rel(path) for name, path in (vocoders or {}).items()}, "vocoder": vocoder}
    write_text_atomic(index_path, json.dumps(data, indent=2) + "\n")
    return data


class Assets:
    """Bytes of each role, from an exp dir (through its index) or a verified pack."""

    kind = ""

    def __init__(self, source: str, files: dict, vocoders: dict, default_vocoder: str, exp: str):
        self.source = source
        self.files = files  # role -> where (a path, or a member name)
        self.vocoder_files = vocoders  # name -> where
        self.default_vocoder = default_vocoder
        self.exp = exp

    def has(self, role: str) -> bool:
        return role in self.files

    def where(self, role: str) -> str:
        """The file (or ``pack.zip:member``) a role comes from, for messages."""
        return self.files.get(role) or f"{self.source} ({role})"

    def read(self, role: str) -> bytes:
        raise NotImplementedError

    def read_vocoder(self, name: str) -> bytes:
        raise NotImplementedError


class ExpAssets(Assets):
    kind = "exp"

    def __init__(self, exp_dir):
        exp_dir = Path(exp_dir)
        index = exp_dir / INDEX_NAME
        if not index.is_file():
            raise DataError(index, f"asset index not found: build it with `snakemake {exp_dir}/{INDEX_NAME}` "
                            f"(or pass a packed model, exp/<exp>/pack.zip)")
        try:
            data = json.loads(index.read_text(encoding="utf-8"))
            if data.get("format") != INDEX_FORMAT:
                raise ValueError(f"format {data.get('format')!r} is not {INDEX_FORMAT}")
            files = {role: str((exp_dir / p).resolve()) for role, p in data["files"].items() if p}
            vocoders = {name: str((exp_dir / p).resolve()) for name, p in (data.get("vocoders") or {}).items()}
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DataError(index, f"not a valid asset index: {exc}") from None
        for role in REQUIRED:
            if role not in files:
                raise DataError(index, f"lists no '{role}' file")
        super().__init__(str(exp_dir), files, vocoders, data.get("vocoder") or "griffin_lim", data.get("exp") or exp_dir.name)
        self.index = index

    def _read(self, path: str, what: str) -> bytes:
        p = Path(path)
        if not p.is_file():
            raise DataError(p, f"{what} listed in {self.index} not found (re-run the DAG target of the experiment)")
        return p.read_bytes()

    def read(self, role: str) -> bytes:
        return self._read(self.files[role], f"the '{role}' file")

    def read_vocoder(self, name: str) -> bytes:
        return self._read(self.vocoder_files[name], f"the model of vocoder '{name}'")


class PackAssets(Assets):
    kind = "pack"

    def __init__(self, pack_path):
        self.path = Path(pack_path)
        self.members = read_pack(self.path)  # verified: name -> bytes
        try:
            info = json.loads(self.members[PACK_INFO].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"{self.path}:{PACK_INFO}", f"not JSON: {exc}") from None
        files = {role: f"{self.path}:{member}" for role, member in MEMBERS.items() if member in self.members}
        vocoders = {name: f"{self.path}:{vocoder_member(name)}" for name in info.get("vocoders", [])}
        for name in vocoders:
            if vocoder_member(name) not in self.members:
                raise DataError(f"{self.path}:{PACK_INFO}", f"lists vocoder '{name}', but the pack has no "
                                f"{vocoder_member(name)}")
        super().__init__(str(self.path), files, vocoders, info.get("vocoder") or "griffin_lim", info.get("exp") or "")
        self.info = info

    def read(self, role: str) -> bytes:
        return self.members[MEMBERS[role]]

    def read_vocoder(self, name: str) -> bytes:
        return self.members[vocoder_member(name)]


def open_assets(path) -> Assets:
    """The assets of an exp dir (``exp/<exp>``) or a pack (``*.zip``)."""
    path = Path(path)
    if path.is_dir():
        return ExpAssets(path)
    if not path.exists():
        raise DataError(path, "no such model: give an experiment directory (exp/<exp>) or a pack (pack.zip)")
    return PackAssets(path)


# -- packs ---------------------------------------------------------------------------------------
def write_pack(assets: Assets, out_path, speakers: list[str], emotions: list[str], extra_info: dict | None = None) -> dict:
    """Pack every file of ``assets`` (and its vocoders) into ``out_path`` with a sha256 manifest;
    returns the manifest. Written to a temporary name and renamed when complete."""
    members: dict[str, bytes] = {}
    for role, member in MEMBERS.items():
        if assets.has(role):
            members[member] = assets.read(role)
    for name in assets.vocoder_files:
        members[vocoder_member(name)] = assets.read_vocoder(name)
    members["speakers.txt"] = "".join(f"{s}\n" for s in speakers).encode("utf-8")
    members["emotions.txt"] = "".join(f"{e}\n" for e in emotions).encode("utf-8")
    info = {"format": PACK_FORMAT, "version": 1, "exp": assets.exp, "vocoder": assets.default_vocoder,
            "vocoders": sorted(assets.vocoder_files), **(extra_info or {})}
    members[PACK_INFO] = (json.dumps(info, indent=2) + "\n").encode("utf-8")
    manifest = {"format": PACK_FORMAT, "version": 1,
                "members": {name: {"sha256": sha256_of(data), "size": len(data)} for name, data in sorted(members.items())}}
    with atomic_path(out_path, suffix=".zip") as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name in sorted(members):
                zf.writestr(name, members[name])
            zf.writestr(MANIFEST, json.dumps(manifest, indent=2) + "\n")
    return manifest


_LOCAL = struct.Struct("<4sHHHHHIIIHH")


def _diagnose(path: Path) -> str:
    """Why a file that is not a readable zip archive is not one, naming the member if it is cut."""
    data = path.read_bytes()
    if not data.startswith(b"PK\x03\x04"):
        return "not a zip archive (not a packed model)"
    pos = 0
    while data[pos:pos + 4] == b"PK\x03\x04":
        if pos + _LOCAL.size > len(data):
            return f"truncated: cut off inside a member header at byte {len(data)}"
        _, _, flags, _, _, _, _, csize, _, nlen, xlen = _LOCAL.unpack_from(data, pos)
        name = data[pos + _LOCAL.size:pos + _LOCAL.size + nlen].decode("utf-8", "replace")
        start = pos + _LOCAL.size + nlen + xlen
        if start > len(data) or (not flags & 0x08 and start + csize > len(data)):
            return (f"truncated: member '{name}' is cut off ({len(data)} bytes in the file, the member "
                    f"needs {start + csize})")
        if flags & 0x08:  # sizes after the data: cannot walk further
            return f"damaged: cannot read past member '{name}'"
        pos = start + csize
    return f"truncated or damaged after the last member ('{name}' ends at byte {pos}; the zip directory " \
           "is missing)" if pos else "damaged zip archive"


def read_pack(path) -> dict[str, bytes]:
    """All members of a pack, verified against its manifest (see the module docstring)."""
    path = Path(path)
    if not zipfile.is_zipfile(path):
        raise DataError(path, _diagnose(path))
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(path, f"{_diagnose(path)} ({exc})") from None
    with zf:
        names = zf.namelist()
        if MANIFEST not in names:
            raise DataError(f"{path}:{MANIFEST}", "missing: not a packed model (no manifest)")

        def member(name: str) -> bytes:
            try:
                return zf.read(name)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:  # CRC, zlib, truncation
                raise DataError(f"{path}:{name}", f"damaged member: {exc}") from None

        try:
            manifest = json.loads(member(MANIFEST).decode("utf-8"))
            listed = manifest["members"]
            if manifest.get("format") != PACK_FORMAT or not isinstance(listed, dict):
                raise ValueError(f"format {manifest.get('format')!r} is not {PACK_FORMAT}")
        except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise DataError(f"{path}:{MANIFEST}", f"not a valid manifest: {exc}") from None
        extra = [n for n in names if n != MANIFEST and n not in listed]
        if extra:
            raise DataError(f"{path}:{extra[0]}", "member not in the manifest (the pack was edited)")
        if len(set(names)) != len(names):
            raise DataError(path, "duplicate member names")
        out = {}
        for name, entry in listed.items():
            if name not in names:
                raise DataError(f"{path}:{name}", "member listed in the manifest is missing")
            data = member(name)
            if len(data) != entry.get("size") or sha256_of(data) != entry.get("sha256"):
                raise DataError(f"{path}:{name}", "member does not match its size/sha256 in the manifest "
                                "(the pack was edited or damaged)")
            out[name] = data
    for role in REQUIRED:
        if MEMBERS[role] not in out:
            raise DataError(f"{path}:{MEMBERS[role]}", "missing: a pack needs it")
    for name in (PACK_INFO, *LISTS):
        if name not in out:
            raise DataError(f"{path}:{name}", "missing: a pack needs it")
    return out


def bytes_io(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)
