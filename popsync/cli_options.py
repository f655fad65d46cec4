"""What the commands share: the sources as choices, how a user-facing error ends a command,
the ``--database-url`` / ``--workdir`` options and the resources and warehouse they give."""

from __future__ import annotations

import click

from popsync.core.errors import UserError
from popsync.core.sources import load_catalog

SOURCES = tuple(load_catalog())
EXTRACT_SOURCES = tuple(spec.id for spec in load_catalog().extracts)
SOURCE_CHOICE = click.Choice(SOURCES)
EXTRACT_CHOICE = click.Choice(EXTRACT_SOURCES)


def fail(error: Exception) -> None:
    """Known, user-facing errors end with a one-line message and their exit code
    (``cli_failures``), not a traceback."""
    from popsync.cli_failures import exit_with

    exit_with(error)


def database_options(workdir_help: str):
    """``--database-url`` and ``--workdir``: where ``popsync run`` loads, where the review
    commands read. Unset, they come from the environment (``popsync.resources``)."""

    def add(command):
        command = click.option(
            "--workdir",
            default=None,
            help=workdir_help + " Folder or fsspec URL (default: $POPSYNC_WORKDIR, else .popsync).",
        )(command)
        return click.option(
            "--database-url",
            default=None,
            help="postgresql://... (default: $POPSYNC_DATABASE_URL, else the embedded database).",
        )(command)

    return add


def resources(database_url=None, workdir=None, lock_timeout=None):
    """The resources of this command, made once here (the edge)."""
    from popsync.resources import Resources

    return Resources.from_environment(
        database_url=database_url, workdir=workdir, lock_timeout=lock_timeout
    )


def open_warehouse(database_url, workdir, res=None):
    """The warehouse ``popsync run`` loaded into, migrated to the current schema."""
    res = res or resources(database_url, workdir)
    if not res.database_url and not res.has_embedded_database:
        raise UserError(
            f"no embedded database in {res.workarea.url}: run 'popsync run' first "
            "(or give --database-url / POPSYNC_DATABASE_URL)"
        )
    store = res.warehouse()
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store
