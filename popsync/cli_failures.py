"""How a command ends when something fails: one ``error:`` line naming the cause (masked, no
traceback) and an exit code that tells usage, input, quality block, infrastructure and bugs
apart (``popsync.core.errors``; README "Exit codes")."""

from __future__ import annotations

import os
import sys
import traceback

import click

from popsync.core.errors import EXIT_OK, EXIT_USAGE
from popsync.core.privacy import error_text
from popsync.failures import describe_failure

# Interrupted by the operator (Ctrl-C, SIGTERM through click): the shell's convention.
EXIT_INTERRUPTED = 130


def exit_with(error: BaseException) -> None:
    """Print the ``error:`` line (and the traceback when ``POPSYNC_DEBUG`` is set), then exit
    with the error's code."""
    code, message = describe_failure(error)
    if os.environ.get("POPSYNC_DEBUG"):
        traceback.print_exception(error, file=sys.stderr)
    click.secho(f"error: {message}", fg="red", err=True)
    for note in getattr(error, "__notes__", ()):
        click.echo(f"  ({error_text(note)})", err=True)
    sys.exit(code)


class PopsyncGroup(click.Group):
    """Click's group, ending every command as ``exit_with`` says: usage errors exit 1 (click's
    own default is 2, which popsync keeps for bad input)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.Exit as done:
            sys.exit(done.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except click.ClickException as wrong:
            wrong.show()
            sys.exit(EXIT_USAGE if isinstance(wrong, click.UsageError) else wrong.exit_code)
        except SystemExit:
            raise
        except Exception as error:
            exit_with(error)
        sys.exit(EXIT_OK)
