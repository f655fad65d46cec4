"""Score linkage decisions against the generator's truth files.

Definitions (one row per extract row):

- a row is *linkable* when its truth names a person (``true_so_dinh_danh`` not empty);
- a ``match`` is *correct* when its ``so_dinh_danh`` equals the truth, otherwise it is a
  *wrong link* (to another person, or to anyone for a person not in the register);
- precision = correct / match decisions (0.0 when there is no ``match``);
- recall = correct / linkable rows (0.0 when no row is linkable);
- F1 = harmonic mean of the two (0.0 when both are 0).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from matching.engine import DECISIONS
from popsync.core.errors import UserError

TRUTH_COLUMNS = ("source", "record_id", "true_so_dinh_danh")


def read_truth(dataset_dir: str | Path, source: str) -> pd.DataFrame:
    """``truth/<source>_links.csv`` of a generated data set; empty IDs become null.

    Every value is read as a string so that IDs keep their leading zeros.
    """
    path = Path(dataset_dir) / "truth" / f"{source}_links.csv"
    if not path.is_file():
        raise UserError(f"truth file {path} does not exist (generate the data set first)")
    truth = pd.read_csv(path, dtype="string", keep_default_na=False)
    missing = [column for column in TRUTH_COLUMNS if column not in truth.columns]
    if missing:
        raise UserError(f"truth file {path} lacks the columns {', '.join(missing)}")
    truth = truth.loc[:, list(TRUTH_COLUMNS)]
    truth["true_so_dinh_danh"] = _blank_to_null(truth["true_so_dinh_danh"])
    return truth


def _blank_to_null(values: pd.Series) -> pd.Series:
    strings = values.astype("string").str.strip()
    return strings.mask(strings == "")


def evaluate(decisions: pd.DataFrame, truth: pd.DataFrame) -> dict[str, Any]:
    """Precision, recall, F1, decision shares and counts of ``decisions`` against ``truth``.

    ``decisions``: ``record_id``, ``so_dinh_danh``, ``decision`` (one row per extract row);
    ``truth``: ``record_id``, ``true_so_dinh_danh`` (null or empty when the person is not
    in the register). Both must cover the same record ids, each once.
    """
    for name, frame, columns in (
        ("decisions", decisions, ("record_id", "so_dinh_danh", "decision")),
        ("truth", truth, ("record_id", "true_so_dinh_danh")),
    ):
        missing = [column for column in columns if column not in frame.columns]
        if missing:
            raise ValueError(f"{name} lacks the columns {', '.join(missing)}")
        ids = frame["record_id"].astype("string")
        duplicated = ids[ids.duplicated()]
        if len(duplicated):
            raise ValueError(
                f"{name} has {len(duplicated)} duplicated record_id, e.g. {duplicated.iloc[0]}"
            )
    unknown = sorted(set(decisions["decision"].dropna().unique()) - set(DECISIONS))
    if unknown or decisions["decision"].isna().any():
        raise ValueError(
            f"decision must be one of {', '.join(DECISIONS)}; found {unknown or 'null'}"
        )

    left = pd.DataFrame(
        {
            "record_id": decisions["record_id"].astype("string"),
            "so_dinh_danh": _blank_to_null(decisions["so_dinh_danh"]),
            "decision": decisions["decision"].astype("string"),
        }
    )
    right = pd.DataFrame(
        {
            "record_id": truth["record_id"].astype("string"),
            "true_so_dinh_danh": _blank_to_null(truth["true_so_dinh_danh"]),
        }
    )
    joined = left.merge(right, on="record_id", how="outer", indicator=True)
    only_decisions = int((joined["_merge"] == "left_only").sum())
    only_truth = int((joined["_merge"] == "right_only").sum())
    if only_decisions or only_truth:
        raise ValueError(
            f"record ids differ: {only_decisions} decisions without truth, "
            f"{only_truth} truth rows without a decision"
        )

    is_match = (joined["decision"] == "match").to_numpy(dtype=bool)
    linkable = joined["true_so_dinh_danh"].notna().to_numpy(dtype=bool)
    same = (joined["so_dinh_danh"] == joined["true_so_dinh_danh"]).fillna(False)
    correct = is_match & same.to_numpy(dtype=bool)
    wrong = is_match & ~correct

    rows = len(joined)
    n_match = int(is_match.sum())
    n_review = int((joined["decision"] == "review").sum())
    n_no_match = rows - n_match - n_review
    n_correct = int(correct.sum())
    n_linkable = int(linkable.sum())
    precision = n_correct / n_match if n_match else 0.0
    recall = n_correct / n_linkable if n_linkable else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "rows": rows,
        "linkable": n_linkable,
        "match": n_match,
        "review": n_review,
        "no_match": n_no_match,
        "correct": n_correct,
        "wrong_links": int(wrong.sum()),
        "wrong_person": int((wrong & linkable).sum()),
        "linked_unlinkable": int((wrong & ~linkable).sum()),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "review_share": n_review / rows if rows else 0.0,
        "no_match_share": n_no_match / rows if rows else 0.0,
    }
