"""Linkage in pieces: the register prepared once per snapshot, the model trained once per batch,
then any number of chunks linked with both (``matching.link(prepared, chunk, model=...)``).

A chunk's decisions then depend only on its own rows: linking a batch in chunks of 1,000 rows
gives the same decisions, scores, explanations and review candidates as linking it whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow.compute as pc

from matching.compare import Comparer
from matching.config import LinkageSettings, load_settings
from matching.model import Model, train
from matching.prepare import prepare, prepare_register
from matching.prepared_register import PreparedRegister, check_register


def prepare_snapshot(
    register_std: pd.DataFrame | Iterable[pd.DataFrame], settings: LinkageSettings | None = None
) -> PreparedRegister:
    """The register's side of linkage, checked (``RegisterError`` on a duplicated
    so_dinh_danh) and prepared; ``save`` it, ``PreparedRegister.load`` it (memory-mapped).
    ``register_std``: the standardized register, or its parts in order."""
    settings = settings or load_settings()
    prepared = prepare_register(register_std, settings.columns())
    ids = prepared.person_ids
    if pc.count_distinct(ids).as_py() != len(ids) - ids.null_count:
        check_register(pd.DataFrame({"person_id": ids.to_pandas()}))  # raises, naming them
    return prepared


def train_model(
    register: PreparedRegister,
    extract_sample: pd.DataFrame,
    settings: LinkageSettings | None = None,
) -> Model:
    """The Fellegi-Sunter model of one batch, learnt from a sample of its standardized rows
    against the prepared register (as ``link`` does when it is given no model)."""
    settings = settings or load_settings()
    prep = prepare(extract_sample, register, settings.columns())
    return train(prep, Comparer(prep, settings.comparisons), settings)


def save_model(model: Model, path: str | Path) -> None:
    Path(path).write_text(json.dumps(model.parameters()), encoding="utf-8")


def load_model(path: str | Path, settings: LinkageSettings | None = None) -> Model:
    settings = settings or load_settings()
    return Model.from_parameters(
        json.loads(Path(path).read_text(encoding="utf-8")), settings.comparisons
    )
