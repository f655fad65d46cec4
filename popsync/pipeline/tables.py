"""Two plain tables linked from the settings alone (``popsync match`` without ``--source``):
any CSV, XLSX or Parquet, read as text, its columns mapped by the settings' ``tables``
section, with no Vietnamese standardization. FEBRL4 in ``examples/febrl4/`` is one."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from popsync.core.errors import UserError
from popsync.pipeline.batch import require_file


def read_table(path: str | Path, what: str) -> pd.DataFrame:
    """Every cell as text (IDs keep their leading zeros); empty cells are null."""
    path = require_file(path, what)
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path).astype("string")
        elif suffix in (".xlsx", ".xls"):
            frame = pd.read_excel(path, dtype=str).astype("string")
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            frame = frame.astype("string")
    except (OSError, ValueError) as error:
        raise UserError(f"cannot read the {what} {path}: {error}") from error
    frame.columns = [str(column).strip() for column in frame.columns]
    return frame.mask(frame == "")


def _mapped(frame: pd.DataFrame, id_column: str, key: str, columns: dict, side: int, what: str):
    wanted = {id_column} | {
        source if isinstance(source, str) else source[side] for source in columns.values()
    }
    missing = sorted(wanted - set(frame.columns))
    if missing:
        raise UserError(
            f"the {what} lacks the column(s) {', '.join(missing)} that the linkage settings map "
            f"(its columns: {', '.join(frame.columns)})"
        )
    out = pd.DataFrame({key: frame[id_column]})
    for name, source in columns.items():
        out[name] = frame[source if isinstance(source, str) else source[side]]
    if out[key].isna().any():
        raise UserError(f"the {what} has {int(out[key].isna().sum())} rows without {id_column}")
    return out


def read_tables(population: str | Path, extract: str | Path, settings):
    """The register-side and extract-side frames the linker takes: ``person_id`` and
    ``record_id`` from the tables' id columns, and each mapped column under its settings name."""
    tables = settings.tables
    if tables is None:
        raise UserError(
            "without --source, the linkage settings must map the tables' columns (a 'tables' "
            "section: see examples/febrl4/settings.yaml)"
        )
    register = _mapped(
        read_table(population, "population table"),
        tables.population.id,
        "person_id",
        tables.columns,
        0,
        "population table",
    )
    rows = _mapped(
        read_table(extract, "extract table"),
        tables.extract.id,
        "record_id",
        tables.columns,
        1,
        "extract table",
    )
    return register, rows
