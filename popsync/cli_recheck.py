"""``popsync recheck``: the rows a register change flagged, linked again with no new file (the
same step as the extract DAGs' ``recheck`` task, ``pipeline.recheck_run``), one line per source.

Exit codes: 0 every source re-checked (or nothing flagged); otherwise the code of the worst
failure (2 bad input, 3 blocked, 4 database / disk, 5 internal), after the other sources ran.
A failed re-check leaves its run record (kind ``recheck``) with the cause."""

from __future__ import annotations

import sys

import click

from popsync.cli_options import EXTRACT_SOURCES, database_options, fail, resources
from popsync.core.errors import UserError


@click.command()
@click.argument("sources", nargs=-1, type=click.Choice(EXTRACT_SOURCES))
@click.option("--date", "run_date", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Day of the post-link rules and the status (default: the later of the "
              "register load's and the source's latest batch's).")  # fmt: skip
@database_options("Where the register's cache, the models and the embedded database are.")
def recheck(sources, run_date, database_url, workdir):
    """Link again the rows of SOURCE (default: every extract source) that a register change
    flagged, against the register the database holds now; refresh the status of the people it
    touched (the next 'popsync publish' carries them)."""
    from popsync.failures import describe_failure
    from popsync.pipeline.recheck_run import recheck_source, summary_line

    try:
        res = resources(database_url, workdir)
        if not res.database_url and not res.has_embedded_database:
            raise UserError(f"no embedded database in {res.workarea.url}: run 'popsync run' "
                            "first (or give --database-url / POPSYNC_DATABASE_URL)")  # fmt: skip
    except UserError as error:
        fail(error)
    day = run_date.date().isoformat() if run_date else None
    worst = 0
    for source in sources or EXTRACT_SOURCES:
        try:
            done = recheck_source(res, source, day)
        except Exception as error:  # this source's re-check: the others still go on
            code, message = describe_failure(error)
            click.secho(f"recheck {source}: FAILED: {message}", fg="red", err=True)
            worst = max(worst, code)
            continue
        click.echo(summary_line(done).removeprefix("recheck "))
    sys.exit(worst)
