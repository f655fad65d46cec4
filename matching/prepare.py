"""Aligned integer columns of the extract (left) and the register (right).

Strings are factorized over both sides together, so equality is an integer test and string
similarity is computed once per distinct pair of values. Columns that one level or blocking
rule compares with each other (``left``/``right``) share one dictionary, so that a code means
the same text in both. Every column uses -1 for null.

From a standardized frame: ``id12``/``id9`` (the register's ``person_id``/``cmnd``, the
extract's ``id_number``), ``id_birth_year``/``id_sex`` (what a 12-digit ID encodes), ``dob``
(days, day precision only), ``dob_ymd`` (yyyymmdd), ``dob_swapped``, ``birth_year``,
``birth_md`` (mmdd), ``dob_imprecise``, ``sex``, ``id_year_if_undeclared`` and
``id_sex_if_undeclared`` (what the ID encodes, where the row declares no birth year or sex), the name, phone and address columns of
``STRING_COLUMNS``. Any other text column the settings declare is taken as it is (trimmed and
lower-cased).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from matching.prepared_register import PreparedRegister
from popsync.core import domain
from popsync.core.errors import UserError

STRING_COLUMNS = (
    *("family_name", "middle_name", "given_name", "family_key", "middle_key", "given_key"),
    *("name_key", "name_sorted_key", "phone", "province_code", "district_code", "ward_code"),
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
    n_left: int
    n_right: int
    # What is derived from the register side alone (blocking indexes): built once, shared by
    # every chunk linked against the same prepared register.
    register_cache: dict = field(default_factory=dict, repr=False)

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


def _plain_text(frame: pd.DataFrame, column: str) -> pd.Series:
    values = frame[column].astype("string").str.strip().str.lower()
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
    """Birth date as days (day precision only), yyyymmdd, its day/month swap, year, mmdd and
    imprecision.

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
    side["dob_ymd"] = np.where(precise, year * 10000 + month * 100 + day, -1)
    side["birth_md"] = np.where(precise, month * 100 + day, -1)
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
    # A placeholder 01/01 is no day and month: such a date compares by its year only.
    for column in ("dob", "dob_ymd", "dob_swapped", "birth_md"):
        side[column] = np.where(imprecise, -1, side[column])


