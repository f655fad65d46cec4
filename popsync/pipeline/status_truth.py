"""The status popsync computed from its own links, against the status the same rules give from
a generated set's true links (``truth/<source>_links.csv``): how many people agree, and why each
one who does not differs.

Both sides read the same stored rows and apply the same rules (``popsync.core.status``): only the
links differ. Quarantined rows count on neither side. popsync's side is ``person_status`` as
stored (what the feed carries); the truth's counts every stored row for its true person. A
difference is explained by a row of the person's that waits for review or was left unlinked (a
steward's decision, or a better extract, would close it); a row linked to the wrong person is
not an explanation and is counted apart, as is any difference left without one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from popsync.core.status import EVENT_SOURCES, PENDING_FIELDS, STATUS_FIELDS, compute_status

COMPARED = [field for field in STATUS_FIELDS if field not in PENDING_FIELDS]


def compare_with_truth(store, truth_dir: str | Path, as_of) -> dict[str, Any]:
    """Compare ``store``'s person_status with the status of the true links in ``truth_dir``.
    Returns ``people`` (the register), ``people_with_events`` (either side says something),
    ``equal`` and ``equal_share`` (of the register) and ``equal_share_with_events``, and the
    ``differences`` by their explanation: ``review``, ``unlinked``, ``wrong_link``,
    ``unexplained``."""
    truth_dir = Path(truth_dir)
    people = pd.Index(
        [row[0] for row in store.fetch("SELECT so_dinh_danh FROM person")], name="so_dinh_danh"
    )
    events, rows = {}, []
    for kind, source in EVENT_SOURCES.items():
        if source not in store.catalog:
            continue
        stored = store.stored_events(source)
        truth = pd.read_csv(truth_dir / f"{source}_links.csv", dtype=str, keep_default_na=False)
        true_person = truth.set_index("record_id")["true_so_dinh_danh"].replace("", None)
        stored["true_so_dinh_danh"] = stored["record_id"].map(true_person)
        truly = stored[stored["true_so_dinh_danh"].notna()]
        events[kind] = truly.assign(so_dinh_danh=truly["true_so_dinh_danh"])
        rows.append(stored[["decision", "so_dinh_danh", "true_so_dinh_danh"]])
    expected = compute_status(people, as_of=as_of, **events)[COMPARED]
    found = store.status_of().reindex(people)
    empty = compute_status(["-"], as_of=as_of)[COMPARED].iloc[0]
    missing = found["doses"].isna()
    for field in COMPARED:
        found.loc[missing, field] = empty[field]
    found = found[COMPARED].astype(expected.dtypes.to_dict())
    by_field = {field: _differs(expected[field], found[field]) for field in COMPARED}
    differs = pd.Series(np.logical_or.reduce(list(by_field.values())), index=people)
    links = pd.concat(rows, ignore_index=True)
    differing = set(differs.index[differs])
    waiting = links[links["true_so_dinh_danh"].isin(differing)]
    by_review = set(waiting.loc[waiting["decision"].eq("review"), "true_so_dinh_danh"])
    by_unlinked = set(waiting.loc[waiting["decision"].eq("no_match"), "true_so_dinh_danh"])
    wrong = links[links["decision"].eq("match") & links["so_dinh_danh"].ne(
        links["true_so_dinh_danh"].fillna(""))]  # fmt: skip
    by_wrong = (set(wrong["so_dinh_danh"]) | set(wrong["true_so_dinh_danh"].dropna())) & differing
    explained = by_review | by_unlinked
    with_events = int(((expected["doses"] > 0) | (expected["f0_episodes"] > 0)
                       | expected["insured"] | expected["uninsured_since"].notna()
                       | differs).sum())  # fmt: skip
    equal = len(people) - len(differing)
    return {
        "people": len(people),
        "people_with_events": with_events,
        "equal": equal,
        "equal_share": equal / max(len(people), 1),
        "equal_share_with_events": 1 - len(differing) / max(with_events, 1),
        "differences": {
            "total": len(differing),
            "review": len(by_review),
            "unlinked": len(by_unlinked - by_review),
            "wrong_link": len(by_wrong - explained),
            "unexplained": len(differing - explained - by_wrong),
        },
        "fields": {field: int(mask.sum()) for field, mask in by_field.items() if mask.any()},
    }


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
