"""One helper behind every registry of components chosen by name in a config.

A :class:`Registry` maps registry names to classes (``pytorch_backend.tts.MODELS``,
``pytorch_backend.vocoders.VOCODERS``, ``pytorch_backend.ser.CLASSIFIERS``,
``pytorch_backend.text.TOKENIZERS``). It reads like a read-only dict (``in``, ``[]``, ``get``,
``items``...); entries are added with :meth:`Registry.register`. Building checks the name, then
every keyword of the conf against the constructor (walking up ``**kwargs`` to the base classes
that receive them), then calls the class; each failure is a ConfigError naming the conf file and
the key, and an unknown name or keyword lists the known ones::

    MODELS = Registry("model", name_key="model", conf_key="model_conf",
                      data_args=("num_tokens", "num_speakers", "num_emotions", "n_mels"))
    MODELS.register("gst", GSTTacotron2)
    MODELS.build("gst", {"style_dim": 64}, "conf/tts/gst.yaml", 40, 2, 5, 80)
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping

from pytorch_backend.errors import ConfigError


def constructor_keywords(cls: type) -> set[str]:
    """The keyword names ``cls(...)`` accepts: the named parameters of its ``__init__`` and, while
    that forwards ``**kwargs``, those of the base classes' ``__init__`` up the MRO."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass is object:
            break
        if "__init__" not in vars(klass):
            continue
        params = inspect.signature(klass.__init__).parameters
        names.update(n for n, p in params.items()
                     if n != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            break
    return names


class Registry(Mapping):
    """Registry names -> classes of one kind of component.

    ``kind`` names the component in messages ("model", "vocoder", ...); ``name_key`` is the conf
    key that holds the registry name and ``conf_key`` the one that holds the keyword dict (both
    as error messages name them, e.g. ``ser.model`` / ``ser.model_conf``); ``data_args`` are
    constructor arguments that come from the data or the caller, never from the conf.
    """

    def __init__(self, kind: str, *, name_key: str = "name", conf_key: str = "conf",
                 data_args: tuple[str, ...] = ()):
        self.kind, self.name_key, self.conf_key = kind, name_key, conf_key
        self.data_args = tuple(data_args)
        self._classes: dict[str, type] = {}

    # -- mapping ---------------------------------------------------------------------------
    def __getitem__(self, name: str) -> type:
        return self._classes[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._classes)

    def __len__(self) -> int:
        return len(self._classes)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {sorted(self._classes)})"

    def register(self, name: str, cls: type | None = None):
        """Add ``cls`` under ``name`` (also usable as a class decorator: ``@REG.register("x")``)."""
        def add(klass: type) -> type:
            if name in self._classes and self._classes[name] is not klass:
                raise ValueError(f"{self.kind} '{name}' is already registered ({self._classes[name].__name__})")
            self._classes[name] = klass
            return klass

        return add(cls) if cls is not None else add

    # -- building --------------------------------------------------------------------------
    def known(self) -> str:
        return ", ".join(sorted(self._classes))

    def lookup(self, name: str, source="<conf>") -> type:
        """The class registered as ``name``; else a ConfigError naming ``source`` and ``name_key``."""
        if name not in self._classes:
            raise ConfigError(source, f"unknown {self.kind} '{name}' (known: {self.known()})", key=self.name_key)
        return self._classes[name]

    def keywords(self, name: str) -> set[str]:
        """The conf keywords the class of ``name`` accepts (its constructor's, less ``data_args``)."""
        return constructor_keywords(self._classes[name]) - set(self.data_args)

    def check_keywords(self, name: str, conf: dict | None, source="<conf>") -> None:
        """A ConfigError naming ``source`` and ``<conf_key>.<key>`` for the first keyword of
        ``conf`` that the class of ``name`` does not accept (the message lists those it does)."""
        self.lookup(name, source)
        known = self.keywords(name)
        for key in conf or {}:
            if key not in known:
                raise ConfigError(source, f"unknown keyword of {self.kind} '{name}' "
                                          f"(known: {', '.join(sorted(known))})", key=f"{self.conf_key}.{key}")

    def build(self, name: str, conf: dict | None, source="<conf>", *args, **data):
        """``cls(*args, **data, **conf)`` for the class of ``name``, after checking the name and the
        keywords of ``conf``; a TypeError or ValueError the constructor raises on a value becomes a
        ConfigError naming ``source`` and ``conf_key``."""
        cls = self.lookup(name, source)
        conf = dict(conf or {})
        self.check_keywords(name, conf, source)
        try:
            return cls(*args, **data, **conf)
        except (TypeError, ValueError) as exc:
            raise ConfigError(source, f"invalid {self.conf_key} for {self.kind} '{name}': {exc}",
                              key=self.conf_key) from None
