"""Imports point down the layers only (docs/ARCHITECTURE.md, "Layers").

Every module of ``steps``, ``local``, ``pipeline`` and ``pytorch_backend`` is parsed with ``ast``;
each import in it (module level and inside functions, absolute and relative) is checked against
``LAYERS``, the one declaration of the order. A module may import its own package (sideways
within a package) and any package of a lower rank; anything else fails, naming the file, the
line and both modules. Packages that do not exist (yet) are skipped.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Top to bottom. Each entry is one rank; packages of one rank are peers and may not import each
# other. A module belongs to the longest package name it starts with.
LAYERS: list[tuple[str, ...]] = [
    # entry points and corpus readers (steps may call a corpus reader; local never imports steps)
    ("steps",),
    ("local",),
    # the workflow layer: config resolution, per-rule slices, the table of DAG paths, launchers
    ("pipeline",),
    # the library, highest to lowest
    ("pytorch_backend.synth",),
    ("pytorch_backend.eval",),
    ("pytorch_backend.vocoders",),
    ("pytorch_backend.tts",),
    ("pytorch_backend.ser", "pytorch_backend.asr"),  # the judges: emotion classifier, recognizer
    ("pytorch_backend.train",),  # the training skeleton every trainer above builds on
    ("pytorch_backend.text",),
    # data and features (a dataset reads features, never the reverse)
    ("pytorch_backend.data",),
    ("pytorch_backend.feats", "pytorch_backend.plots", "pytorch_backend.espeak"),
    # ground floor
    ("pytorch_backend.config",),
    ("pytorch_backend.io",),
    ("pytorch_backend.utils",),
    ("pytorch_backend.errors",),
    ("pytorch_backend",),  # the library's own __init__ (a docstring): that module only
]
ROOTS = ("steps", "local", "pipeline", "pytorch_backend")
ONLY_ITSELF = {"pytorch_backend"}  # declared names that stand for one module, not a package's tree


def rank_of(module: str, layers=LAYERS) -> tuple[int, str] | None:
    """(rank, package) of the longest declared package ``module`` is or lies in; None if none."""
    best = None
    for rank, packages in enumerate(layers):
        for pkg in packages:
            inside = module == pkg or (pkg not in ONLY_ITSELF and module.startswith(pkg + "."))
            if inside and (best is None or len(pkg) > len(best[1])):
                best = (rank, pkg)
    return best


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str, root: Path) -> bool:
    base = root.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports_of(path: Path, root: Path, roots=ROOTS):
    """(line, imported module) of every import of ``path`` that names one of ``roots``.

    ``from a.b import c`` counts as importing ``a.b.c`` when that is a module, else ``a.b``."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".") if package else []
                base_parts = base_parts[:len(base_parts) - (node.level - 1)] if node.level > 1 else base_parts
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            targets = []
            for alias in node.names:
                sub = f"{base}.{alias.name}" if base else alias.name
                targets.append((node.lineno, sub if is_module(sub, root) else base))
        else:
            continue
        for line, name in targets:
            if name.split(".")[0] in roots:
                yield line, name


def python_files(root: Path, roots=ROOTS):
    for top in roots:
        base = root / top
        if base.is_dir():
            yield from sorted(p for p in base.rglob("*.py") if "__pycache__" not in p.parts)
        elif base.with_suffix(".py").is_file():
            yield base.with_suffix(".py")


def check_layers(root: Path, layers=LAYERS, roots=ROOTS) -> tuple[list[str], list[str]]:
    """(upward or sideways imports, modules in no layer), each as a readable line."""
    bad, undeclared = [], []
    for path in python_files(root, roots):
        module = module_name(path, root)
        mine = rank_of(module, layers)
        rel = path.relative_to(root)
        if mine is None:
            undeclared.append(f"{rel}: module {module} is in no layer of LAYERS")
            continue
        for line, target in imports_of(path, root, roots):
            theirs = rank_of(target, layers)
            if theirs is None or theirs[1] == mine[1]:
                continue  # an undeclared target is reported as its own module; same package is fine
            if theirs[0] <= mine[0]:
                how = "a peer" if theirs[0] == mine[0] else "a higher layer"
                bad.append(f"{rel}:{line}: {module} (layer {mine[1]}) imports {target} "
                           f"(layer {theirs[1]}, {how})")
    return bad, undeclared


def test_imports_point_down_the_layers():
    bad, _ = check_layers(REPO)
    assert not bad, "imports that do not point down the layers:\n" + "\n".join(bad)


def test_every_module_is_in_a_layer():
    _, undeclared = check_layers(REPO)
    assert not undeclared, "\n".join(undeclared)


def test_the_walk_sees_the_library():
    files = list(python_files(REPO))
    modules = {module_name(p, REPO) for p in files}
    assert {"steps.decode", "pytorch_backend.tts.inference", "pytorch_backend.io.kaldi_map"} <= modules
    assert len(files) > 100


def write(root: Path, rel: str, text: str = "") -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_checker_names_file_line_and_both_modules(tmp_path):
    layers = [("top",), ("mid",), ("low.a", "low.b"), ("low",)]
    roots = ("top", "mid", "low")
    for pkg in ("top", "mid", "low", "low/a", "low/b"):
        write(tmp_path, f"{pkg}/__init__.py")
    write(tmp_path, "top/run.py", "import mid.m\nfrom low.a import x\n")
    write(tmp_path, "mid/m.py", "from mid import other\n\n\ndef f():\n    from top import run\n")
    write(tmp_path, "mid/other.py", "")
    write(tmp_path, "low/a/x.py", "from . import y\nfrom ..b import z\n")
    write(tmp_path, "low/a/y.py", "from low.util import thing\n")
    write(tmp_path, "low/b/z.py", "")
    write(tmp_path, "low/util.py", "import top.run as r\n")
    write(tmp_path, "stray.py", "")
    write(tmp_path, "mid/deep/__init__.py", "from .. import other\nfrom ..other import q\nimport top\n")
    assert list(imports_of(tmp_path / "mid/deep/__init__.py", tmp_path, roots)) == [
        (1, "mid.other"), (2, "mid.other"), (3, "top")]
    assert list(imports_of(tmp_path / "low/a/x.py", tmp_path, roots)) == [(1, "low.a.y"), (2, "low.b.z")]
    bad, undeclared = check_layers(tmp_path, layers, roots + ("stray",))
    assert sorted(bad) == [
        "low/a/x.py:2: low.a.x (layer low.a) imports low.b.z (layer low.b, a peer)",
        "low/util.py:1: low.util (layer low) imports top.run (layer top, a higher layer)",
        "mid/deep/__init__.py:3: mid.deep (layer mid) imports top (layer top, a higher layer)",
        "mid/m.py:5: mid.m (layer mid) imports top.run (layer top, a higher layer)",  # a function-level import
    ]
    assert undeclared == ["stray.py: module stray is in no layer of LAYERS"]


def test_rank_of_takes_the_longest_declared_package():
    assert rank_of("pytorch_backend.tts.inference") == (LAYERS.index(("pytorch_backend.tts",)), "pytorch_backend.tts")
    assert rank_of("pytorch_backend")[1] == "pytorch_backend"
    assert rank_of("pytorch_backend.newpkg.x") is None  # a new package must be declared
    assert rank_of("pytorch_backend.espeak")[1] == "pytorch_backend.espeak"
    assert rank_of("pytorch_backend_extra") is None and rank_of("numpy") is None
    with pytest.raises(ValueError):
        LAYERS.index(("pytorch_backend.dag",))  # the workflow layer is not part of the library
