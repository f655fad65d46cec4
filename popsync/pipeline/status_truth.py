"""The status popsync computed from its own links, against the status the same rules give from
a generated set's true links (``truth/<source>_links.csv``): how many people agree, and why each
one who does not differs.

Both sides read the same stored rows and apply the same rules (``popsync.core.status``): only the
links differ. Quarantined rows count on neither side. popsync's side is ``person_status`` as
stored (what the feed carries); the truth's counts every stored row for its true person. A
difference is explained by a row of the person's that waits for review or was left unlinked (a
steward's decision, or a better extract, would close it), person by person: only when those
rows, linked as the truth links them, give the person their true status. A row linked to the
wrong person is not an explanation and is counted apart, as is any difference left without one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from popsync.core.privacy import mask_id, mask_record_id
from popsync.core.status import EVENT_SOURCES, PENDING_FIELDS, STATUS_FIELDS, compute_status

COMPARED = [field for field in STATUS_FIELDS if field not in PENDING_FIELDS]


def compare_with_truth(store, truth_dir: str | Path, as_of) -> dict[str, Any]:
    """Compare ``store``'s person_status with the status of the true links in ``truth_dir``.
    Returns ``people`` (the register), ``people_with_events`` (either side says something),
    ``equal`` and ``equal_share`` (of the register) and ``equal_share_with_events``, the
    ``differences`` by their explanation (``review``, ``unlinked``, ``wrong_link``,
    ``unexplained``) and ``people_differing``: one entry per person (ID masked) with the fields
    that differ, the explanation and the rows behind it.

    Person by person: a difference is explained by rows in review when the person's status from
    popsync's links plus their rows waiting for review (as the truth links them) is their true
    status; by unlinked rows when it takes their unlinked rows too; otherwise it is a wrong link
    when a row linked to the wrong person is theirs or was given to them, else unexplained."""
    truth_dir = Path(truth_dir)
    people = pd.Index(
        [row[0] for row in store.fetch("SELECT so_dinh_danh FROM person")], name="so_dinh_danh"
    )
    stored = {}
    for kind, source in EVENT_SOURCES.items():
        if source not in store.catalog:
            continue
        rows = store.stored_events(source)
        truth = pd.read_csv(truth_dir / f"{source}_links.csv", dtype=str, keep_default_na=False)
        true_person = truth.set_index("record_id")["true_so_dinh_danh"].replace("", None)
        stored[kind] = rows.assign(source=source,
                                   true_so_dinh_danh=rows["record_id"].map(true_person))  # fmt: skip
    expected = compute_status(people, as_of=as_of, **_linked(stored, "true_so_dinh_danh"))
    expected = expected[COMPARED]
    found = store.status_of().reindex(people)
    empty = compute_status(["-"], as_of=as_of)[COMPARED].iloc[0]
    missing = found["doses"].isna()
    for field in COMPARED:
        found.loc[missing, field] = empty[field]
    found = found[COMPARED].astype(expected.dtypes.to_dict())
    by_field = {field: _differs(expected[field], found[field]) for field in COMPARED}
    differs = pd.Series(np.logical_or.reduce(list(by_field.values())), index=people)
    differing = differs.index[differs]
    explained = _explain(stored, differing, expected, as_of)
    with_events = int(((expected["doses"] > 0) | (expected["f0_episodes"] > 0)
                       | expected["insured"] | expected["uninsured_since"].notna()
                       | differs).sum())  # fmt: skip
    equal = len(people) - len(differing)
    counts = explained["explanation"].value_counts()
    return {
        "people": len(people),
        "people_with_events": with_events,
        "equal": equal,
        "equal_share": equal / max(len(people), 1),
        "equal_share_with_events": 1 - len(differing) / max(with_events, 1),
        "differences": {"total": len(differing)}
        | {name: int(counts.get(name, 0)) for name in EXPLANATIONS},  # fmt: skip
        "fields": {field: int(mask.sum()) for field, mask in by_field.items() if mask.any()},
        "people_differing": [
            {
                "person": mask_id(person),
                "explanation": row["explanation"],
                "fields": [f for f in COMPARED if by_field[f][people.get_loc(person)]],
                "rows": row["rows"],
            }
            for person, row in explained.iterrows()
        ],  # fmt: skip
    }


EXPLANATIONS = ("review", "unlinked", "wrong_link", "unexplained")


def _linked(stored: dict[str, pd.DataFrame], person: str, also=()) -> dict[str, pd.DataFrame]:
    """Each kind's events as linked by ``person`` (a column): the rows linked by popsync
    (``so_dinh_danh``: decision match) or by the truth; ``also``: the decisions whose rows count
    too, for their true person."""
    events = {}
    for kind, rows in stored.items():
        if person == "so_dinh_danh":
            taken = rows[rows["decision"].eq("match")]
            extra = rows[rows["decision"].isin(also) & rows["true_so_dinh_danh"].notna()]
            taken = pd.concat([taken, extra.assign(so_dinh_danh=extra["true_so_dinh_danh"])])
        else:
            taken = rows[rows[person].notna()].assign(so_dinh_danh=rows[person])
        events[kind] = taken
    return events


def _explain(stored, differing: pd.Index, expected: pd.DataFrame, as_of) -> pd.DataFrame:
    """For each differing person: ``explanation`` and ``rows`` (``source record_id decision``,
    record ids masked) of theirs waiting, left unlinked or wrongly linked."""
    rows = pd.concat(stored.values(), ignore_index=True) if stored else pd.DataFrame()
    wrong = rows["decision"].eq("match") & rows["so_dinh_danh"].ne(
        rows["true_so_dinh_danh"].fillna(""))  # fmt: skip
    waiting = rows["decision"].isin(["review", "no_match"]) & rows["true_so_dinh_danh"].notna()
    label = (rows["source"] + " " + rows["record_id"].map(mask_record_id) + " "
             + rows["decision"])  # fmt: skip
    concerned: dict[str, list[str]] = {person: [] for person in differing}
    for mask, columns in ((waiting, ["true_so_dinh_danh"]),
                          (wrong, ["so_dinh_danh", "true_so_dinh_danh"])):  # fmt: skip
        for column in columns:
            for person, text in zip(rows.loc[mask, column], label[mask], strict=True):
                if person in concerned and text not in concerned[person]:
                    concerned[person].append(text)
    wronged = set(rows.loc[wrong, "so_dinh_danh"]) | set(rows.loc[wrong, "true_so_dinh_danh"])
    explanation = pd.Series("unexplained", index=differing, dtype=object)
    explanation[differing.isin(list(wronged))] = "wrong_link"
    # Checked in this order: the explanation that takes the fewest rows.
    for name, decisions in (("unlinked", ("review", "no_match")), ("review", ("review",))):
        status = compute_status(differing, as_of=as_of,
                                **_linked(stored, "so_dinh_danh", decisions))[COMPARED]  # fmt: skip
        target = expected.loc[differing]
        same = np.logical_and.reduce([~_differs(target[f], status[f]) for f in COMPARED])
        explanation[same] = name
    return pd.DataFrame({"explanation": explanation,
                         "rows": [sorted(concerned[p]) for p in differing]}, index=differing)  # fmt: skip


def _differs(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Where two columns disagree, a null agreeing with a null."""
    same = (a == b).fillna(False).to_numpy(dtype=bool)
    return ~(same | (a.isna().to_numpy() & b.isna().to_numpy()))


def decide_reviews_by_truth(store, truth_dir: str | Path, decided_by: str = "truth") -> int:
    """Decide every row waiting for review as a steward who knew the truth would: the true
    person when they are a candidate, else no match. Returns the rows decided. For measuring
    how far the status converges once the review queue is worked through."""
    truth_dir = Path(truth_dir)
    queue = store.review_queue(limit=10**9)
    truths: dict[str, pd.Series] = {}
    decided = 0
    for (source, delivery, record_id), candidates in queue.groupby(
        ["source", "delivery", "record_id"], sort=False
    ):
        if source not in truths:
            truth = pd.read_csv(truth_dir / f"{source}_links.csv", dtype=str,
                                keep_default_na=False)  # fmt: skip
            truths[source] = truth.set_index("record_id")["true_so_dinh_danh"]
        true = truths[source].get(record_id) or None
        person = true if true in set(candidates["so_dinh_danh"].dropna()) else None
        store.decide_review(source, record_id, person, decided_by=decided_by, delivery=delivery)
        decided += 1
    return decided
