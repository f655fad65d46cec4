"""The register prepared once per snapshot for linkage (``prepare_snapshot``), then any number of
extract chunks linked against it with one model (``matching.train`` once, ``link(model=...)``):
a chunk's decisions depend only on its own rows, so a batch linked in chunks of 1,000 rows gives
the decisions, scores, explanations and review candidates of the batch linked whole."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import pyarrow.compute as pc

from matching.config import LinkageSettings, load_settings
from matching.engine import check_register, cross_pairs
from matching.prepare import prepare_register
from matching.prepared_register import PreparedRegister


def prepare_snapshot(
    register_std: pd.DataFrame | Iterable[pd.DataFrame], settings: LinkageSettings | None = None
) -> PreparedRegister:
    """The register's side of linkage for ``settings``, checked (``RegisterError`` on a
    duplicated so_dinh_danh) and prepared; ``save`` it, ``PreparedRegister.load`` it
    (memory-mapped). ``register_std``: the standardized register, or its parts in order."""
    settings = settings or load_settings()
    prepared = prepare_register(register_std, settings.columns(),
                                settings.declared_text_columns(), cross_pairs(settings))  # fmt: skip
    ids = prepared.person_ids
    if pc.count_distinct(ids).as_py() != len(ids) - ids.null_count:
        check_register(pd.DataFrame({"person_id": ids.to_pandas()}))  # raises, naming them
    return prepared
