"""A table of a source database, pulled incrementally by a watermark column (``updated_at``): each
pull reads the rows whose watermark is above the one its last loaded version reached, up to the
highest there is now. The ledger keeps the watermark with the version, so it advances only when
that version's load commits (``Warehouse.committed_watermark``); a failed load leaves it, and the
next pull reads the same rows again (and any newer).

The database is any SQLAlchemy URL (PostgreSQL through psycopg2 here; an Airflow DAG may hand over
the URL of a connection any SQL provider reaches). The slice is written as Parquet with every
value as text (dates as ``dd/mm/yyyy``, as the extracts' contract writes them), so that the same
readers and standardizers take it as they take a file.

Limit: rows are taken by ``watermark > last`` : a row committed later with a watermark below one
already pulled (a long transaction that set it early) is missed. The column must grow with each
commit (a trigger setting it at write time does this)."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

from popsync.core.errors import UserError
from popsync.pull.item import PullItem
from popsync.pull.settings import PullSettings, without_password

CHUNK_ROWS = 50_000


def _open(settings: PullSettings):
    """The engine and the reflected table (its columns' types tell how to read the watermark)."""
    import sqlalchemy as sa

    schema, name = settings.table.split(".", 1)
    engine = sa.create_engine(settings.table_url, pool_pre_ping=True)
    try:
        table = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=engine)
    except sa.exc.NoSuchTableError:
        engine.dispose()
        raise UserError(f"{settings.source}: no table {settings.table} in "
                        f"{without_password(settings.table_url)}") from None  # fmt: skip
    except sa.exc.OperationalError as error:
        engine.dispose()
        raise UserError(f"{settings.source}: cannot reach the source database "
                        f"{without_password(settings.table_url)}: {error.orig}") from None  # fmt: skip
    column = settings.watermark_column
    if column not in table.c:
        engine.dispose()
        raise UserError(f"{settings.source}: table {settings.table} has no watermark column "
                        f"{column!r}")  # fmt: skip
    return engine, table, table.c[column]


def watermark_text(value) -> str:
    """How the ledger keeps a watermark value."""
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else str(value)


def _watermark_value(column, text: str):
    """A kept watermark as the column's Python type (compared by the database as such)."""
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return text
    if kind is dt.datetime:
        return dt.datetime.fromisoformat(text)
    if kind is dt.date:
        return dt.date.fromisoformat(text)
    if kind in (int, decimal.Decimal, float):
        return kind(text)
    return text


def delivery_name(settings: PullSettings) -> str:
    return f"table:{settings.table}"


def pending_slice(settings: PullSettings, committed: tuple[str, str] | None) -> PullItem | None:
    """The rows above the committed watermark (all rows the first time, or when the watermark
    column changed), up to the highest now; None when there are none."""
    import sqlalchemy as sa

    engine, table, column = _open(settings)
    start = committed[1] if committed and committed[0] == column.name else None
    query = sa.select(sa.func.max(column), sa.func.count())
    if start is not None:
        query = query.where(column > _watermark_value(column, start))
    try:
        with engine.connect() as conn:
            highest, rows = conn.execute(query).one()
    finally:
        engine.dispose()
    if not rows or highest is None:
        return None
    return PullItem(
        source=settings.source,
        kind="table",
        delivery=delivery_name(settings),
        location=f"{without_password(settings.table_url)}#{settings.table}",
        mode="upsert",
        watermark_column=column.name,
        watermark_from=start,
        watermark_to=watermark_text(highest),
    )


def _as_text(value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def read_slice(settings: PullSettings, item: PullItem, out: Path) -> int:
    """Write the item's rows, ``(watermark_from, watermark_to]`` in watermark order, to ``out``
    as Parquet (text columns). Returns the number of rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import sqlalchemy as sa

    engine, table, column = _open(settings)
    query = sa.select(table).where(column <= _watermark_value(column, item.watermark_to))
    if item.watermark_from is not None:
        query = query.where(column > _watermark_value(column, item.watermark_from))
    names = [c.name for c in table.columns]
    schema = pa.schema([(name, pa.string()) for name in names])
    rows = 0
    try:
        with engine.connect() as conn, pq.ParquetWriter(out, schema) as writer:
            result = conn.execution_options(stream_results=True).execute(query.order_by(column))
            while chunk := result.fetchmany(CHUNK_ROWS):
                arrays = [pa.array([_as_text(row[i]) for row in chunk], pa.string())
                          for i in range(len(names))]  # fmt: skip
                writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
                rows += len(chunk)
            if rows == 0:
                writer.write_table(schema.empty_table())
    finally:
        engine.dispose()
    return rows
