"""The error of a bad synthesis request: it names the field (the command-line option, API
argument or server form field) and, for text, where in it (file, line, column)."""

from __future__ import annotations

from pytorch_backend.errors import EmottsError


class RequestError(EmottsError):
    """A synthesis request that cannot be honoured.

    ``field``: the request field at fault (``text``, ``emotion``, ``intensity``, ``mix``,
    ``speaker``, ``reference_wav``, ...); ``source``: what the text came from (``--text``, a
    text file); ``line`` / ``column``: 1-based position in that text.
    """

    def __init__(self, field: str, message: str, source: str | None = None, line: int | None = None,
                 column: int | None = None):
        self.field = field
        self.message = message
        self.source = None if source is None else str(source)
        self.line = line
        self.column = column
        where = self.source or ""
        if line is not None:
            where += f":{line}" if where else f"line {line}"
        if column is not None:
            where += f", column {column}" if where else f"column {column}"
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}{field}: {message}")

    def __reduce__(self):
        return (self.__class__, (self.field, self.message, self.source, self.line, self.column))

    def at(self, source=None, line: int | None = None, column_offset: int = 0) -> "RequestError":
        """The same error placed in its source (a text file line; columns shifted by the prefix)."""
        column = None if self.column is None else self.column + column_offset
        return RequestError(self.field, self.message, source if source is not None else self.source,
                            line if line is not None else self.line, column)
