"""Explanations of scored pairs as compact JSON, built with Arrow kernels (no Python per row).

``{"pass": "id"|"probabilistic", "candidates": n, "rule": r, "weight": w, "decided_by":
["+id", "-given_name", ...], "fields": {comparison: [level, weight], ...}}``: ``weight`` is the
pair's match weight in bits (prior included), ``decided_by`` the (at most three) fields with
the largest weights, ``+`` for evidence for the candidate, ``-`` against it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from matching.config import LinkageSettings
    from matching.scoring import Pairs

NONE = '{"pass":"none","candidates":0}'
_CHUNK = 262_144
_DECIDING = 3


def explain(
    pairs: Pairs,
    index: np.ndarray,
    counts: np.ndarray,
    settings: LinkageSettings,
    id_pass,
    housemate: np.ndarray | None = None,
) -> pa.ChunkedArray:
    """One explanation per entry of ``index`` (a pair; -1 for a row without candidates gives
    ``NONE``); ``counts`` the row's candidates, ``id_pass`` a function telling the pairs that
    agree on an ID; ``housemate`` per entry the ``housemate_contests`` comparison that held
    the row back (-1 for none), named as ``"housemate":"birth_date"``. Built in chunks, so
    the pieces of one chunk only are held."""
    if housemate is None:
        housemate = np.full(len(index), -1)
    chunks = [
        _explain(
            pairs,
            index[begin : begin + _CHUNK],
            counts[begin : begin + _CHUNK],
            settings,
            id_pass,
            housemate[begin : begin + _CHUNK],
        )
        for begin in range(0, len(index), _CHUNK)
    ]
    return pa.chunked_array(chunks, pa.large_string())


def _gather(texts: list[str], code: np.ndarray, mask: np.ndarray | None) -> pa.Array:
    return pc.take(pa.array(texts, pa.large_string()), pa.array(code, mask=mask))


def _decided_by(weights: np.ndarray, names: list[str], null) -> pa.Array:
    """``"decided_by":[...]`` from the fields with the largest absolute weights."""
    top = np.argsort(-np.abs(weights), axis=1, kind="stable")[:, :_DECIDING]
    chosen = np.take_along_axis(weights, top, axis=1)
    signed = top * 3 + np.where(chosen > 0, 1, np.where(chosen < 0, 2, 0))
    code_value = (signed * (3 * len(names)) ** np.arange(_DECIDING)).sum(axis=1)
    code, uniques = pd.factorize(code_value)
    texts = []
    for value in uniques.tolist():
        items = []
        for _ in range(_DECIDING):
            value, item = divmod(value, 3 * len(names))
            field, sign = divmod(item, 3)
            if sign:
                items.append(f'"{"+-"[sign - 1]}{names[field]}"')
        texts.append(f',"decided_by":[{",".join(items)}]')
    return _gather(texts, code, null)


def _explain(pairs: Pairs, index, counts, settings: LinkageSettings, id_pass, housemate):
    valid = index >= 0
    at = np.where(valid, index, 0)
    null = None if valid.all() else ~valid
    head = np.where(id_pass(pairs, at), 0, 1)
    rule_names = [rule.name for rule in settings.blocking_rules]
    deci = np.round(pairs.score[at] * 10).astype(np.int64)
    code, uniques = pd.factorize(deci)
    pieces = [
        _gather(
            ['{"pass":"id","candidates":', '{"pass":"probabilistic","candidates":', NONE],
            np.where(valid, head, 2),
            mask=None,
        ),
        pa.array(np.asarray(counts), mask=null).cast(pa.large_string()),
        _gather([f',"rule":"{name}"' for name in rule_names], pairs.rule[at], null),
        _gather([f',"weight":{value / 10:g}' for value in uniques.tolist()], code, null),
        _decided_by(pairs.weights[at], [c.name for c in settings.comparisons], null),
        _gather(
            [f',"housemate":"{name}"' for name in settings.housemate_contests],
            housemate,
            mask=housemate < 0,
        ),
    ]
    comparisons = settings.comparisons
    for c, comparison in enumerate(comparisons):
        names = ("null", *comparison.level_names)
        cents = np.round(pairs.weights[at, c].astype(np.float64) * 100).astype(np.int64)
        level = pairs.levels[at, c].astype(np.int64) + 1  # 0 for null
        code, uniques = pd.factorize(level * 2**32 + (cents + 2**31))
        start = ',"fields":{' if c == 0 else ","
        end = "}}" if c == len(comparisons) - 1 else ""
        texts = [
            f'{start}"{comparison.name}":["{names[value >> 32]}",'
            f"{((value & 0xFFFFFFFF) - 2**31) / 100:g}]{end}"
            for value in uniques.tolist()
        ]
        pieces.append(_gather(texts, code, null))
    return pc.binary_join_element_wise(
        *pieces,
        pa.scalar("", pa.large_string()),
        # not "skip": pyarrow drops the rows where every piece is null
        null_handling="replace",
        null_replacement="",
    )
