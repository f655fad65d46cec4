"""Undoing a steward's decision, on both backends: the row is back in review exactly as the
decision found it, the run reconciles, the undo is audited and a rerun does not apply it."""

from __future__ import annotations

import pytest
from test_warehouse import dump, query, runs, sample_batch, store, url  # noqa: F401

from popsync.core.errors import UserError


@pytest.mark.parametrize("how", [{"so_dinh_danh": "001090000003"}, {"so_dinh_danh": None}])
def test_an_undone_decision_leaves_the_tables_as_before(store, how):  # noqa: F811
    store.load_batch(sample_batch("run-1"))
    before = dump(store)
    done = store.decide_review("tiem_chung", "TI3", decided_by="lan", via="web", role="steward",
                               **how)  # fmt: skip
    undone = store.undo_review("tiem_chung", "TI3", undone_by="minh", note="wrong", via="web")
    assert undone["decision_id"] == done["decision_id"]
    assert undone["counts"] == {"rows_loaded": 2, "rows_quarantined": 1, "rows_review": 1}
    assert dump(store) == before
    assert runs(store)["run-1"][2:6] == (4, 2, 1, 1)
    assert query(store, "SELECT action, actor, role, via, record_id FROM steward_audit "
                        "ORDER BY at") == [("decide", "lan", "steward", "web", "TI3"),
                                           ("undo", "minh", None, "web", "TI3")]  # fmt: skip
    with pytest.raises(UserError, match="no decision to undo"):
        store.undo_review("tiem_chung", "TI3", undone_by="minh")
    # decided again, then the batch is rerun: only the decision not undone is applied
    store.decide_review("tiem_chung", "TI3", rank=1, decided_by="lan")
    store.undo_review("tiem_chung", "TI3", undone_by="lan")
    again = store.load_batch(sample_batch("run-1"))
    assert again["decisions_reapplied"] == 0 and again["rows_review"] == 1
    store.decide_review("tiem_chung", "TI3", rank=2, decided_by="lan")
    again = store.load_batch(sample_batch("run-1"))
    assert again["decisions_reapplied"] == 1
    assert query(store, "SELECT so_dinh_danh FROM vaccination_dose WHERE record_id = 'TI3'") == [
        ("001090000003",)]  # fmt: skip


def test_a_row_changed_since_the_decision_is_not_undone(store):  # noqa: F811
    store.load_batch(sample_batch("run-1"))
    store.decide_review("tiem_chung", "TI3", rank=2, decided_by="lan")
    with pytest.raises(UserError, match="who undoes"):
        store.undo_review("tiem_chung", "TI3", undone_by=" ")
    with pytest.raises(UserError, match="no decision to undo"):
        store.undo_review("tiem_chung", "TI1", undone_by="lan")
    with pytest.raises(UserError, match="not in the warehouse"):
        store.undo_review("tiem_chung", "TI9", undone_by="lan")


def test_a_record_id_masked_as_printed_names_its_row(store):  # noqa: F811
    """A BHXH record id carries the BHXH number: lists print it masked, and the masked form
    names the row when deciding and undoing."""
    from popsync.core.privacy import mask_record_id

    batch = sample_batch("run-1")
    real = "TI3|0134837347"
    for frame in (batch.review, batch.candidates):
        frame["record_id"] = frame["record_id"].replace("TI3", real)
    store.load_batch(batch)
    printed = mask_record_id(real)
    assert printed == "TI3|013****347"
    done = store.decide_review("tiem_chung", printed, rank=2, decided_by="lan")
    assert done["record_id"] == real and done["so_dinh_danh"] == "001090000003"
    undone = store.undo_review("tiem_chung", printed, undone_by="lan")
    assert undone["record_id"] == real
    with pytest.raises(UserError, match="not waiting for review nor decided"):
        store.decide_review("tiem_chung", "XX|999****999", rank=1, decided_by="lan")
