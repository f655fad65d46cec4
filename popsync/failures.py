"""What an error that ended a run or a command was, for the people who read it: the exit code of
its kind (``popsync.core.errors``) and one masked line naming the cause. The CLI prints it; the
run record keeps it."""

from __future__ import annotations

import errno

from popsync.core.errors import EXIT_INFRASTRUCTURE, EXIT_INTERNAL, UserError
from popsync.core.privacy import error_text, mask_patterns

_DISK_ERRORS = {errno.ENOSPC: "the disk is full", errno.EROFS: "the file system is read-only",
                errno.EACCES: "permission denied", errno.EPERM: "permission denied",
                errno.EDQUOT: "the disk quota is exceeded"}  # fmt: skip


def describe_failure(error: BaseException) -> tuple[int, str]:
    """The exit code and the one-line message of an error that ended a command."""
    if isinstance(error, UserError):
        return error.exit_code, error_text(error)
    from popsync.warehouse.failures import database_failure

    named = database_failure(error)
    if named is not None:
        return named.exit_code, error_text(named)
    if isinstance(error, OSError):
        what = _DISK_ERRORS.get(error.errno, error.strerror or type(error).__name__)
        where = f" ({error.filename})" if error.filename else ""
        return EXIT_INFRASTRUCTURE, mask_patterns(f"cannot write or read a file: {what}{where}")
    if isinstance(error, MemoryError):
        return EXIT_INFRASTRUCTURE, "out of memory"
    return EXIT_INTERNAL, (
        f"internal error ({type(error).__name__}: {error_text(error)}); please report it "
        "(POPSYNC_DEBUG=1 shows where it happened)"
    )
