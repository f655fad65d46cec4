"""What one load carries (``Batch``), the columns each table takes from a frame, and the
conversion of a frame to an Arrow table with the database's types (for COPY and SQLite)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from popsync.errors import UserError

TEXT, INT, SMALLINT, FLOAT, DATE, TIMESTAMP, JSON = (
    "text", "int", "smallint", "float", "date", "timestamp", "json",
)  # fmt: skip
ARROW_TYPES = {
    TEXT: pa.string(),
    INT: pa.int64(),
    SMALLINT: pa.int16(),
    FLOAT: pa.float64(),
    DATE: pa.date32(),
    TIMESTAMP: pa.timestamp("us"),
    JSON: pa.string(),
}

_COMMON = {
    "source": TEXT, "record_id": TEXT, "src_file": TEXT, "src_sha256": TEXT, "src_row": INT,
    "full_name": TEXT, "name_key": TEXT, "birth_date": DATE, "birth_date_precision": TEXT,
    "sex": TEXT, "id_number": TEXT, "id_kind": TEXT, "phone": TEXT, "address": TEXT,
    "province_code": TEXT, "district_code": TEXT, "ward_code": TEXT, "admin_scheme": TEXT,
    "flags": TEXT, "repairs": TEXT,
}  # fmt: skip
_PER_SOURCE = {
    "tiem_chung": {
        "dose_number": SMALLINT, "vaccine": TEXT, "vaccination_date": DATE,
        "vaccination_date_precision": TEXT, "lot_number": TEXT, "site": TEXT,
    },
    "f0": {
        "positive_date": DATE, "positive_date_precision": TEXT, "test_type": TEXT,
        "recovery_date": DATE, "recovery_date_precision": TEXT, "treatment_place": TEXT,
    },
    "bhxh": {
        "bhxh_number": TEXT, "employer_code": TEXT, "employer_name": TEXT,
        "participant_type": TEXT, "period_start": DATE, "period_start_precision": TEXT,
        "period_end": DATE, "period_end_precision": TEXT,
    },
}  # fmt: skip
LINK_COLUMNS = {"so_dinh_danh": TEXT, "decision": TEXT, "score": FLOAT, "explanation": JSON}


def row_columns(source: str) -> dict[str, str]:
    """Columns of the source's table taken from a frame, in table order (``run_id`` last)."""
    return {**_COMMON, **_PER_SOURCE[source], **LINK_COLUMNS, "run_id": TEXT}


# Register: standardized ``dan_cu`` column -> person column.
PERSON_FROM_STD = {
    "person_id": "so_dinh_danh", "cmnd": "so_cmnd", "full_name": "ho_ten",
    "birth_date": "ngay_sinh", "birth_date_precision": "ngay_sinh_precision",
    "sex": "gioi_tinh", "province_code": "ma_tinh", "district_code": "ma_huyen",
    "ward_code": "ma_xa", "admin_scheme": "admin_scheme", "address": "dia_chi",
    "phone": "so_dien_thoai", "death_date": "ngay_mat", "updated_at": "ngay_cap_nhat",
}  # fmt: skip
PERSON_COLUMNS = {
    "so_dinh_danh": TEXT, "so_cmnd": TEXT, "ho_ten": TEXT, "ngay_sinh": DATE,
    "ngay_sinh_precision": TEXT, "gioi_tinh": TEXT, "ma_tinh": TEXT, "ma_huyen": TEXT,
    "ma_xa": TEXT, "admin_scheme": TEXT, "dia_chi": TEXT, "so_dien_thoai": TEXT,
    "ngay_mat": DATE, "ngay_cap_nhat": TIMESTAMP, "run_id": TEXT,
}  # fmt: skip
# A change of these re-opens the links to the person (needs_recheck); a death can make
# later events impossible, so it counts too.
IDENTITY_FIELDS = ("ho_ten", "ngay_sinh", "ngay_sinh_precision", "gioi_tinh", "ngay_mat")

FINDING_COLUMNS = {
    "source": TEXT, "record_id": TEXT, "stage": TEXT, "rule": TEXT, "pillar": TEXT,
    "severity": TEXT, "observed": TEXT, "reason": TEXT, "run_id": TEXT,
}  # fmt: skip
QUARANTINE_COLUMNS = {
    "source": TEXT, "record_id": TEXT, "src_file": TEXT, "src_sha256": TEXT, "src_row": INT,
    "row_data": JSON, "rules": TEXT, "run_id": TEXT,
}  # fmt: skip
CANDIDATE_COLUMNS = {
    "source": TEXT, "record_id": TEXT, "rank": INT, "so_dinh_danh": TEXT, "score": FLOAT,
    "explanation": JSON, "run_id": TEXT,
}  # fmt: skip


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


def build_batch(
    *,
    run_id: str,
    source: str,
    input_file: str,
    input_sha256: str,
    run_date: dt.date | str,
    rows: pd.DataFrame,
    findings: pd.DataFrame | None = None,
    candidates: pd.DataFrame | None = None,
    timings: dict | None = None,
) -> Batch:
    """Split linked rows (standardized + link columns, one per row read) into a ``Batch``:
    rows with a ``quarantine`` finding go to quarantine with the rules they broke, rows whose
    decision is ``review`` wait for review (with their candidates), the others load."""
    findings = pd.DataFrame() if findings is None else findings
    candidates = pd.DataFrame() if candidates is None else candidates
    if len(findings):
        held = findings[findings["severity"].eq("quarantine") & findings["record_id"].notna()]
        rules = held.groupby("record_id")["rule"].agg(lambda r: ";".join(sorted(set(r))))
    else:
        rules = pd.Series(dtype="str")
    quarantined = rows["record_id"].isin(rules.index)
    in_review = rows["decision"].eq("review") & ~quarantined
    review = rows[in_review]
    if len(candidates):
        candidates = candidates[candidates["record_id"].isin(review["record_id"])]
    quarantine = rows[quarantined].assign(rules=lambda q: q["record_id"].map(rules))
    return Batch(
        run_id=run_id,
        source=source,
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
    return pd.Series(lines.splitlines(), index=frame.index, dtype="str")
