"""What one load carries (``Batch``), and frames as the database takes and gives them: a frame
to an Arrow table with the database's types (for COPY and SQLite), stored values back to a frame."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from popsync.core.contracts import (
    BOOL,
    DATE,
    FLOAT,
    INT,
    JSON,
    SMALLINT,
    TEXT,
    TIMESTAMP,
    quarantine_rules,
)
from popsync.core.errors import UserError
from popsync.core.members import text_isin
from popsync.core.unique import require_unique_ids

ARROW_TYPES = {
    TEXT: pa.string(),
    INT: pa.int64(),
    SMALLINT: pa.int16(),
    FLOAT: pa.float64(),
    DATE: pa.date32(),
    TIMESTAMP: pa.timestamp("us"),
    JSON: pa.string(),
    BOOL: pa.bool_(),
}


@dataclass
class Batch:
    """One extract file of one source, ready to load: every read row is in exactly one of
    ``rows`` (decision match / no_match), ``review`` (decision review) or ``quarantine``.

    ``rows`` and ``review`` are standardized frames (docs/DESIGN.md) with the link columns
    ``so_dinh_danh``, ``decision``, ``score``, ``explanation``; ``quarantine`` is a
    standardized frame plus ``rules`` (the rules broken, ``;``-joined or a list);
    ``candidates`` has ``record_id``, ``so_dinh_danh``, ``score``, ``rank``, ``explanation``;
    ``findings`` has the findings columns. ``rows_read`` is what the reader read: the load
    fails unless the database then holds exactly that many rows for the run."""

    run_id: str
    source: str
    delivery: str
    input_file: str
    input_sha256: str
    run_date: dt.date | str
    rows: pd.DataFrame
    rows_read: int
    quarantine: pd.DataFrame = field(default_factory=pd.DataFrame)
    review: pd.DataFrame = field(default_factory=pd.DataFrame)
    candidates: pd.DataFrame = field(default_factory=pd.DataFrame)
    findings: pd.DataFrame = field(default_factory=pd.DataFrame)
    timings: dict = field(default_factory=dict)
    # ``replace``: the batch is its delivery's new version, whole (a file); ``upsert``: its rows
    # replace the same record ids of its delivery (an incremental table pull).
    mode: str = "replace"

    def __post_init__(self):
        if self.mode not in LOAD_MODES:
            raise UserError(f"load mode {self.mode!r}: one of {', '.join(LOAD_MODES)}")
        if not self.delivery:
            raise UserError(f"{self.source} batch: no delivery name")


LOAD_MODES = ("replace", "upsert")


def build_batch(
    *,
    run_id: str,
    source: str,
    delivery: str,
    input_file: str,
    input_sha256: str,
    run_date: dt.date | str,
    rows: pd.DataFrame,
    findings: pd.DataFrame | None = None,
    candidates: pd.DataFrame | None = None,
    timings: dict | None = None,
    mode: str = "replace",
) -> Batch:
    """Split linked rows (standardized + link columns, one per row read) into a ``Batch``:
    rows with a ``quarantine`` finding go to quarantine with the rules they broke, rows whose
    decision is ``review`` wait for review (with their candidates), the others load."""
    findings = pd.DataFrame() if findings is None else findings
    candidates = pd.DataFrame() if candidates is None else candidates
    rules = quarantine_rules(findings)
    quarantined = text_isin(rows["record_id"], rules.index)
    in_review = rows["decision"].eq("review") & ~quarantined
    review = rows[in_review]
    if len(candidates):
        candidates = candidates[text_isin(candidates["record_id"], review["record_id"])]
    quarantine = rows[quarantined].assign(rules=lambda q: q["record_id"].map(rules))
    return Batch(
        run_id=run_id,
        source=source,
        delivery=delivery,
        input_file=str(input_file),
        input_sha256=input_sha256,
        run_date=run_date,
        rows=rows[~quarantined & ~in_review],
        rows_read=len(rows),
        quarantine=quarantine,
        review=review,
        candidates=candidates,
        findings=findings,
        timings=dict(timings or {}),
        mode=mode,
    )


def to_arrow(frame: pd.DataFrame, columns: dict[str, str], constants: dict, what: str) -> pa.Table:
    """The frame's ``columns`` as an Arrow table with the database types; ``constants``
    fill the columns they name. Raises ``UserError`` naming missing columns."""
    missing = [c for c in columns if c not in constants and c not in frame.columns]
    if missing:
        raise UserError(f"{what}: missing columns {', '.join(missing)}")
    arrays = []
    for name, kind in columns.items():
        if name in constants:
            arrays.append(pa.repeat(pa.scalar(constants[name], ARROW_TYPES[kind]), len(frame)))
        else:
            arrays.append(_arrow_column(frame[name], kind, f"{what}, column {name}"))
    return pa.table(arrays, names=list(columns))


def _arrow_column(values: pd.Series, kind: str, what: str) -> pa.Array:
    is_text = isinstance(values.dtype, pd.StringDtype)
    if kind == JSON and not is_text:
        values = values.map(_json_text, na_action="ignore").astype("str")
    elif kind == TEXT and not is_text:
        values = values.astype("str")
    elif kind in (DATE, TIMESTAMP) and not pd.api.types.is_datetime64_any_dtype(values.dtype):
        values = pd.to_datetime(values)
    try:
        array = pa.array(values, from_pandas=True)
        return array.cast(ARROW_TYPES[kind])
    except pa.ArrowException as error:
        raise UserError(f"{what}: cannot store as {kind} ({error})") from error


def _json_text(value: object) -> str:
    """JSON text as is; other objects (dicts, lists) serialized."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def rows_as_json(frame: pd.DataFrame) -> pd.Series:
    """Every column of every row as one JSON object (quarantine.row_data)."""
    if frame.empty:
        return pd.Series([], index=frame.index, dtype="str")
    lines = frame.to_json(orient="records", lines=True, date_format="iso", force_ascii=False)
    # Only "\n" ends a record: JSON escapes it inside strings, not U+0085 / U+2028 / U+2029,
    # which str.splitlines would split on too.
    return pd.Series(lines.rstrip("\n").split("\n"), index=frame.index, dtype="str")


