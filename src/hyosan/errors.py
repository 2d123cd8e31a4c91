"""The one exception type for mistakes a user can make (bad model name, parameter, flag, file).

Every such error names where the bad value came from (a file, a flag such as ``--set``) and
which field, so that the CLI can print it on one line and exit with status 2.
"""

from __future__ import annotations

import re


class HyosanError(ValueError):
    """A user-caused error: names the source (file or flag) and the field at fault."""

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None):
        self.message = message
        self.source = source
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ": ".join(part for part in (self.source, self.field) if part)
        text = f"{where}: {self.message}" if where else self.message
        # One line, whatever a file or flag held: control characters (a newline in a key, a
        # terminal escape) are shown escaped.
        return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
