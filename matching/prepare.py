"""Aligned integer columns of the extract (left) and the register (right).

Strings are factorized over both sides together, so equality is an integer test and string
similarity is computed once per distinct pair of values. Every column uses -1 for null.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from matching.prepared_register import PreparedRegister

STRING_COLUMNS = (
    "family_name",
    "middle_name",
    "given_name",
    "family_key",
    "middle_key",
    "given_key",
    "name_key",
    "name_sorted_key",
    "phone",
    "province_code",
    "district_code",
    "ward_code",
    "admin_scheme",
)
# Days are counted from 1 Jan of year 1, so that every date is >= 0 (-1 means null).
_EPOCH = np.datetime64("0001-01-01", "D")


@dataclass
class Prepared:
    left: dict[str, np.ndarray]
    right: dict[str, np.ndarray]
    vocab: dict[str, np.ndarray]
    person_ids: pa.Array

    @property
    def n_left(self) -> int:
        return len(self.left["id12"])

    @property
    def n_right(self) -> int:
        return len(self.right["id12"])

    def term_frequencies(self, column: str) -> np.ndarray:
        """Share of register rows holding each value code of ``column``."""
        codes = self.right[column]
        counts = np.bincount(codes[codes >= 0], minlength=len(self.vocab[column]))
        return counts / max(len(codes), 1)


def _strings(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    values = frame[column].astype("string")
    return values.mask(values == "")


def _sorted_tokens(name_key: pd.Series) -> pd.Series:
    """``an nguyen van`` for ``nguyen van an`` and ``van an nguyen``: order-free name key.

    Sorted once per distinct name, then gathered (Arrow) for the rows.
    """
    codes, uniques = pd.factorize(name_key, use_na_sentinel=True)
    keys = pa.array([" ".join(sorted(value.split())) for value in uniques], pa.large_string())
    taken = pc.take(keys, pa.array(codes, mask=codes < 0))
    return pd.Series(taken, index=name_key.index, dtype="string")


def _digits(values: pd.Series, length: int) -> np.ndarray:
    ok = values.str.fullmatch(rf"\d{{{length}}}").fillna(False).to_numpy(bool)
    out = np.full(len(values), -1, dtype=np.int64)
    if ok.any():
        out[ok] = values[ok].astype("int64").to_numpy()
    return out


def _flagged(frame: pd.DataFrame, code: str) -> np.ndarray:
    if "flags" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return (
        frame["flags"].astype("string").str.contains(code, regex=False).fillna(False).to_numpy(bool)
    )


def _date_values(frame: pd.DataFrame, column: str) -> np.ndarray:
    """``column`` as naive ``datetime64[D]`` (NaT for null or unparseable)."""
    if column not in frame.columns:
        return np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[D]")
    values = frame[column]
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)
    elif not pd.api.types.is_datetime64_dtype(values.dtype):
        values = pd.to_datetime(values, errors="coerce")
    return values.to_numpy().astype("datetime64[D]")


def _dates(frame: pd.DataFrame, side: dict[str, np.ndarray]) -> None:
    """Birth date as days (day precision only), its day/month swap, year and imprecision.

    Null is -1 like every other column. Days count from 1 Jan of year 1, so that no real date
    can be negative and be taken for a null by the ``>= 0`` tests of blocking and comparisons
    (a date before year 1 is no birth date: null).
    """
    date = _date_values(frame, "birth_date")
    days = (date - _EPOCH).astype(np.int64)  # NaT -> int64 min
    has = ~np.isnat(date) & (days >= 0)
    first_of_year = date.astype("datetime64[Y]")
    first_of_month = date.astype("datetime64[M]")
    year = np.where(has, first_of_year.astype(np.int64) + 1970, -1)
    month = np.where(
        has, (first_of_month - first_of_year.astype("datetime64[M]")).astype(np.int64) + 1, 0
    )
    day = np.where(has, (date - first_of_month.astype("datetime64[D]")).astype(np.int64) + 1, 0)
    precision = _strings(frame, "birth_date_precision")
    year_only = (precision == "year").fillna(False).to_numpy(bool)
    precise = has & ~year_only
    side["dob"] = np.where(precise, days, -1)
    if "birth_year" in frame.columns:
        birth_year = (
            pd.to_numeric(frame["birth_year"], errors="coerce").fillna(-1).to_numpy(np.int64)
        )
        side["birth_year"] = np.where(birth_year > 0, birth_year, year)
    else:
        side["birth_year"] = year
    # Day and month swapped (both <= 12, so the swapped date always exists).
    swappable = precise & (day <= 12) & (day != month)
    swapped_month = first_of_year.astype("datetime64[M]") + np.where(swappable, day - 1, 0)
    swapped = swapped_month.astype("datetime64[D]") + np.where(swappable, month - 1, 0)
    side["dob_swapped"] = np.where(swappable, (swapped - _EPOCH).astype(np.int64), -1)
    # 01/01 is the usual placeholder: an agreeing year then says little about the day.
    imprecise = has & (
        year_only | ((day == 1) & (month == 1)) | _flagged(frame, "birth_date:placeholder")
    )
    side["dob_imprecise"] = np.where(imprecise, 1, -1)


def _side(
    frame: pd.DataFrame, register: bool, columns: set[str]
) -> tuple[dict[str, np.ndarray], dict[str, pd.Series]]:
    side: dict[str, np.ndarray] = {}
    if register:
        side["id12"] = _digits(_strings(frame, "person_id"), 12)
        side["id9"] = _digits(_strings(frame, "cmnd"), 9)
        side["id_any"] = np.where(side["id12"] >= 0, 1, -1)
    else:
        ids = _strings(frame, "id_number").mask(_flagged(frame, "id_number:placeholder"))
        side["id12"] = _digits(ids, 12)
        side["id9"] = _digits(ids, 9)
        side["id_any"] = np.where((side["id12"] >= 0) | (side["id9"] >= 0), 1, -1)
    _dates(frame, side)
    sex = _strings(frame, "sex")
    side["sex"] = np.select([(sex == "M").fillna(False), (sex == "F").fillna(False)], [0, 1], -1)
    strings = {column: _strings(frame, column) for column in STRING_COLUMNS if column in columns}
    if "name_sorted_key" in columns:
        strings["name_sorted_key"] = _sorted_tokens(_strings(frame, "name_key"))
    return side, strings


def prepare_register(
    parts: pd.DataFrame | Iterable[pd.DataFrame], columns: set[str]
) -> PreparedRegister:
    """The register side on its own (``columns``: the settings' ``columns()``), each string
    column dictionary-coded: prepared once per snapshot, reused by every extract chunk.
    ``parts``: the standardized register, or its parts in order (a register read in chunks:
    only the prepared columns of all of them are held)."""
    parts = [parts] if isinstance(parts, pd.DataFrame) else parts
    numbers: dict[str, list[np.ndarray]] = {}
    texts: dict[str, list[pa.Array]] = {}
    ids: list[pa.Array] = []
    for part in parts:
        right, strings = _side(part, register=True, columns=columns)
        for name, values in right.items():
            numbers.setdefault(name, []).append(values)
        for name, values in strings.items():
            texts.setdefault(name, []).append(pa.array(values, pa.large_string()))
        ids.append(pa.array(_strings(part, "person_id"), type=pa.large_string()))
    right = {name: np.concatenate(values) for name, values in numbers.items()}
    vocab = {}
    for column in (c for c in STRING_COLUMNS if c in columns):
        coded = pa.chunked_array(texts.pop(column), pa.large_string()).combine_chunks()
        coded = coded.dictionary_encode()
        right[column] = coded.indices.fill_null(-1).to_numpy().astype(np.int64)
        vocab[column] = coded.dictionary
    person_ids = pa.chunked_array(ids, pa.large_string()).combine_chunks()
    return PreparedRegister(right, vocab, person_ids, frozenset(columns))


def _coded_against(values: pd.Series, register: PreparedRegister, column: str):
    """Codes of ``values`` in the register's vocabulary of ``column``; values it lacks get
    codes after it. Returns the codes and the (extended) vocabulary."""
    lookup = register.lookup(column)
    codes = lookup.get_indexer(values.to_numpy(dtype=object, na_value=None)).astype(np.int64)
    unseen = (codes < 0) & values.notna().to_numpy(bool)
    vocab = register.values(column)
    if unseen.any():
        new_codes, new_values = pd.factorize(values[unseen])
        codes[unseen] = len(vocab) + new_codes
        vocab = np.concatenate([vocab, np.asarray(new_values, dtype=object)])
    return codes, vocab


def prepare(
    extract: pd.DataFrame, register: pd.DataFrame | PreparedRegister, columns: set[str]
) -> Prepared:
    """Prepared sides; of the string columns only those in ``columns`` are factorized.
    ``register``: the standardized register, or its side prepared once (``prepare_register``,
    with at least ``columns``)."""
    left, left_strings = _side(extract, register=False, columns=columns)
    if isinstance(register, PreparedRegister):
        missing = sorted(columns - register.columns)
        if missing:
            raise ValueError(f"the prepared register lacks columns {', '.join(missing)}")
        vocab = {}
        for column in (c for c in STRING_COLUMNS if c in columns):
            left[column], vocab[column] = _coded_against(left_strings[column], register, column)
        return Prepared(
            left=left, right=register.right, vocab=vocab, person_ids=register.person_ids
        )
    right, right_strings = _side(register, register=True, columns=columns)
    vocab = {}
    n_left = len(extract)
    for column in (c for c in STRING_COLUMNS if c in columns):
        both = pd.concat([left_strings[column], right_strings[column]], ignore_index=True)
        codes, uniques = pd.factorize(both, use_na_sentinel=True)
        codes = codes.astype(np.int64)
        left[column], right[column] = codes[:n_left], codes[n_left:]
        vocab[column] = np.asarray(uniques, dtype=object)
    person_ids = pa.array(_strings(register, "person_id"), type=pa.large_string())
    return Prepared(left=left, right=right, vocab=vocab, person_ids=person_ids)
