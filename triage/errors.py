"""Errors a user can act on, and the redaction that keeps row content out of them.

Parsers (polars, pyarrow, the csv module) quote the offending row in their
messages. A leak's rows are exactly what must never reach a terminal or a log,
so every message from a third-party parser goes through :func:`redact` before
it can be shown, and user-facing failures are :class:`TriageError`: one line,
naming the file and the place, never the content.
"""

from __future__ import annotations

import re


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
        prefix = ": ".join([", ".join(where)]) + ": " if where else ""
        super().__init__(f"{prefix}{message}")


class PartialInputError(TriageError):
    """The input ended early (a truncated archive); what was read is still counted."""


# Anything quoted, and anything after "line:"/"row:"-style markers, may be row content.
_QUOTED = re.compile(r"(\"[^\"]*\"|'[^']*'|`[^`]*`)")
_AFTER_MARKER = re.compile(r"((?:line|row|record|value|field|content)s?\s*[:=]).*", re.IGNORECASE)


def redact(message: str, limit: int = 160) -> str:
    """Return a parser message with anything that could be row content removed.

    Keeps the parser's own words (what went wrong), drops quoted fragments and
    whatever follows a marker that introduces row text, and keeps one line.
    """
    first_line = message.strip().splitlines()[0] if message.strip() else ""
    text = _QUOTED.sub("<redacted>", first_line)
    text = _AFTER_MARKER.sub(r"\1 <redacted>", text)
    # Digits runs long enough to be identifiers (phones, NIR, SSN) are dropped too.
    text = re.sub(r"\d{5,}", "<redacted>", text)
    text = re.sub(r"\S+@\S+", "<redacted>", text)
    return text[:limit]
