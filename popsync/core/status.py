"""Each person's status from the events linked to them: vaccination (doses counted once, the
primary series by each product's schedule and the allowed mixes, the additional dose, boosters,
the next dose due), F0 (episodes, the latest positive test, recovery) and BHXH (insured on the
run date, since when). The rules are data (``status_rules.yaml``, ``vaccines.csv``,
``vaccine_mixing.csv``, read through ``popsync.core.domain``); this module applies them to every
person at once: numpy over the people, one step per rank of event (a person's first dose, second
dose, ...), never a Python loop over people.

``compute_status(people, doses, cases, periods, pending, as_of)`` gives one row per person asked
for, indexed by ``so_dinh_danh``, with ``STATUS_FIELDS`` and ``valid_until``; ``status_arrays``
the same as arrays, for the warehouse. Their digest: ``popsync.core.status_digest``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from popsync.core.contracts import BOOL, DATE, INT, TEXT
from popsync.core.status_rules import Rules, rules

# Days since 1970-01-01 inside; NaT's own int64 is "no date", the largest int64 "no end".
NONE = np.iinfo(np.int64).min
OPEN = np.iinfo(np.int64).max

STATUS_FIELDS = {
    # vaccination
    "doses": INT, "vaccination_status": TEXT, "primary_vaccine": TEXT, "primary_doses": INT,
    "primary_complete": BOOL, "primary_complete_date": DATE, "additional_dose_date": DATE,
    "boosters": INT, "last_booster_date": DATE, "last_dose_date": DATE, "doses_not_counted": INT,
    "next_dose": TEXT, "next_dose_due": DATE,
    # F0
    "f0_episodes": INT, "f0_latest_positive_date": DATE, "f0_recovered": BOOL,
    "f0_recovery_date": DATE,
    # BHXH
    "insured": BOOL, "insured_since": DATE, "coverage_end": DATE, "uninsured_since": DATE,
    # rows that may be the person's but do not count (yet)
    "rows_in_review": INT, "rows_unlinked": INT, "rows_quarantined": INT,
}  # fmt: skip
# Not a status field: the first day a person's status changes with no new event (the day after
# the coverage ends, or the start of a coverage to come); NaT when none.
VALID_UNTIL = "valid_until"
VACCINATION_STATES = ("none", "partial", "complete", "boosted")
PENDING_FIELDS = ("rows_in_review", "rows_unlinked", "rows_quarantined")
# The source each kind of event comes from (its declaration's id), and what compute_status
# reads of it.
EVENT_SOURCES = {"doses": "tiem_chung", "cases": "f0", "periods": "bhxh"}
EVENT_COLUMNS = {
    "doses": ("vaccination_date", "vaccine"),
    "cases": ("positive_date", "recovery_date"),
    "periods": ("period_start", "period_end"),
}


def compute_status(
    people,
    doses: pd.DataFrame | None = None,
    cases: pd.DataFrame | None = None,
    periods: pd.DataFrame | None = None,
    pending: pd.DataFrame | None = None,
    *,
    as_of: dt.date | str,
) -> pd.DataFrame:
    """The status of each of ``people`` (so_dinh_danh values) from their events, one row each,
    even with no event. Each frame has ``so_dinh_danh`` and its ``EVENT_COLUMNS`` (dates as
    datetime64, ``vaccine`` a ``vaccines.csv`` product or null); events of people not asked
    for are left out. ``pending``: ``so_dinh_danh`` and ``PENDING_FIELDS`` counts. ``as_of``:
    the day "insured" is about (the run date)."""
    keys = people_keys(people)
    r, n = rules(), len(keys)
    events = {kind: _events(keys, frame, kind, r)
              for kind, frame in (("doses", doses), ("cases", cases), ("periods", periods))}  # fmt: skip
    counts = {}
    for field in PENDING_FIELDS:
        counts[field] = np.zeros(n, dtype=np.int64)
        if pending is not None and len(pending):
            codes = person_codes(keys, pending["so_dinh_danh"])
            found = codes >= 0
            np.add.at(counts[field], codes[found], pending[field].to_numpy(dtype=np.int64)[found])
    out = status_arrays(n, events, counts, as_of)
    index = pd.Index(keys.to_pandas(), name="so_dinh_danh")
    return _frame(out, index)


def status_arrays(
    n: int, events: dict[str, tuple], pending: dict[str, np.ndarray], as_of: dt.date | str
) -> dict[str, np.ndarray]:
    """The status of people numbered 0..n-1, as arrays (``STATUS_FIELDS`` and ``valid_until``:
    dates as int64 days with ``NONE``, text as objects): what ``compute_status`` frames, and what
    the warehouse writes without a frame. ``events``: kind -> (person code, first, second) as
    ``event_arrays`` gives them; ``pending``: field -> counts per person."""
    r = rules()
    empty = (np.zeros(0, np.int64),) * 3
    out: dict[str, np.ndarray] = {}
    out.update(_vaccination(*events.get("doses", empty), n, r))
    out.update(_f0(*events.get("cases", empty), n, r))
    as_of_day = int(np.datetime64(pd.Timestamp(as_of).date(), "D").astype(np.int64))
    out.update(_insurance(*events.get("periods", empty), n, as_of_day, r))
    for field in PENDING_FIELDS:
        out[field] = pending.get(field, np.zeros(n, dtype=np.int64))
    return out


def event_arrays(kind: str, codes: np.ndarray, first: pa.Array, second: pa.Array) -> tuple:
    """(person code, first, second) of events read as Arrow columns (dates as date32, the
    vaccine as text): dates as int64 days, the vaccine as its ``vaccines.csv`` position (-1
    when unknown); events with no first date left out."""
    a = _arrow_days(first)
    if kind == "doses":
        b = person_codes(pa.array(rules().products, pa.string()), second)
    else:
        b = _arrow_days(second)
    keep = (codes >= 0) & (a != NONE)
    return codes[keep].astype(np.int64), a[keep], b[keep].astype(np.int64)


def _arrow_days(values: pa.Array) -> np.ndarray:
    """An Arrow date32 column as int64 days (null -> NONE)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    days = pc.cast(values.cast(pa.date32()), pa.int32()).cast(pa.int64())
    return days.fill_null(NONE).to_numpy()


