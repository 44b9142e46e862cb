"""The ``triage`` command line: a thin click layer over the library.

Only this package imports click. Each command lives in its own module, listed in
:data:`COMMANDS`; library failures arrive as :class:`~triage.errors.TriageError`
and leave as one line on stderr with exit code 2. Any other exception is a bug:
it is reported by type only (its message may quote row content), exit code 3.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from triage import __version__
from triage.allocator import keep_freed_memory
from triage.errors import TriageError

#: Modules of triage.cli that each define ``command`` (a click command or group).
COMMANDS = ["profile", "decrypt", "keygen", "lookup", "serve", "overlap", "synth", "detect", "eval", "scan", "index"]


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

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except TriageError as exc:
            click.echo(f"triage: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:
            # The reader went away (`triage ... | head`): stop quietly, as Unix tools do.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(141)
        except KeyboardInterrupt:
            click.echo("triage: interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # never print a traceback: it may quote data
            if os.environ.get("TRIAGE_DEBUG") == "1":
                raise
            click.echo(f"triage: internal error ({type(exc).__name__}); details withheld "
                       "because they may quote the input. Set TRIAGE_DEBUG=1 to see them.",
                       err=True)
            sys.exit(3)


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
