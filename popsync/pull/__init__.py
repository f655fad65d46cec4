"""Pulling extracts from where they live: a landing area of dated files (a local folder, an SFTP
server, any fsspec URL) and source tables read incrementally by a watermark column. Each
delivery is processed exactly once, through the warehouse's ledger (``delivery``).

The API the CLI (``popsync pull``, ``rerun``, ``backfill``) and the Airflow DAGs share; items
are small JSON-able records (``PullItem.to_dict`` / ``from_dict``) that travel through XCom:

- ``PullSettings.from_environment(spec)`` (or ``airflow_settings.settings_from_airflow``): where a
  source's deliveries are, made at the edge, credentials included (never in an item);
- ``pending(res, settings, since=None, until=None) -> list[PullItem]``: what is new;
- ``fetch(res, item, settings) -> PullItem``: copied into the work area (``item.key``), its
  arrival recorded in the ledger;
- ``run_item(res, item, population, run_date=None) -> dict``: the whole job on it (raises
  ``BatchBlocked``, e.g. ``RowCountMismatch``, after recording the blocked run); or in pieces,
  one task each: ``processed(res, item)`` (already done?), ``start_batch(res, item,
  population, run_date) -> batch``, the ``popsync.pipeline`` stages with
  ``check_stated_rows(batch)`` after ``stage_standardize``, ``record_stopped(res, batch,
  error)`` when a stage blocks or fails, ``pipeline.finish_batch``;
- ``fetch_register(res, register_settings) -> key``: the newest register file, for
  ``population``;
- ``pull_source(res, settings, population, ...)``: all of it for one source, one item failing
  alone; ``rerun(res, run_id)``.
"""

from popsync.pull.batch import (
    RowCountMismatch,
    check_stated_rows,
    processed,
    record_stopped,
    start_batch,
)
from popsync.pull.fetch import fetch, item_key, pending
from popsync.pull.item import PullItem
from popsync.pull.register import fetch_register
from popsync.pull.rerun import rerun
from popsync.pull.run import pull_source, run_item
from popsync.pull.settings import PullSettings

__all__ = [
    "PullItem",
    "PullSettings",
    "RowCountMismatch",
    "check_stated_rows",
    "fetch",
    "fetch_register",
    "item_key",
    "pending",
    "processed",
    "pull_source",
    "record_stopped",
    "rerun",
    "run_item",
    "start_batch",
]
