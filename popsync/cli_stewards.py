"""The stewards' commands: ``popsync review list | decide | undo`` (the same queue as the web
workspace), ``popsync users add | list | remove`` (who may log in to it) and ``popsync serve``
(the workspace itself). Each calls the warehouse or ``popsync.web``; heavy imports are inside."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from popsync.cli_options import EXTRACT_CHOICE, database_options, fail, open_warehouse, resources
from popsync.core.errors import UserError

_WHERE = "Where the embedded database is (when no database URL is given)."


@click.group()
def review():
    """The rows the linker was unsure of: list them, decide them, undo a decision."""


@review.command("list")
@click.option("--source", type=EXTRACT_CHOICE, default=None, help="Default: every extract.")
@click.option("--district", default=None, help="Only rows of this district code (mã huyện).")
@click.option("--reason", default=None,
              help="several_candidates, one_candidate, no_candidate, or rule:<name>.")  # fmt: skip
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="At most this many rows (each with its candidates).")  # fmt: skip
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True,
              help="Skip this many rows (the next page).")  # fmt: skip
@database_options(_WHERE)
def review_list(source, district, reason, limit, offset, database_url, workdir):
    """The rows waiting for review, each with its declared ID and its ranked candidates, and
    which fields agree (IDs and names masked)."""
    from popsync.report import terminal

    try:
        with open_warehouse(database_url, workdir) as store:
            page = store.review_page(source, district=district, reason=reason, offset=offset,
                                     limit=limit)  # fmt: skip
    except UserError as error:
        fail(error)
    terminal.print_review_page(page)


def _refresh(res, store, run_id: str) -> None:
    """Write the batch's report again, so that the file beside the batch is not stale."""
    from popsync.pipeline.reporting import refresh_report

    refresh_report(res, store, run_id)


@review.command("decide")
@click.option("--source", type=EXTRACT_CHOICE, required=True)
@click.option("--record-id", required=True, help="The row's record id (as 'review list' shows).")
@click.option("--delivery", default=None, help="The row's delivery, if its id is in several.")
@click.option("--so-dinh-danh", default=None,
              help="The candidate the row is linked to (its ID, or masked as 'review list' "
              "prints it).")  # fmt: skip
@click.option("--rank", type=click.IntRange(min=1), default=None,
              help="Or the candidate by its rank (the '#' of 'review list').")  # fmt: skip
@click.option("--no-match", is_flag=True, help="None of the candidates: the row is no_match.")
@click.option("--by", "decided_by", required=True, help="Who decides (kept with the decision).")
@click.option("--note", default=None, help="Why, for the audit (kept with the decision).")
@database_options(_WHERE)
def review_decide(source, record_id, delivery, so_dinh_danh, rank, no_match, decided_by, note,
                  database_url, workdir):  # fmt: skip
    """Decide one row waiting for review: link it to a candidate, or to no one."""
    from popsync.core.privacy import mask_id, mask_record_id

    try:
        if (so_dinh_danh is not None) + (rank is not None) + no_match != 1:
            raise UserError("give exactly one of --so-dinh-danh ID, --rank N or --no-match")
        res = resources(database_url, workdir)
        with open_warehouse(database_url, workdir, res) as store:
            done = store.decide_review(source, record_id, so_dinh_danh, decided_by=decided_by,
                                       note=note, rank=rank, delivery=delivery)  # fmt: skip
            _refresh(res, store, done["run_id"])
    except UserError as error:
        fail(error)
    link = "no match" if done["so_dinh_danh"] is None else f"match {mask_id(done['so_dinh_danh'])}"
    record = mask_record_id(done["record_id"])
    click.echo(f"{source} {record}: review -> {link}, decided by {done['decided_by']}")


@review.command("undo")
@click.option("--source", type=EXTRACT_CHOICE, required=True)
@click.option("--record-id", required=True, help="The row's record id.")
@click.option("--delivery", default=None, help="The row's delivery, if its id is in several.")
@click.option("--by", "undone_by", required=True, help="Who undoes (kept with the undo).")
@click.option("--note", default=None, help="Why, for the audit.")
@database_options(_WHERE)
def review_undo(source, record_id, delivery, undone_by, note, database_url, workdir):
    """Undo the latest decision on a row: it goes back to review with its candidates."""
    from popsync.core.privacy import mask_id, mask_record_id

    try:
        res = resources(database_url, workdir)
        with open_warehouse(database_url, workdir, res) as store:
            done = store.undo_review(source, record_id, undone_by=undone_by, note=note,
                                     delivery=delivery)  # fmt: skip
            row = store.fetch("SELECT run_id FROM {table} WHERE source = %s AND delivery = %s "
                              "AND record_id = %s", (source, done["delivery"], done["record_id"]),
                              table=store.catalog.extract(source).table)  # fmt: skip
            _refresh(res, store, row[0][0])
    except UserError as error:
        fail(error)
    what = "no match" if done["so_dinh_danh"] is None else f"match {mask_id(done['so_dinh_danh'])}"
    record = mask_record_id(done["record_id"])
    click.echo(f"{source} {record}: {what} undone, back in review (by {done['undone_by']})")


def _users_option(command):
    return click.option(
        "--users",
        "users_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="The users file (default: $POPSYNC_USERS_FILE, else users.json in the work area).",
    )(command)


def _users_path(users_file, workdir) -> Path:
    from popsync.web.settings import WebSettings

    return WebSettings.from_environment(users_file=users_file, workdir=workdir).users_file


@click.group()
def users():
    """Who may log in to the stewards' workspace (popsync serve), and as what."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["steward", "viewer"]), required=True,
              help="steward: decides and may reveal a field; viewer: sees masked data only.")  # fmt: skip
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--workdir", default=None, help="The work area (default: $POPSYNC_WORKDIR).")
@_users_option
def users_add(name, role, password_stdin, workdir, users_file):
    """Add a user (or set a user's role and password). The password is stored hashed."""
    from popsync.web import accounts

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        path = _users_path(users_file, workdir)
        accounts.add_user(path, name, role, password)
    except UserError as error:
        fail(error)
    click.echo(f"{name}: {role} in {path}")


@users.command("list")
@click.option("--workdir", default=None, help="The work area (default: $POPSYNC_WORKDIR).")
@_users_option
def users_list(workdir, users_file):
    """The users and their roles."""
    from popsync.web import accounts

    for name, user in sorted(accounts.load_users(_users_path(users_file, workdir)).items()):
        click.echo(f"{name}\t{user['role']}")


@users.command("remove")
@click.argument("name")
@click.option("--workdir", default=None, help="The work area (default: $POPSYNC_WORKDIR).")
@_users_option
def users_remove(name, workdir, users_file):
    """Remove a user: they can no longer log in."""
    from popsync.web import accounts

    try:
        accounts.remove_user(_users_path(users_file, workdir), name)
    except UserError as error:
        fail(error)
    click.echo(f"{name}: removed")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
@_users_option
@database_options("Where the batches' reports and the embedded database are.")
def serve(host, port, users_file, database_url, workdir):
    """The stewards' workspace: batches, quality over time, the review queue (a web app)."""
    from popsync.web.server import run_server

    try:
        run_server(resources(database_url, workdir), host=host, port=port, users_file=users_file)
    except UserError as error:
        fail(error)