def people_keys(people) -> pa.Array:
    """The distinct so_dinh_danh values, in first-seen order, as an Arrow string array."""
    if isinstance(people, pa.ChunkedArray):
        people = people.combine_chunks()
    values = people if isinstance(people, pa.Array) else _strings(people)
    return pc.unique(values.cast(pa.string()))


def person_codes(keys: pa.Array, values) -> np.ndarray:
    """The position of each value among ``keys`` (-1 when absent), hashed in Arrow."""
    found = pc.index_in(_strings(values), value_set=keys)
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _strings(values) -> pa.Array:
    """Values as an Arrow string array (zero-copy from pandas' Arrow-backed strings)."""
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks().cast(pa.string())
    if isinstance(values, pd.Series | pd.Index):
        values = values.array
    array = pa.array(values, from_pandas=True) if not isinstance(values, pa.Array) else values
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(pa.string()) if array.type != pa.string() else array


def days(values) -> np.ndarray:
    """Dates as int64 days (NaT -> NONE)."""
    return pd.to_datetime(pd.Series(values)).to_numpy(dtype="datetime64[D]").view(np.int64)


def _events(keys: pa.Array, frame: pd.DataFrame | None, kind: str, r: Rules) -> tuple:
    """(person code, first column, second column) of the events of the people of ``keys``."""
    if frame is None or frame.empty:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    codes = person_codes(keys, frame["so_dinh_danh"])
    first, second = EVENT_COLUMNS[kind]
    a = days(frame[first])
    if kind == "doses":
        b = person_codes(pa.array(r.products, pa.string()), frame[second])
    else:
        b = days(frame[second])
    keep = (codes >= 0) & (a != NONE)
    return codes[keep].astype(np.int64), a[keep], b[keep].astype(np.int64)


