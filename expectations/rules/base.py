"""The one registry of derived rule columns, what the rules look at (``Batch``), and the helpers
they share.

A derived rule column is computed with pandas/numpy only: True = the row keeps the rule or the
rule does not apply to it; a GX expectation (``expectations.gx_rules``) then checks the column.
Computing the rule here and letting GX check a boolean is ~20x cheaper than a datetime or
row-wise GX expectation on a million rows (see ``bench/validate.py``). A few columns are
integers instead, for batch-level rules (``event_age_days``).

Columns are registered by name (``@rule``, ``not_flagged``), or as a family resolved against the
source's declaration (``@family``): ``<date>_readable``, ``<date>_not_after_run_date`` and
``<later>_on_or_after_<earlier>`` exist for the declared date fields of the batch's source, so a
new source's suite can name them without code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from popsync.core.sources import SourceSpec

Column = Callable[["Batch"], "np.ndarray | pd.Series"]


@dataclass
class Batch:
    """What the rules look at: the standardized rows (positional index) of the declared source
    and, after linking, the decision and the linked register person of each row (register
    columns prefixed ``reg_``)."""

    std: pd.DataFrame
    spec: SourceSpec
    run_date: pd.Timestamp
    linked: pd.DataFrame | None = None
    register_age_days: int | None = None
    params: dict[str, dict] = field(default_factory=dict)
    _cache: dict = field(default_factory=dict)

    def col(self, name: str) -> pd.Series:
        """A column of the linked frame (decision, ``reg_*``), else of the standardized rows."""
        if self.linked is not None and name in self.linked.columns:
            return self.linked[name]
        if name in self.std.columns:
            return self.std[name]
        return pd.Series(pd.NA, index=self.std.index, dtype="object")

    @cached_property
    def flag_rows(self) -> dict[str, np.ndarray]:
        """Flag code -> positions of the rows carrying it (flags are few: parse them once)."""
        flags = self.col("flags").fillna("").astype("string")
        positions = np.flatnonzero(flags.ne("").to_numpy(dtype=bool))
        if not len(positions):
            return {}
        codes = flags.iloc[positions].set_axis(positions).str.split(";").explode()
        return {code: rows.index.to_numpy() for code, rows in codes.groupby(codes, sort=False)}

    def has_flag(self, *codes: str) -> np.ndarray:
        out = np.zeros(len(self.std), dtype=bool)
        for code in codes:
            out[self.flag_rows.get(code, [])] = True
        return out

    def matched(self) -> np.ndarray:
        return self.col("decision").eq("match").fillna(False).to_numpy(dtype=bool)

    def cached(self, key: str, make: Callable[[], object]):
        """``make()`` once per batch (work several rules share)."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]


# ---------------------------------------------------------------------------- the registry

# Columns by name.
RULES: dict[str, Column] = {}
# Families: a resolver (the source's declaration, a column name) -> the column, or None.
FAMILIES: list[Callable[[SourceSpec, str], Column | None]] = []


def rule(name: str):
    """Register the decorated function as the derived column ``name``."""

    def register(fn: Column) -> Column:
        if name in RULES:
            raise ValueError(f"derived rule column {name!r} is registered twice")
        RULES[name] = fn
        return fn

    return register


def family(resolver: Callable[[SourceSpec, str], Column | None]):
    """Register a family of columns named after the source's declared fields."""
    FAMILIES.append(resolver)
    return resolver


def not_flagged(names: dict[str, tuple[str, ...]]) -> None:
    """Rules the standardizer already decided: the row carries none of these flag codes."""
    for name, codes in names.items():
        rule(name)(lambda b, codes=codes: ~b.has_flag(*codes))


def resolve(spec: SourceSpec, name: str) -> Column | None:
    """The derived column ``name`` for a source, or None when it is not one."""
    if name in RULES:
        return RULES[name]
    return next((fn for resolver in FAMILIES if (fn := resolver(spec, name)) is not None), None)


def is_rule(spec: SourceSpec, name: str) -> bool:
    return resolve(spec, name) is not None


def compute(batch: Batch, name: str) -> np.ndarray | pd.Series:
    """The derived column ``name`` for ``batch`` (cached per batch)."""
    if name not in batch._cache:
        fn = resolve(batch.spec, name)
        if fn is None:
            raise KeyError(f"no derived rule column named {name!r} for source {batch.spec.id}")
        batch._cache[name] = fn(batch)
    return batch._cache[name]


# ----------------------------------------------------------------------------- the helpers

_NON_ASCII = r"[^\x00-\x7f]"


def as_bool(values) -> np.ndarray:
    if isinstance(values, pd.Series):
        return values.fillna(False).to_numpy(dtype=bool)
    return np.asarray(values, dtype=bool)


def same_text(a: pd.Series, b: pd.Series) -> np.ndarray:
    """True unless both are given and differ."""
    differ = a.astype("string").ne(b.astype("string")).fillna(False)
    return ~as_bool(differ)


def has_diacritics(values: pd.Series) -> np.ndarray:
    """True for empty values or values with at least one non-ASCII letter."""
    text = values.astype("string")
    return as_bool(text.isna() | text.str.contains(_NON_ASCII, regex=True))


def after(a: pd.Series, b) -> np.ndarray:
    """a > b where both are known (NaT compares False)."""
    return as_bool(a > b)


def written_as_standard(b: Batch, field: str, *repairs: str) -> np.ndarray:
    """``raw_<field>`` was already the standardized value, and none of ``repairs`` was needed."""
    return same_text(b.col(f"raw_{field}"), b.col(field)) & ~b.has_flag(*repairs)


def given_is_valid(b: Batch, field: str, valid: np.ndarray, flag: str) -> np.ndarray:
    """A given ``raw_<field>`` is ``valid`` and not flagged; an empty one is another rule's."""
    given = as_bool(b.col(f"raw_{field}").notna())
    return ~((given & ~valid) | b.has_flag(flag))


def both_to_the_day(b: Batch, a: str, c: str) -> np.ndarray:
    """Dates ``a`` and ``c`` both known to the day (``<date>_precision`` is ``day``)."""
    return as_bool(b.col(f"{a}_precision").eq("day") & b.col(f"{c}_precision").eq("day"))


def all_but(b: Batch, positions) -> np.ndarray:
    """True for every row but those at ``positions``."""
    out = np.ones(len(b.std), dtype=bool)
    out[positions] = False
    return out


# ------------------------------------------------------- families of the declared date fields


@family
def _date_field_rules(spec: SourceSpec, name: str) -> Column | None:
    """``<date>_readable`` (parsed and existing) and ``<date>_not_after_run_date``."""
    for suffix in ("_readable", "_not_after_run_date"):
        date = name.removesuffix(suffix)
        if date != name and date in spec.date_fields:
            if suffix == "_readable":
                return lambda b: ~b.has_flag(f"{date}:unparseable", f"{date}:impossible")
            return lambda b: ~after(b.col(date), b.run_date)
    return None


@family
def _dates_in_order(spec: SourceSpec, name: str) -> Column | None:
    """``<later>_on_or_after_<earlier>``: where both are known, ``later`` is not before."""
    later, sep, earlier = name.partition("_on_or_after_")
    if sep and later in spec.date_fields and earlier in spec.date_fields:
        return lambda b: ~after(b.col(earlier), b.col(later))
    return None
