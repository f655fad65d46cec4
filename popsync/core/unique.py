"""The one check that a key column is unique (the register's so_dinh_danh, a batch's record
ids): a ``UserError`` naming the count and a few masked examples."""

from __future__ import annotations

import pandas as pd

from popsync.core.errors import UserError
from popsync.core.privacy import mask_value


def require_unique_ids(
    frame: pd.DataFrame,
    column: str,
    what: str,
    error: type[UserError] = UserError,
    label: str | None = None,
    allow_null: bool = False,
) -> None:
    """Raise ``error`` when ``column`` is missing, null (unless ``allow_null``) or repeated;
    values are masked as ``label`` (default: the column) is masked."""
    label = label or column
    if column not in frame.columns:
        raise error(f"{what}: missing column {column}")
    ids = frame[column]
    if ids.isna().any():
        if not allow_null:
            raise error(f"{what}: {int(ids.isna().sum())} rows without {label}")
        ids = ids.dropna()
    duplicated = ids[ids.duplicated()]
    if len(duplicated):
        examples = (mask_value(label, value) for value in duplicated.unique()[:3])
        raise error(f"{what}: {len(duplicated)} duplicated {label} values, e.g. "
                    f"{', '.join(examples)}")  # fmt: skip
