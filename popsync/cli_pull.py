"""``popsync pull``, ``popsync backfill`` and ``popsync rerun``: extracts taken from where they
live (``popsync.pull``), one short line per file or table slice.

Exit codes: 0 every item loaded (or nothing new); 2 a usage or input error (as every command;
a source whose landing area or table cannot be read: the other sources still go on);
3 a delivery was blocked by a quality rule or a row count that does not match (nothing of it
loaded); 4 an item failed (a crash, an unreachable database: worth a retry). Blocked and
failed items leave their run record in the warehouse, with the cause."""

from __future__ import annotations

import sys

import click

from popsync.cli_options import EXTRACT_SOURCES, database_options, fail, resources
from popsync.core.errors import EXIT_BLOCKED, EXIT_INFRASTRUCTURE, EXIT_INPUT, UserError

DAY = click.DateTime(["%Y-%m-%d"])


def _line(outcome: dict) -> str:
    """One item: where it came from, its rows, what became of it, its report."""
    from popsync.core.privacy import mask_record_id

    item = outcome.get("item") or {}
    name = outcome["delivery"]
    if item.get("kind") == "table":
        name += f" ({item['watermark_column']} up to {item['watermark_to']})"
    rows = outcome.get("rows")
    text = f"{outcome['source']} {name}: "
    if outcome["outcome"] == "loaded":
        text += (f"{rows['read']:,} rows read = {rows['loaded']:,} loaded + "
                 f"{rows['quarantined']:,} quarantined + {rows['review']:,} review: loaded")  # fmt: skip
    elif outcome["outcome"] == "done":
        text += f"already {outcome['status']} (run {outcome['run_id']}): nothing to do"
    else:
        text += f"{outcome['outcome'].upper()}: {mask_record_id(outcome.get('error') or '')}"
    if outcome.get("report"):
        text += f"\n  report: {outcome['report']}"
    return text


def _exit_code(outcomes: list[dict]) -> int:
    kinds = {o["outcome"] for o in outcomes}
    for kind, code in (
        ("failed", EXIT_INFRASTRUCTURE),
        ("error", EXIT_INPUT),
        ("blocked", EXIT_BLOCKED),
    ):
        if kind in kinds:
            return code
    return 0


def _pull(source, population, run_date, since, until, settle, database_url, workdir):
    from popsync import pull

    res = resources(database_url, workdir)
    run_date = run_date.date() if run_date else None
    sources = EXTRACT_SOURCES if source == "all" else (source,)
    every = [pull.PullSettings.from_environment(res.catalog[s], settle_seconds=settle)
             for s in sources]  # fmt: skip
    every = [s for s in every if s.configured] if source == "all" else every
    if not every:
        raise UserError("no source has a landing area or table configured (POPSYNC_LANDING_*, "
                        "POPSYNC_TABLE_*)")  # fmt: skip
    if population is None:
        register = pull.PullSettings.from_environment(res.catalog.register, settle_seconds=settle)
        if not register.landing:
            raise UserError("no register: give --population FILE or set POPSYNC_LANDING_"
                            f"{res.catalog.register.id.upper()}")  # fmt: skip
        population = pull.fetch_register(res, register)
    outcomes = []
    for settings in every:
        try:
            done = pull.pull_source(res, settings, population, run_date, since, until,
                                    on_outcome=lambda o: click.echo(_line(o)))  # fmt: skip
        except UserError as error:  # this source's configuration: the others go on
            click.secho(f"{settings.source}: error: {error}", fg="red", err=True)
            done = [{"outcome": "error"}]
        if not done:
            click.echo(f"{settings.source}: nothing new")
        outcomes += done
    sys.exit(_exit_code(outcomes))


def _common(command):
    """The options ``pull`` and ``backfill`` share."""
    command = database_options("Where pulled files, reports and the embedded database go.")(command)
    command = click.option(
        "--settle", type=click.FloatRange(min=0), default=None,
        help="Seconds a new file's size and time must stay the same before it is taken "
        "(default: $POPSYNC_SETTLE_SECONDS, else 5).",
    )(command)  # fmt: skip
    command = click.option(
        "--date", "run_date", type=DAY, default=None,
        help="Run date (default: the date in each file's name; today for a table).",
    )(command)  # fmt: skip
    return click.option(
        "--population", default=None,
        help="Register file (default: the newest file of $POPSYNC_LANDING_DAN_CU).",
    )(command)  # fmt: skip


SOURCE = click.argument("source", type=click.Choice((*EXTRACT_SOURCES, "all")))


@click.command()
@SOURCE
@_common
def pull(source, population, run_date, settle, database_url, workdir):
    """Take what is new for SOURCE (or all configured sources): the landing area's files not
    processed yet and the source table's rows above its watermark; run each, once."""
    try:
        _pull(source, population, run_date, None, None, settle, database_url, workdir)
    except UserError as error:
        fail(error)


@click.command()
@SOURCE
@click.option("--from", "since", required=True, type=DAY,
              help="First file date (YYYY-MM-DD).")  # fmt: skip
@click.option("--to", "until", required=True, type=DAY,
              help="Last file date (YYYY-MM-DD).")  # fmt: skip
@_common
def backfill(source, since, until, population, run_date, settle, database_url, workdir):
    """The landing files of SOURCE dated from --from to --to that were not processed yet (files
    already loaded or blocked are left: running it twice does nothing more)."""
    try:
        if until < since:
            raise UserError("--to is before --from")
        _pull(source, population, run_date, since.date(), until.date(), settle, database_url,
              workdir)  # fmt: skip
    except UserError as error:
        fail(error)


@click.command()
@click.argument("run_id")
@database_options("Where the run's pulled input and the embedded database are.")
def rerun(run_id, database_url, workdir):
    """Run the batch of RUN_ID again from what the work area kept (its pulled input, its
    register and run date); its rows replace the earlier run's."""
    from expectations import BatchBlocked
    from popsync import pull

    try:
        res = resources(database_url, workdir)
        outcome = pull.rerun(res, run_id)
    except BatchBlocked as error:
        click.echo(_line({"source": "", "delivery": run_id, "outcome": "blocked",
                          "error": str(error)}).lstrip())  # fmt: skip
        sys.exit(EXIT_BLOCKED)
    except UserError as error:
        fail(error)
    click.echo(_line(outcome))
