"""Import pysptk and pyworld on a setuptools without ``pkg_resources``.

pysptk 1.0.1 and pyworld 0.3.5 import ``pkg_resources`` at import time, only to read
their own version and the path of an example file. setuptools >= 81 no longer ships
that module (pyproject.toml pins setuptools 80 for now; its import warns of the deprecation,
which we silence). When it is missing we register a tiny stand-in that answers those two
questions from ``importlib.metadata`` / ``importlib.resources``; the analysis code of
both libraries never touches it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.resources
import sys
import types
import warnings


def _install_pkg_resources_shim() -> None:
    try:
        with warnings.catch_warnings():  # setuptools 80 warns that pkg_resources is deprecated
            warnings.simplefilter("ignore", UserWarning)
            importlib.import_module("pkg_resources")
        return
    except ModuleNotFoundError:
        pass
    shim = types.ModuleType("pkg_resources")
    shim.__doc__ = "emotts stand-in: get_distribution().version and resource_filename() only"

    def get_distribution(name):
        return types.SimpleNamespace(project_name=name, version=importlib.metadata.version(name))

    def resource_filename(package, resource):
        return str(importlib.resources.files(package) / resource)

    shim.get_distribution = get_distribution
    shim.resource_filename = resource_filename
    sys.modules["pkg_resources"] = shim


def import_pysptk():
    """Return the ``pysptk`` module."""
    _install_pkg_resources_shim()
    return importlib.import_module("pysptk")


def import_pyworld():
    """Return the ``pyworld`` module."""
    _install_pkg_resources_shim()
    return importlib.import_module("pyworld")
