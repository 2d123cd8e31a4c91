"""The one exception type for mistakes a user can make (bad model name, parameter, flag, file).

Every such error names where the bad value came from (a file, a flag such as ``--set``) and
which field, so that the CLI can print it on one line and exit with status 2.
"""

from __future__ import annotations


class HyosanError(ValueError):
    """A user-caused error: names the source (file or flag) and the field at fault."""

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None):
        self.message = message
        self.source = source
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ": ".join(part for part in (self.source, self.field) if part)
        return f"{where}: {self.message}" if where else self.message