def _ranked(codes: np.ndarray, *keys: np.ndarray) -> tuple[np.ndarray, ...]:
    """Events sorted by person then ``keys``, duplicates of (person, keys...) dropped."""
    columns = [codes, *keys]
    # One int64 sort key when the columns' ranges fit in 63 bits (they do: people, days,
    # products), else a lexicographic sort.
    low = [c.min() if len(c) else 0 for c in columns]
    spans = [int(c.max()) - int(m) if len(c) else 0 for c, m in zip(columns, low, strict=True)]
    bits = [max(int(span).bit_length(), 1) for span in spans]
    if sum(bits) <= 63:
        packed = np.zeros(len(codes), dtype=np.int64)
        for column, start, width in zip(columns, low, bits, strict=True):
            packed = (packed << width) | (column - start)
        order = np.argsort(packed, kind="stable")
    else:
        order = np.lexsort((*reversed(keys), codes))
    columns = [codes[order], *(k[order] for k in keys)]
    if len(order):
        new = np.ones(len(order), dtype=bool)
        new[1:] = np.logical_or.reduce([c[1:] != c[:-1] for c in columns])
        columns = [c[new] for c in columns]
    return tuple(columns)


def _by_person(codes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Events per person and where each person's first event is (sorted codes)."""
    count = np.bincount(codes, minlength=n)
    return count, np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)


def _vaccination(codes, day, product, n: int, r: Rules) -> dict[str, np.ndarray]:
    codes, day, product = _ranked(codes, day, product)
    count, start = _by_person(codes, n)
    series = np.full(n, -1)
    last_product = np.full(n, -1)
    counted, additional_n, boosters, not_counted = (np.zeros(n, np.int64) for _ in range(4))
    last, complete, additional, last_booster = (np.full(n, NONE) for _ in range(4))
    max_boosters = len(r.booster_min)
    for k in range(int(count.max()) if n else 0):
        idx = np.flatnonzero(count > k)
        row = start[idx] + k
        d, p = day[row], product[row]
        s, known = series[idx], p >= 0
        s0, p0, lp0 = np.maximum(s, 0), np.maximum(p, 0), np.maximum(last_product[idx], 0)
        gap = d - np.where(last[idx] == NONE, d, last[idx])
        begins = (s < 0) & known
        primary = (s >= 0) & (complete[idx] == NONE) & known & r.primary_ok[s0, p0]
        primary &= gap >= r.min_interval[lp0]
        after = (s >= 0) & (complete[idx] != NONE) & known & r.booster_ok[s0, p0]
        b = boosters[idx]
        booster = after & (b < max_boosters)
        booster &= gap >= r.booster_min[np.minimum(b, max_boosters - 1)]
        extra = after & ~booster & (b == 0) & (additional_n[idx] < r.max_additional)
        extra &= gap >= r.additional_min

        i = idx[begins]
        series[i], last_product[i], counted[i], last[i] = p[begins], p[begins], 1, d[begins]
        done = r.primary_doses[p[begins]] <= 1
        complete[i[done]] = d[begins][done]
        i = idx[primary]
        counted[i] += 1
        last[i], last_product[i] = d[primary], p[primary]
        done = counted[i] >= r.primary_doses[series[i]]
        complete[i[done]] = d[primary][done]
        i = idx[extra]
        additional_n[i] += 1
        additional[i] = last[i] = d[extra]
        i = idx[booster]
        boosters[i] += 1
        last_booster[i] = last[i] = d[booster]
        not_counted[idx[~(begins | primary | extra | booster)]] += 1

    started, is_complete = series >= 0, complete != NONE
    more_boosters = is_complete & (boosters < max_boosters)
    due = np.full(n, NONE)
    waiting = started & ~is_complete
    due[waiting] = last[waiting] + r.min_interval[last_product[waiting]]
    due[more_boosters] = (
        last[more_boosters] + r.booster_min[np.minimum(boosters, max_boosters - 1)][more_boosters]
    )
    states = np.array(VACCINATION_STATES, dtype=object)
    state = np.where(count == 0, 0, np.where(~is_complete, 1, np.where(boosters == 0, 2, 3)))
    names = np.array([*r.products, None], dtype=object)
    last_dose = np.full(n, NONE)
    has = count > 0
    last_dose[has] = day[start[has] + count[has] - 1]
    return {
        "doses": count,
        "vaccination_status": states[state],
        "primary_vaccine": names[series],
        "primary_doses": counted,
        "primary_complete": is_complete,
        "primary_complete_date": complete,
        "additional_dose_date": additional,
        "boosters": boosters,
        "last_booster_date": last_booster,
        "last_dose_date": last_dose,
        "doses_not_counted": not_counted,
        "next_dose": np.where(waiting, "primary", np.where(more_boosters, "booster", None)),
        "next_dose_due": due,
    }


