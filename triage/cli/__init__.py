"""The ``triage`` command line: a thin click layer over the library.

Only this package imports click. Each command lives in its own module, listed in
:data:`COMMANDS`; library failures arrive as :class:`~triage.errors.TriageError`
and leave as one line on stderr with exit code 2, as do usage errors (a bad option
value, a missing argument). Any other exception is a bug: it is reported by type
only (its message may quote row content), exit code 3.
"""

from __future__ import annotations

import errno
import importlib
import os
import sys

import click

from triage import __version__
from triage.allocator import keep_freed_memory
from triage.errors import TriageError

#: Errors of a write with no room left (a full disk, a quota, a file size limit).
_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})

#: Modules of triage.cli that each define ``command`` (a click command or group).
COMMANDS = ["profile", "decrypt", "keygen", "lookup", "serve", "overlap", "synth", "detect", "eval", "scan", "index"]


class _UsageLine(click.ClickException):
    """A usage error as one line, like a TriageError, rather than click's usage block."""

    exit_code = 2

    def show(self, file=None) -> None:  # type: ignore[no-untyped-def]
        click.echo(f"triage: error: {self.format_message()}", err=True)


def _one_line(exc: click.UsageError) -> click.ClickException:
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        return exc  # a bare `triage keygen` asks for the help, which is many lines
    hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
    return _UsageLine(exc.format_message() + hint)


def _internal_error_name(exc: Exception) -> str:
    # A cluster task's failure arrives as TaskFailed, whose message is the task's own
    # exception type and task name (never its text): shown as one machine shows its type.
    # The module is loaded whenever such an exception exists.
    tasks = sys.modules.get("triage.cluster.tasks")
    if tasks is not None and isinstance(exc, tasks.TaskFailed):
        return str(exc)
    return type(exc).__name__


class _Group(click.Group):
    """Commands are imported when used: start-up stays fast (no server or crypto
    imports for ``triage profile``), and each command's dependencies load alone."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        try:
            return importlib.import_module(f"triage.cli.{cmd_name}").command
        except ImportError as exc:
            return _unavailable(cmd_name, exc)

    def make_context(self, *args, **kwargs) -> click.Context:  # type: ignore[no-untyped-def]
        try:  # the group's own options (`triage --bogus`)
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            raise _one_line(exc) from None

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except TriageError as exc:
            click.echo(f"triage: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except click.UsageError as exc:  # a command's options and arguments
            raise _one_line(exc) from None
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:
            # The reader went away (`triage ... | head`): stop quietly, as Unix tools do.
            _drop_stdout()
            sys.exit(141)
        except KeyboardInterrupt:
            click.echo("triage: interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # never print a traceback: it may quote data
            if os.environ.get("TRIAGE_DEBUG") == "1":
                raise
            if isinstance(exc, OSError) and exc.errno in _NO_ROOM:
                # Only a write fails so; with no file named, it is stdout's (`> /dev/full`).
                if exc.filename is None:
                    _drop_stdout()
                click.echo(f"triage: error: {exc.filename or 'standard output'}: cannot "
                           f"write ({exc.strerror})", err=True)
                sys.exit(2)
            click.echo(f"triage: internal error ({_internal_error_name(exc)}); details withheld "
                       "because they may quote the input. Set TRIAGE_DEBUG=1 to see them.",
                       err=True)
            sys.exit(3)


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush of what could not
    be written adds no second message at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _unavailable(name: str, exc: ImportError) -> click.Command:
    """A stand-in for a command whose module cannot be imported (a broken install)."""
    reason = f"{type(exc).__name__} in its dependencies; reinstall triage"

    def fail() -> None:
        raise TriageError(f"command {name!r} is unavailable: {reason}")

    return click.Command(name, callback=fail, help=f"(unavailable: {reason})")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="triage")
def main() -> None:
    """Size a leaked dataset in one streaming pass, without making a second leak."""


def run() -> None:
    """The ``triage`` program: the process's allocator policy, then the commands.
    (Tests call :func:`main` itself, leaving their own process as it is.)"""
    keep_freed_memory()
    main()
