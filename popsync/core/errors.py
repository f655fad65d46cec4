"""Errors a user can act on, and the exit code each kind ends a command with. The CLI prints
their message in one ``error:`` line, without a traceback.

Exit codes (README, "Exit codes"): a scheduler tells a typo from a bad file, a blocked batch
and a database that is down by the code alone.
"""

EXIT_OK = 0
EXIT_USAGE = 1  # the command was called wrongly (options, arguments)
EXIT_INPUT = 2  # an input file or setting is wrong (unreadable, wrong encoding, missing column)
EXIT_BLOCKED = 3  # a quality rule of severity ``block`` stopped the batch
EXIT_INFRASTRUCTURE = 4  # the database, the disk or a lock failed: run again when it is fixed
EXIT_INTERNAL = 5  # a bug: the error is reported as it is


class UserError(Exception):
    """Bad input or configuration, explained in the message (file, column, rule, count)."""

    exit_code = EXIT_INPUT
    # What the run record says became of a run this error stopped.
    run_status = "failed"


class UsageError(UserError):
    """A command called wrongly: a missing or contradictory option."""

    exit_code = EXIT_USAGE


class QualityBlocked(UserError):
    """A block-severity quality rule stopped the batch: nothing of it is loaded."""

    exit_code = EXIT_BLOCKED
    run_status = "blocked"


class InfrastructureError(UserError):
    """The database, the disk or a lock failed; the input may be fine. The message names the
    cause (server down, connection lost, too many connections, disk full, lock held)."""

    exit_code = EXIT_INFRASTRUCTURE


class LockTimeout(InfrastructureError):
    """Another run held a lock longer than the lock timeout."""


class InternalError(UserError):
    """Something popsync should not have done (a statement the database refused for no fault of
    the data or the server): reported in one line, exit code 5."""

    exit_code = EXIT_INTERNAL