def _f0(codes, positive, recovery, n: int, r: Rules) -> dict[str, np.ndarray]:
    # One test per (person, day): the same case re-sent keeps its latest recovery date.
    codes, positive, recovery = _ranked(codes, positive, recovery)
    if len(codes):
        last_of_day = np.ones(len(codes), dtype=bool)
        last_of_day[:-1] = (codes[1:] != codes[:-1]) | (positive[1:] != positive[:-1])
        codes, positive, recovery = codes[last_of_day], positive[last_of_day], recovery[last_of_day]
    count, start = _by_person(codes, n)
    episodes = np.zeros(n, np.int64)
    episode_start, latest, recovered = (np.full(n, NONE) for _ in range(3))
    for k in range(int(count.max()) if n else 0):
        idx = np.flatnonzero(count > k)
        row = start[idx] + k
        p, rec = positive[row], recovery[row]
        began = episode_start[idx]
        new = (began == NONE) | (p - np.where(began == NONE, p, began) >= r.reinfection_days)
        i = idx[new]
        episodes[i] += 1
        episode_start[i], recovered[i] = p[new], rec[new]
        j = idx[~new]
        recovered[j] = np.maximum(recovered[j], rec[~new])
        latest[idx] = p
    has = episodes > 0
    flag = pd.array(np.where(has, recovered != NONE, False), dtype="boolean")
    flag[~has] = pd.NA
    return {
        "f0_episodes": episodes,
        "f0_latest_positive_date": latest,
        "f0_recovered": flag,
        "f0_recovery_date": recovered,
    }


def _insurance(codes, begin, end, n: int, as_of: int, r: Rules) -> dict[str, np.ndarray]:
    end = np.where(end == NONE, OPEN, end)
    keep = end >= begin
    codes, begin, end = _ranked(codes[keep], begin[keep], end[keep])
    insured = np.zeros(n, dtype=bool)
    since, until, lapsed, valid = (np.full(n, NONE) for _ in range(4))
    if len(codes):
        # Continuous coverage: a period starting within continuity_days of the coverage so far.
        frame = pd.DataFrame({"code": codes, "begin": begin, "end": end})
        reach = frame.groupby("code", sort=False)["end"].cummax()
        before = reach.groupby(frame["code"], sort=False).shift()
        new = before.isna().to_numpy() | (
            frame["begin"].to_numpy() - r.continuity_days > before.fillna(OPEN).to_numpy()
        )
        blocks = frame.groupby(np.cumsum(new), sort=False).agg(
            code=("code", "first"), begin=("begin", "min"), end=("end", "max")
        )
        b_code, b_begin, b_end = (blocks[c].to_numpy() for c in ("code", "begin", "end"))
        now = (b_begin <= as_of) & (b_end >= as_of)
        insured[b_code[now]] = True
        since[b_code[now]] = b_begin[now]
        until[b_code[now]] = np.where(b_end[now] == OPEN, NONE, b_end[now])
        past = b_end < as_of
        np.maximum.at(lapsed, b_code[past], b_end[past] + 1)
        lapsed[insured] = NONE
        # The first day the status changes by itself: the day after the coverage ends, or the
        # start of a coverage to come.
        coming = np.full(n, OPEN)
        future = b_begin > as_of
        np.minimum.at(coming, b_code[future], b_begin[future])
        valid[~insured & (coming != OPEN)] = coming[~insured & (coming != OPEN)]
        ends = insured & (until != NONE)
        valid[ends] = until[ends] + 1
    return {
        "insured": insured,
        "insured_since": since,
        "coverage_end": until,
        "uninsured_since": lapsed,
        "valid_until": valid,
    }


def _frame(out: dict[str, np.ndarray], index: pd.Index) -> pd.DataFrame:
    columns = {}
    for field, kind in {**STATUS_FIELDS, VALID_UNTIL: DATE}.items():
        values = out[field]
        if kind == DATE:
            values = values.view("datetime64[D]").astype("datetime64[s]")
        elif kind == INT:
            values = values.astype(np.int32)
        elif kind == TEXT:
            values = pd.array(values, dtype="string")
        columns[field] = values
    return pd.DataFrame(columns, index=index)