def arrow_or_none(frame: pd.DataFrame, columns: dict, constants: dict, what: str):
    """``to_arrow``, or None for an empty frame (nothing to write)."""
    return to_arrow(frame, columns, constants, what) if len(frame) else None


def batch_keys(batch: Batch) -> pa.Table:
    """Every record id of a batch (or chunk), with its link for the rows that load; raises
    ``UserError`` on a missing or repeated record id before anything is written."""
    keys = pd.concat(
        [frame.reindex(columns=columns) for frame, columns in (
            (batch.rows, ["record_id", "so_dinh_danh"]),
            (batch.review, ["record_id", "so_dinh_danh"]),
            (batch.quarantine.reindex(columns=["record_id"]).dropna(), ["record_id"]))],
        ignore_index=True,
    ).reindex(columns=["record_id", "so_dinh_danh"])  # fmt: skip
    require_unique_ids(keys, "record_id", f"{batch.source} batch")
    return to_arrow(keys, {"record_id": "text", "so_dinh_danh": "text"}, {}, "keys")


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Stored values as the linker and the CLI take them: dates (``date`` on PostgreSQL, ISO
    text on SQLite) as datetime64, ``score`` float64, ``rank`` Int64, the rest strings."""
    for column in frame.columns:
        if column in ("birth_date", "candidate_birth_date"):
            frame[column] = pd.to_datetime(frame[column], errors="coerce")
        elif column == "score":
            frame[column] = pd.to_numeric(frame[column]).astype("float64")
        elif column == "rank":
            frame[column] = pd.to_numeric(frame[column]).astype("Int64")
        else:
            frame[column] = frame[column].astype("string")
    return frame


# A stored extract row is named by its delivery and its record id (ids are scoped to their
# delivery); where one string must name it (the linker's record id), the two are joined.
ROW_KEY_SEP = "\x1f"


def row_keys(frame: pd.DataFrame) -> pd.Series:
    """``delivery`` and ``record_id`` of each row as one key."""
    return frame["delivery"].astype("string") + ROW_KEY_SEP + frame["record_id"].astype("string")


def split_row_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame whose ``record_id`` holds row keys, with ``delivery`` and ``record_id`` again."""
    parts = frame["record_id"].astype("string").str.split(ROW_KEY_SEP, n=1, expand=True)
    return frame.assign(delivery=parts[0], record_id=parts[1])
