"""Errors a user can act on, worded so that row content never reaches them.

Parsers (polars, pyarrow, the csv module) quote the offending row in their
messages. A leak's rows are exactly what must never reach a terminal or a log,
so no parser message is ever shown: readers catch parser failures and raise a
:class:`TriageError` of their own words, one line naming the file and the line
or byte offset. Anything else reaching the CLI is reported by its type only.
"""

from __future__ import annotations


class TriageError(Exception):
    """A failure the user can fix; the CLI prints it as one line and exits 2."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 offset: int | None = None) -> None:
        self.path = path
        self.line = line
        self.offset = offset
        self.detail = message
        where = []
        if path is not None:
            where.append(str(path))
        if line is not None:
            where.append(f"line {line}")
        if offset is not None:
            where.append(f"byte {offset}")
        prefix = ", ".join(where) + ": " if where else ""
        super().__init__(f"{prefix}{message}")


class PartialInputError(TriageError):
    """The input ended early (a truncated archive); what was read is still counted."""
