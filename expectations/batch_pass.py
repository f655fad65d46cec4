"""The batch rules of a large batch in bounded memory: what each one needs of every row.

A batch rule (``expectations.scope``) is checked by GX over one frame with a row per batch row,
but that frame need not hold the rows' key columns (about 870 bytes a row); it holds, per rule:

- a cross-row rule column (duplicates, a person's dose order and intervals, one ID claimed by
  several people) as its boolean verdict, worked out one partition of rows at a time: rows the
  rule compares share the partition's key (``CrossRowKey``), so each partition gives the
  verdicts the whole batch gives;
- ``ExpectColumnValuesToBeUnique``'s column as integer codes, equal where the values are equal
  (factorized per partition of the values, each partition's codes shifted past the last's);
- an aggregate's column as little as the aggregate reads: the null mask (1 bit) for the share of
  non-null values, the carried per-row value (an event's age) otherwise.

A finding then reads its record id and observed fields back for the failing rows only
(``engine.validate``'s ``rows_at``). The files and the partitions are the pipeline's
(``popsync.pipeline.batch_partitions``); this module says what goes in them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from expectations.rules.pre_link import PERSON_KEYS
from expectations.scope import CROSS_ROW_COLUMNS
from expectations.stored import Rule
from popsync.core.sources import SourceSpec

NON_NULL_SHARE = "ExpectColumnProportionOfNonNullValuesToBeBetween"
VALUES_UNIQUE = "ExpectColumnValuesToBeUnique"
# Computed by the engine from the register's age alone (every row the same).
REGISTER_AGE = "register_snapshot_age_days"


@dataclass(frozen=True)
class CrossRowKey:
    """Rows a cross-row rule compares share ``key``; it reads ``reads``. With ``keyless_alone``,
    a row with a null key part is compared with no other row (it may go to any partition);
    else null is a value like any other (pandas' ``duplicated``). ``spread``: the key parts
    hashed into partitions (rows equal on the key are equal on any of its parts; dates hash
    ~30x faster than text), by default the whole key."""

    key: tuple[str, ...]
    reads: tuple[str, ...]
    keyless_alone: bool
    spread: tuple[str, ...] = ()

    def hashed(self) -> tuple[str, ...]:
        return tuple(c for c in self.spread if c in self.key) or self.key


def cross_row_key(spec: SourceSpec, column: str) -> CrossRowKey:
    """The partition key of a cross-row rule column (``expectations.rules``)."""
    if column in ("row_not_duplicated", "row_has_no_copy"):
        keys = tuple(dict.fromkeys((*PERSON_KEYS, *spec.duplicate_keys)))
        dates = tuple(k for k in keys if k == "birth_date" or k in spec.fields_of("date"))
        return CrossRowKey(keys, keys, keyless_alone=False, spread=dates)
    if column in ("dose_interval_respected", "dose_numbers_in_date_order"):
        reads = ("so_dinh_danh", "decision", "vaccination_date", "dose_number", "vaccine")
        return CrossRowKey(("so_dinh_danh",), reads, keyless_alone=True)
    if column == "id_claimed_by_one_person":
        reads = ("id_number", "id_kind", "so_dinh_danh", "decision", "name_key", "birth_date")
        return CrossRowKey(("id_number",), reads, keyless_alone=True)
    raise ValueError(f"no partition key for the cross-row rule column {column!r}")


@dataclass
class Partitioning:
    """One partitioning of the rows (``key``), the rule columns worked out on it, and the
    columns given integer codes (``codes``: the verdict frame's name)."""

    key: CrossRowKey
    rule_columns: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)


@dataclass
class BatchPass:
    """What the verdict frame of a batch's batch rules holds (``plan``)."""

    partitionings: list[Partitioning]
    non_null: list[str]  # columns of which only the null mask is kept
    carried: list[str]  # per-row values from the chunks' rule files
    plain: list[str]  # per-row values from the chunks' rows

    def columns_read(self) -> list[str]:
        """The chunk columns the pass reads (partition keys and inputs, masks, values)."""
        wanted = [c for p in self.partitionings for c in p.key.reads]
        return list(dict.fromkeys([*wanted, *self.non_null, *self.plain]))


def record_key_column(columns) -> str:
    """The column ``record_key`` stands for: the id as the source wrote it (``engine``)."""
    return "source_record_id" if "source_record_id" in columns else "record_id"


def plan(spec: SourceSpec, batch_rules: list[Rule], columns, carried) -> BatchPass:
    """The verdict frame of ``batch_rules`` (both stages) over chunks holding ``columns``, whose
    rule files carry ``carried``."""
    by_key: dict[CrossRowKey, Partitioning] = {}
    non_null, carried_out, plain = [], [], []
    for rule in batch_rules:
        name = rule.column
        if name is None or name == REGISTER_AGE:
            continue
        if name in CROSS_ROW_COLUMNS:
            key = cross_row_key(spec, name)
            key = CrossRowKey(
                tuple(c for c in key.key if c in columns),
                tuple(c for c in key.reads if c in columns),
                key.keyless_alone,
                key.spread,
            )
            by_key.setdefault(key, Partitioning(key)).rule_columns.append(name)
        elif rule.expect == VALUES_UNIQUE:
            source = record_key_column(columns) if name == "record_key" else name
            key = CrossRowKey((source,), (source,), keyless_alone=True)
            by_key.setdefault(key, Partitioning(key)).codes.append(name)
        elif rule.expect == NON_NULL_SHARE:
            non_null.append(name)
        elif name in carried:
            carried_out.append(name)
        elif rule.expect in ("ExpectCompoundColumnsToBeUnique",):
            raise ValueError(f"{rule.rule}: {rule.expect} has no bounded batch pass")
        else:
            plain.append(name)
    for part in by_key.values():
        part.rule_columns = list(dict.fromkeys(part.rule_columns))
        part.codes = list(dict.fromkeys(part.codes))
    return BatchPass(
        list(by_key.values()),
        list(dict.fromkeys(non_null)),
        list(dict.fromkeys(carried_out)),
        list(dict.fromkeys(c for c in plain if c not in non_null)),
    )


def partition_verdicts(
    rows: pd.DataFrame, part: Partitioning, spec: SourceSpec, run_date: dt.date
) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """One partition's rows (in file order) -> the rule columns' verdicts (positional) and, per
    ``codes`` column, the key's codes within the partition (-1 for a null key)."""
    from expectations.engine import derived_columns

    verdicts = derived_columns(rows, spec, run_date, part.rule_columns)
    codes = {}
    for name in part.codes:
        codes[name] = pd.factorize(rows[part.key.key[0]].astype("string"))[0]
    return verdicts, codes
