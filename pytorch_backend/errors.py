"""Errors that name where the bad input is (file, line, utterance, config key)."""

from __future__ import annotations


class EmottsError(Exception):
    """Base class of all errors raised on bad user input."""


class DataError(EmottsError):
    """A problem in a data file: names the file and, where known, the line and utterance."""

    def __init__(self, path, message: str, line: int | None = None, utt: str | None = None):
        self.path = str(path)
        self.line = line
        self.utt = utt
        self.message = message
        where = self.path
        if line is not None:
            where += f":{line}"
        if utt is not None:
            where += f" (utterance {utt})"
        super().__init__(f"{where}: {message}")

    def __reduce__(self):  # picklable, so errors cross process boundaries (worker pools)
        return (self.__class__, (self.path, self.message, self.line, self.utt))


class ConfigError(EmottsError):
    """A problem in a config file: names the file and the key path."""

    def __init__(self, path, message: str, key: str | None = None):
        self.path = str(path)
        self.key = key
        self.message = message
        where = self.path
        if key:
            where += f": key '{key}'"
        super().__init__(f"{where}: {message}")

    def __reduce__(self):
        return (self.__class__, (self.path, self.message, self.key))
