"""Errors a user can act on: the CLI prints their message in one line, without a traceback."""


class UserError(Exception):
    """Bad input or configuration, explained in the message (file, column, rule, count)."""
