"""Noise and violations injected into the extract rows, recorded per (row, kind).

Rows are drawn among those where a kind can apply; kinds of one group (ID, text form of the
name, birth date, sex, event date, phone) never meet on the same row, so what the truth says
is what the file shows. Per-row string edits run on the drawn rows only (a few percent).
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from popsync.core import domain
from popsync.generate.catalogue import KIND_BY_NAME, PLACEHOLDER_IDS, UNKNOWN_VACCINES
from popsync.generate.common import (
    EXTRACT_DATE,
    MISSING,
    day,
    from_ymd,
    month_start,
    strip_diacritics,
    year_month_day,
)
from transforms.legacy_encodings import to_cp1258_bytes, to_tcvn3_mojibake, to_vni_mojibake

# Old (traditional) -> new tone placement in open syllables oa, oe, uy: hòa -> hoà.
_TONED_FIRST = {"o": "òóỏõọ", "u": "ùúủũụ", "O": "ÒÓỎÕỌ", "U": "ÙÚỦŨỤ"}
_SECOND = {"o": "ae", "u": "y", "O": "AE", "U": "Y"}
_TONE_SWAP: dict[str, str] = {}
for _base, _toned in _TONED_FIRST.items():
    for _mark_index, _first in enumerate(_toned):
        _mark = unicodedata.normalize("NFD", _first)[1]
        for _second in _SECOND[_base]:
            _new = _base + unicodedata.normalize("NFC", _second + _mark)
            _TONE_SWAP[_first + _second] = _new
            _TONE_SWAP[_new] = _first + _second
_TONE_RE = re.compile("(" + "|".join(_TONE_SWAP) + r")(?!\w)")
_TONE_FIND = "(?:" + "|".join(_TONE_SWAP) + r")(?!\w)"
_LETTERS = "abcdeghiklmnopqrstuvxyđ"
_ABBREVIATIONS = (
    ("Thành phố Hà Nội", "TP. Hà Nội"),
    ("Thị trấn ", "TT. "),
    ("Thị xã ", "TX. "),
    ("Phường ", "P. "),
    ("Quận ", "Q. "),
    ("Huyện ", "H. "),
    ("Xã ", "X. "),
    ("Thành phố ", "TP. "),
    ("Tỉnh ", "T. "),
)


class Injector:
    """Draws rows for each kind and records them; ``taken`` keeps groups exclusive."""

    def __init__(self, rng: np.random.Generator, source: str, rows: pd.DataFrame, rates: dict):
        self.rng, self.source, self.rows, self.rates = rng, source, rows, rates
        self.n = len(rows)
        self.records: list[tuple[np.ndarray, str]] = []
        self.counts: dict[str, int] = {}

    def draw(
        self,
        kind: str,
        eligible: np.ndarray,
        taken: np.ndarray | None = None,
        weights: np.ndarray | None = None,
    ) -> np.ndarray:
        if self.source not in KIND_BY_NAME[kind].sources or self.n == 0:
            return np.array([], dtype=np.int64)
        mask = eligible if taken is None else eligible & ~taken
        candidates = np.flatnonzero(mask)
        k = min(candidates.size, int(self.rng.binomial(self.n, self.rates[kind])))
        if weights is None:
            chosen = self.rng.choice(candidates, k, replace=False)
        else:  # weighted sampling without replacement (Efraimidis-Spirakis keys)
            keys = self.rng.random(candidates.size) ** (1.0 / weights[candidates])
            chosen = candidates[np.argpartition(-keys, k)[:k]] if k else candidates[:0]
        chosen = np.sort(chosen)
        if taken is not None:
            taken[chosen] = True
        self.record(chosen, kind)
        return chosen

    def drawn(self, kind: str) -> np.ndarray:
        """A mask of the rows that got ``kind``."""
        mask = np.zeros(self.n, dtype=bool)
        for positions, name in self.records:
            if name == kind:
                mask[positions] = True
        return mask

    def record(self, positions: np.ndarray, kind: str) -> None:
        self.records.append((positions, kind))
        self.counts[kind] = self.counts.get(kind, 0) + positions.size

    def edit(self, column: str, positions: np.ndarray, function) -> None:
        if positions.size:
            values = self.rows[column].to_numpy()[positions]
            self.rows.loc[positions, column] = [function(value) for value in values]


def inject(
    rng: np.random.Generator,
    source: str,
    rows: pd.DataFrame,
    people: pd.DataFrame,
    rates: dict,
    encoding: str,
    numeric_ids: bool,
) -> tuple[pd.DataFrame, Injector]:
    """Noise ``rows`` (one extract, clean, with ``pid``) in place of a copy; returns the rows
    and the injector holding the (positions, kind) records."""
    rows = rows.reset_index(drop=True).copy()
    inj = Injector(rng, source, rows, rates)
    _events(inj, people)
    _ids(inj, people)
    _names(inj, people, encoding)
    _birth_and_sex(inj)
    _address_and_phone(inj)
    if numeric_ids:
        _excel_numbers(inj)
    return inj.rows, inj


def _ids(inj: Injector, people: pd.DataFrame) -> None:
    rows, rng = inj.rows, inj.rng
    pid = rows["pid"].to_numpy()
    ids = rows["id"]
    has_id = (ids != "").to_numpy()
    taken = ~has_id
    missing = inj.draw("id_missing", has_id, taken)
    rows.loc[missing, "id"] = ""
    cmnd = people["cmnd"].to_numpy()
    chosen = inj.draw("id_cmnd", cmnd[pid] != "", taken)
    rows.loc[chosen, "id"] = cmnd[pid[chosen]]
    resident = people["resident"].to_numpy()[pid]
    other = people["household_other"].to_numpy()[pid]
    minor = people["age"].to_numpy()[pid] < 18
    chosen = inj.draw("id_borrowed", resident & (other >= 0), taken, np.where(minor, 8.0, 1.0))
    rows.loc[chosen, "id"] = people["id"].to_numpy()[other[chosen]]

    def typo_digit(value: str) -> str:
        i = int(rng.integers(0, len(value)))
        return value[:i] + str((int(value[i]) + int(rng.integers(1, 10))) % 10) + value[i + 1 :]

    inj.edit("id", inj.draw("id_typo_digit", has_id, taken), typo_digit)

    def typo_swap(value: str) -> str:
        spots = [i for i in range(len(value) - 1) if value[i] != value[i + 1]]
        i = spots[int(rng.integers(0, len(spots)))]
        return value[:i] + value[i + 1] + value[i] + value[i + 2 :]

    inj.edit("id", inj.draw("id_typo_swap", has_id, taken), typo_swap)
    starts_zero = ids.str.startswith("0").to_numpy()
    inj.edit("id", inj.draw("id_leading_zero_lost", has_id & starts_zero, taken), lambda v: v[1:])
    wrong = inj.draw("id_wrong", has_id, taken)
    rows.loc[wrong, "id"] = [
        f"001{rng.integers(0, 4)}{rng.integers(40, 100):02d}{rng.integers(0, 10**6):06d}"
        for _ in wrong
    ]
    # The co-twin's given name on a row with the twin's own ID: a twin differing by the given
    # name only; the ID owner and the co-twin named on the row both stay in review.
    twin = people["twin"].to_numpy()[pid]
    chosen = inj.draw("name_twin", resident & has_id & (twin >= 0), taken)
    family, middle = people["family"].to_numpy()[pid], people["middle"].to_numpy()[pid]
    given = people["given"].to_numpy()
    rows.loc[chosen, "name"] = family[chosen] + " " + middle[chosen] + " " + given[twin[chosen]]
    placeholder = inj.draw("id_placeholder", has_id, taken)
    rows.loc[placeholder, "id"] = np.array(PLACEHOLDER_IDS, dtype=object)[
        rng.integers(0, len(PLACEHOLDER_IDS), placeholder.size)
    ]


def _typo(rng: np.random.Generator, name: str) -> str:
    words = name.split(" ")
    w = int(rng.integers(0, len(words)))
    word = words[w]
    i = int(rng.integers(1, len(word) + 1)) if len(word) > 1 else 1
    op = int(rng.integers(0, 3)) if len(word) > 1 else 0
    letter = _LETTERS[int(rng.integers(0, len(_LETTERS)))]
    if op == 0:
        word = word[:i] + letter + word[i:]
    elif op == 1:
        word = word[: i - 1] + word[i:]
    else:
        letter = letter if letter != word[i - 1].lower() else "x"
        word = word[: i - 1] + letter + word[i:]
    words[w] = word
    return " ".join(words)


def _names(inj: Injector, people: pd.DataFrame, encoding: str) -> None:
    rows, rng = inj.rows, inj.rng
    pid = rows["pid"].to_numpy()
    everyone = np.ones(inj.n, dtype=bool)
    family, middle, given = (people[c].to_numpy()[pid] for c in ("family", "middle", "given"))
    order_taken = inj.drawn("name_twin")  # rebuilt from the person's names: not on those rows
    chosen = inj.draw("name_middle_dropped", everyone, order_taken)
    rows.loc[chosen, "name"] = family[chosen] + " " + given[chosen]
    chosen = inj.draw("name_order_swapped", everyone, order_taken)
    rows.loc[chosen, "name"] = given[chosen] + " " + family[chosen] + " " + middle[chosen]
    inj.edit("name", inj.draw("name_typo", everyone), lambda v: _typo(rng, v))
    inj.edit("name", inj.draw("name_upper", everyone), str.upper)

    # Text-form kinds only on names they change (some names, e.g. "Phan Quang Anh", are ASCII).
    form_taken = np.zeros(inj.n, dtype=bool)
    accented = rows["name"].str.contains(r"[^\x00-\x7f]", regex=True).to_numpy()
    inj.edit("name", inj.draw("name_no_diacritics", accented, form_taken), strip_diacritics)
    tone = rows["name"].str.contains(_TONE_FIND, regex=True).to_numpy()
    inj.edit(
        "name",
        inj.draw("name_tone_placement", tone, form_taken.copy()),
        lambda v: _TONE_RE.sub(lambda m: _TONE_SWAP[m.group(1)], v),
    )
    if encoding != "cp1258":  # Windows-1258 files store tones decomposed anyway
        decomposable = rows["name"].str.contains(r"[^\x00-\x7fđĐ]", regex=True).to_numpy()
        inj.edit(
            "name",
            inj.draw("name_nfd", decomposable, form_taken),
            lambda v: unicodedata.normalize("NFD", v),
        )
    accented = rows["name"].str.contains(r"[^\x00-\x7f]", regex=True).to_numpy()
    for kind, function in (("name_tcvn3", to_tcvn3_mojibake), ("name_vni", to_vni_mojibake)):
        eligible = accented & ~form_taken
        if encoding == "cp1258":  # only the mojibake that Windows-1258 can store
            values = rows["name"].to_numpy()
            eligible[eligible] = [_encodable(function(v)) for v in values[eligible]]
        inj.edit("name", inj.draw(kind, eligible, form_taken), function)


def _encodable(text: str) -> bool:
    try:
        to_cp1258_bytes(text)
    except UnicodeEncodeError:
        return False
    return True


def _birth_and_sex(inj: Injector) -> None:
    rows = inj.rows
    birth = rows["birth"].to_numpy().copy()
    full = rows["birth_mode"].to_numpy() == 0
    years, months, days = year_month_day(birth)
    taken = ~full
    chosen = inj.draw("birth_year_only", full, taken)
    rows.loc[chosen, "birth_mode"] = 1
    chosen = inj.draw("birth_day_month_swapped", full & (days <= 12) & (days != months), taken)
    birth[chosen] = from_ymd(years[chosen], days[chosen], months[chosen])
    chosen = inj.draw("birth_placeholder", full & ~((days == 1) & (months == 1)), taken)
    birth[chosen] = from_ymd(years[chosen], 1, 1)
    rows["birth"] = birth
    everyone, taken = np.ones(inj.n, dtype=bool), np.zeros(inj.n, dtype=bool)
    rows.loc[inj.draw("sex_missing", everyone, taken), "sex"] = ""
    chosen = inj.draw("sex_wrong", everyone, taken)
    rows.loc[chosen, "sex"] = np.where(rows["sex"].to_numpy()[chosen] == "Nam", "Nữ", "Nam")


def _abbreviate(address: str) -> str:
    for long, short in _ABBREVIATIONS:
        address = address.replace(long, short)
    return (
        address.replace("TP. Hà Nội", "HN")
        if address.endswith("Q. Ba Đình, TP. Hà Nội")
        else address
    )


def _address_and_phone(inj: Injector) -> None:
    rows, rng = inj.rows, inj.rng
    everyone = np.ones(inj.n, dtype=bool)
    inj.edit("address", inj.draw("address_abbreviated", everyone), _abbreviate)
    accented = rows["address"].str.contains(r"[^\x00-\x7f]", regex=True).to_numpy()
    inj.edit("address", inj.draw("address_no_diacritics", accented), strip_diacritics)
    if "phone" not in rows:
        return
    phone = rows["phone"]
    ten_digits = (phone.str.len() == 10).to_numpy()
    taken = ~ten_digits
    old_of = {new: old for old, new in domain.facts()["mobile_prefix_renumbering_2018"].items()}
    renumbered = phone.str[:3].isin(list(old_of)).to_numpy()
    inj.edit(
        "phone", inj.draw("phone_old_prefix", renumbered, taken), lambda v: old_of[v[:3]] + v[3:]
    )

    def reformat(value: str) -> str:
        styles = (
            f"+84 {value[1:4]} {value[4:7]} {value[7:]}",
            f"84{value[1:]}",
            f"{value[:4]}.{value[4:7]}.{value[7:]}",
            f"{value[:4]} {value[4:7]} {value[7:]}",
            f"(+84) {value[1:]}",
        )
        return styles[int(rng.integers(0, len(styles)))]

    inj.edit("phone", inj.draw("phone_format", everyone, taken), reformat)


def _events(inj: Injector, people: pd.DataFrame) -> None:
    rows, rng, source = inj.rows, inj.rng, inj.source
    pid = rows["pid"].to_numpy()
    n = inj.n
    last = np.ones(n, dtype=bool)
    last[:-1] = pid[:-1] != pid[1:]
    date_col = {"tiem_chung": "date", "f0": "positive", "bhxh": "start"}[source]
    dates = rows[date_col].to_numpy().copy()
    extract = day(EXTRACT_DATE)
    taken = np.zeros(n, dtype=bool)
    death = np.where(people["resident"].to_numpy(), people["death"].to_numpy(), -1)[pid]

    if source == "bhxh":
        end = rows["end"].to_numpy().copy()
        death_month = death.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        after = month_start(death_month + 1)
        chosen = inj.draw("event_after_death", last & (death >= 0) & (after < extract), taken)
        dates[chosen], end[chosen] = after[chosen], MISSING
        ext_month = np.datetime64(EXTRACT_DATE, "M").astype(np.int64)
        chosen = inj.draw("date_future", last & (end == MISSING), taken)
        dates[chosen] = month_start(ext_month + rng.integers(1, 13, chosen.size))
        chosen = inj.draw("bhxh_period_reversed", end != MISSING, taken)
        dates[chosen], end[chosen] = end[chosen], dates[chosen]
        rows["end"] = end

        def invalid(value: str) -> str:
            return (value[:-1], value + str(rng.integers(0, 10)), value[:5] + "O" + value[6:])[
                int(rng.integers(0, 3))
            ]

        inj.edit("bhxh_number", inj.draw("bhxh_number_invalid", np.ones(n, bool)), invalid)
    else:
        room = extract - death - 1
        chosen = inj.draw("event_after_death", last & (death >= 0) & (room > 1), taken)
        dates[chosen] = (
            death[chosen]
            + 1
            + (rng.random(chosen.size) * np.minimum(room[chosen] - 1, 90)).astype(np.int64)
        )
        chosen = inj.draw("date_future", last, taken)
        dates[chosen] = extract + rng.integers(1, 366, chosen.size)
    if source == "tiem_chung":
        dose = rows["dose"].to_numpy()
        chosen = inj.draw("date_before_campaign", dose == 1, taken)
        dates[chosen] = day("2021-03-08") - rng.integers(1, 121, chosen.size)
        has_prev = np.zeros(n, dtype=bool)
        has_prev[1:] = pid[1:] == pid[:-1]
        prev_free = np.zeros(n, dtype=bool)
        prev_free[1:] = ~taken[:-1]
        chosen = inj.draw("dose_interval_short", has_prev & prev_free, taken)
        dates[chosen] = dates[chosen - 1] + rng.integers(5, 13, chosen.size)
        chosen = inj.draw("dose_number_invalid", np.ones(n, bool))
        rows.loc[chosen, "dose"] = rng.choice([0, 5, 6], chosen.size)
        chosen = inj.draw("vaccine_unknown", np.ones(n, bool))
        rows.loc[chosen, "vaccine"] = np.array(UNKNOWN_VACCINES, dtype=object)[
            rng.integers(0, len(UNKNOWN_VACCINES), chosen.size)
        ]
    if source == "f0":
        recovery = rows["recovery"].to_numpy().copy()
        moved = taken.copy()
        recovery[moved & (recovery != MISSING)] = dates[moved & (recovery != MISSING)] + 10
        chosen = inj.draw("recovery_before_positive", recovery != MISSING, taken)
        recovery[chosen] = dates[chosen] - rng.integers(1, 11, chosen.size)
        rows["recovery"] = recovery
    rows[date_col] = dates


def _excel_numbers(inj: Injector) -> None:
    """IDs and phones typed into Excel become numbers: leading zeros go (recorded for IDs)."""
    rows = inj.rows
    ids = rows["id"]
    numeric = ids.str.fullmatch(r"0\d*").fillna(False).to_numpy()
    already = np.zeros(inj.n, dtype=bool)
    for positions, kind in inj.records:
        if kind == "id_leading_zero_lost":
            already[positions] = True
    rows.loc[numeric, "id"] = ids[numeric].str.lstrip("0").replace("", "0")
    inj.record(np.flatnonzero(numeric & ~already), "id_leading_zero_lost")
    phone = rows["phone"]
    digits = phone.str.fullmatch(r"0\d+").fillna(False).to_numpy()
    rows.loc[digits, "phone"] = phone[digits].str.lstrip("0")