def _id_facts(side: dict[str, np.ndarray]) -> None:
    """What a 12-digit ID encodes: birth year (century digit + 2 digits) and sex (0 M, 1 F)."""
    century = np.full(10, -1, dtype=np.int64)
    sex = np.full(10, -1, dtype=np.int64)
    for digit, (start, code) in domain.id_century_sex().items():
        century[int(digit)] = start
        sex[int(digit)] = 0 if code == "M" else 1
    ids = side["id12"]
    has = ids >= 0
    digit = np.where(has, (ids // 10**8) % 10, 0)
    years = (ids // 10**6) % 100
    side["id_birth_year"] = np.where(has & (century[digit] >= 0), century[digit] + years, -1)
    side["id_sex"] = np.where(has, sex[digit], -1)


def _side(
    frame: pd.DataFrame, register: bool, columns: set[str]
) -> tuple[dict[str, np.ndarray], dict[str, pd.Series]]:
    side: dict[str, np.ndarray] = {}
    if register:
        side["id12"] = _digits(_strings(frame, "person_id"), 12)
        side["id9"] = _digits(_strings(frame, "cmnd"), 9)
    else:
        ids = _strings(frame, "id_number").mask(_flagged(frame, "id_number:placeholder"))
        side["id12"] = _digits(ids, 12)
        side["id9"] = _digits(ids, 9)
    _id_facts(side)
    _dates(frame, side)
    sex = _strings(frame, "sex")
    side["sex"] = np.select([(sex == "M").fillna(False), (sex == "F").fillna(False)], [0, 1], -1)
    # What the ID encodes stands in for a birth year or sex the row does not declare only.
    side["id_year_if_undeclared"] = np.where(side["birth_year"] < 0, side["id_birth_year"], -1)
    side["id_sex_if_undeclared"] = np.where(side["sex"] < 0, side["id_sex"], -1)
    strings = {column: _strings(frame, column) for column in STRING_COLUMNS if column in columns}
    if "name_sorted_key" in columns:
        strings["name_sorted_key"] = _sorted_tokens(_strings(frame, "name_key"))
    return side, strings


def _text_side(frame: pd.DataFrame, columns: set[str], what: str) -> dict[str, pd.Series]:
    missing = sorted(column for column in columns if column not in frame.columns)
    if missing:
        raise UserError(
            f"the linkage settings compare {', '.join(missing)}, which the {what} lacks "
            f"(its columns: {', '.join(map(str, frame.columns))})"
        )
    return {column: _plain_text(frame, column) for column in columns}


def dictionary_groups(pairs: list[tuple[str, str]], columns: list[str]) -> list[list[str]]:
    """Columns in groups that must share one dictionary: those compared with each other."""
    group = {column: {column} for column in columns}
    for left, right in pairs:
        if left in group and right in group and group[left] is not group[right]:
            merged = group[left] | group[right]
            for column in merged:
                group[column] = merged
    seen, out = set(), []
    for column in columns:
        if id(group[column]) not in seen:
            seen.add(id(group[column]))
            out.append([c for c in columns if c in group[column]])
    return out


def _string_names(columns: set[str], text: set[str]) -> list[str]:
    return [c for c in STRING_COLUMNS if c in columns] + sorted(text - set(STRING_COLUMNS))


def prepare_register(
    parts: pd.DataFrame | Iterable[pd.DataFrame],
    columns: set[str],
    text_columns: set[str] = frozenset(),
    cross_pairs: list[tuple[str, str]] = (),
) -> PreparedRegister:
    """The register side on its own, its strings dictionary-coded (one dictionary per group of
    columns compared with each other): prepared once per snapshot, reused by every extract
    chunk (``prepare(extract, prepared, ...)`` with the same arguments). ``parts``: the
    standardized register, or its parts in order (only the prepared columns are held)."""
    parts = [parts] if isinstance(parts, pd.DataFrame) else parts
    text = set(text_columns) & columns
    numbers: dict[str, list[np.ndarray]] = {}
    texts: dict[str, list[pa.Array]] = {}
    ids: list[pa.Array] = []
    for part in parts:
        right, strings = _side(part, register=True, columns=columns)
        strings.update(_text_side(part, text, "register"))
        for name, values in right.items():
            numbers.setdefault(name, []).append(values)
        for name, values in strings.items():
            texts.setdefault(name, []).append(pa.array(values, pa.large_string()))
        ids.append(pa.array(_strings(part, "person_id"), type=pa.large_string()))
    right = {name: np.concatenate(values) for name, values in numbers.items()}
    n = sum(len(chunk) for chunk in ids)
    groups = dictionary_groups(list(cross_pairs), _string_names(columns, text))
    vocab = {}
    for group in groups:
        chunks = [chunk for column in group for chunk in texts.pop(column)]
        coded = pa.chunked_array(chunks, pa.large_string()).combine_chunks().dictionary_encode()
        codes = coded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        for index, column in enumerate(group):
            right[column] = codes[index * n : (index + 1) * n]
            vocab[column] = coded.dictionary
    person_ids = pa.chunked_array(ids, pa.large_string()).combine_chunks()
    return PreparedRegister(right, vocab, person_ids, frozenset(columns),
                            tuple(tuple(group) for group in groups))  # fmt: skip


def _coded_against(values: pd.Series, register: PreparedRegister, column: str):
    """Codes of ``values`` in the register's dictionary of ``column``; values it lacks get
    codes after it. Returns the codes and the (extended) dictionary."""
    lookup = register.lookup(column)
    codes = lookup.get_indexer(values.to_numpy(dtype=object, na_value=None)).astype(np.int64)
    unseen = (codes < 0) & values.notna().to_numpy(bool)
    vocab = register.values(column)
    if unseen.any():
        new_codes, new_values = pd.factorize(values[unseen])
        codes[unseen] = len(vocab) + new_codes
        vocab = np.concatenate([vocab, np.asarray(new_values, dtype=object)])
    return codes, vocab


def _against_prepared(left, left_strings, register: PreparedRegister, columns, text, cross_pairs,
                      n_left: int) -> Prepared:  # fmt: skip
    missing = sorted(columns - register.columns)
    groups = tuple(
        tuple(g) for g in dictionary_groups(list(cross_pairs), _string_names(columns, text))
    )
    if missing or groups != register.groups:
        raise UserError("the prepared register was prepared with other linkage settings")
    vocab = {}
    for group in groups:
        both = pd.concat([left_strings[c] for c in group], ignore_index=True)
        codes, values = _coded_against(both, register, group[0])
        for index, column in enumerate(group):
            left[column] = codes[index * n_left : (index + 1) * n_left]
            vocab[column] = values
    return Prepared(left, register.right, vocab, register.person_ids, n_left, len(register),
                    register.derived)  # fmt: skip


def prepare(
    extract: pd.DataFrame,
    register: pd.DataFrame | PreparedRegister,
    columns: set[str],
    text_columns: set[str] = frozenset(),
    cross_pairs: list[tuple[str, str]] = (),
) -> Prepared:
    """Prepared sides; of the string columns only those in ``columns`` are factorized.
    ``text_columns`` are taken from the frames as they are; ``cross_pairs`` are the (left,
    right) columns compared with each other. ``register``: the standardized register, or its
    side prepared once (``prepare_register``, same arguments)."""
    left, left_strings = _side(extract, register=False, columns=columns)
    text = set(text_columns) & columns
    left_strings.update(_text_side(extract, text, "extract"))
    if isinstance(register, PreparedRegister):
        return _against_prepared(left, left_strings, register, columns, text, cross_pairs,
                                 len(extract))  # fmt: skip
    right, right_strings = _side(register, register=True, columns=columns)
    right_strings.update(_text_side(register, text, "register"))
    vocab = {}
    n_left = len(extract)
    for group in dictionary_groups(list(cross_pairs), _string_names(columns, text)):
        parts = [left_strings[c] for c in group] + [right_strings[c] for c in group]
        both = pd.concat(parts, ignore_index=True)
        codes, uniques = pd.factorize(both, use_na_sentinel=True)
        codes = codes.astype(np.int64)
        values = np.asarray(uniques, dtype=object)
        n_right = len(register)
        for index, column in enumerate(group):
            left[column] = codes[index * n_left : (index + 1) * n_left]
            start = len(group) * n_left + index * n_right
            right[column] = codes[start : start + n_right]
            vocab[column] = values
    person_ids = pa.array(_strings(register, "person_id"), type=pa.large_string())
    return Prepared(left, right, vocab, person_ids, n_left, len(register))
