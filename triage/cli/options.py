"""Options and checks shared by the commands (not a command itself)."""

from __future__ import annotations

import itertools
import math
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from triage.errors import TriageError

allow_partial_option = click.option(
    "--allow-partial", is_flag=True,
    help="Keep the rows read before a truncated compressed file or archive breaks, instead "
         "of failing (exit 0, with a warning).")


def warn_of_lost_rows(results: Iterable) -> None:  # type: ignore[type-arg]
    """One warning line per truncated source that --allow-partial kept, and per source
    none of whose rows could be read (every one rejected: a file that is not what its
    name says, say), which the counts alone would leave for the reader to notice."""
    for result in results:
        name, accounting = result.info.name, result.accounting
        if getattr(result.info, "truncated_at_byte", None) is not None:
            click.echo(f"triage: warning: {name}: input ends early (truncated) "
                       f"after {accounting.read:,} rows; kept them (--allow-partial)",
                       err=True)
        # A title block above a table is counted, as rejected, but no loss of rows.
        if accounting.read > accounting.reasons["preamble"] and not accounting.parsed:
            reasons = ", ".join(f"{reason} {count:,}" for reason, count
                                in accounting.reasons.most_common(3))
            click.echo(f"triage: warning: {name}: none of its {accounting.read:,} rows could "
                       f"be read ({reasons})", err=True)


class FiniteFloatRange(click.FloatRange):
    """A FloatRange that also refuses nan and inf: nan compares false with any bound, so
    FloatRange lets it through, and an infinite latency or rate is no setting."""

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


class Region(click.ParamType):
    """An ISO 3166 region code that phonenumbers knows, upper-cased: it sets the default
    phone region and date order, and an unknown one would silently parse no phone."""

    name = "REGION"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        # Imported when an option is given, not when the CLI starts.
        from phonenumbers import SUPPORTED_REGIONS

        code = value.strip().upper()
        if code not in SUPPORTED_REGIONS:
            self.fail("not a region phonenumbers supports; give an ISO 3166-1 alpha-2 code "
                      "such as FR, DE, GB or US (list them: python -c \"import phonenumbers; "
                      "print(sorted(phonenumbers.SUPPORTED_REGIONS))\")", param, ctx)
        return code


@contextmanager
def os_errors_as_one_line(what: str, where: str | Path) -> Iterator[None]:
    """An OSError inside (an output that cannot be written) as a TriageError naming the
    file and the system's reason: never a traceback, never an internal error."""
    try:
        yield
    except OSError as exc:
        raise TriageError(f"cannot {what} ({exc.strerror or type(exc).__name__})",
                          path=str(exc.filename or where)) from None


def check_output_dir(outdir: str, files: Iterable[str] = ()) -> None:
    """Refuse, before a pass that may take hours, an output directory that cannot be
    created or written, or that holds something other than a file under one of the
    names ``files`` will be written to. Folders created to find out are removed again:
    a scan that fails on its input leaves nothing behind."""
    out = Path(outdir)
    missing = list(itertools.takewhile(lambda folder: not folder.exists(),
                                       (out, *out.parents)))
    created: list[Path] = []
    try:
        with os_errors_as_one_line("create the output directory", outdir):
            for folder in reversed(missing):
                folder.mkdir()
                created.append(folder)
        # A file actually created: permission bits say nothing to root, nor about a
        # read-only mount or /proc. Its random name is not worth showing.
        try:
            with tempfile.TemporaryFile(dir=out):
                pass
        except OSError as exc:
            raise TriageError(f"cannot write in the output directory ({exc.strerror})",
                              path=outdir) from None
        for name in files:
            if (out / name).exists() and not (out / name).is_file():
                raise TriageError("is in the way of an output file (not a regular file)",
                                  path=str(out / name))
    finally:
        for folder in reversed(created):
            folder.rmdir()
