"""The status rules are data (``status_rules.yaml``, ``vaccines.csv``, ``vaccine_mixing.csv``):
when they change, a person's status may change without any row of theirs changing. The first
refresh under changed rules therefore recomputes every register person, whatever it was asked
for, records the rules it used, and the next publication carries everyone whose status moved;
under unchanged rules a refresh recomputes only the people it is asked for."""

from __future__ import annotations

import dataclasses

import numpy as np
from test_status_warehouse import P1, P2, load, rows, status, store  # noqa: F401 (fixture)
from test_warehouse import url  # noqa: F401 (fixture)

from popsync.core import status as status_core
from popsync.core import status_rules


def one_dose_series(monkeypatch) -> None:
    """Rules under which every product's primary series is one dose."""
    shipped = status_rules.rules()
    changed = dataclasses.replace(shipped, primary_doses=np.ones_like(shipped.primary_doses))
    monkeypatch.setattr(status_rules, "rules", lambda: changed)
    monkeypatch.setattr(status_core, "rules", lambda: changed)


def first_doses(store):  # noqa: F811
    doses = rows("tiem_chung", {"V1": P1, "V2": P2}, vaccination_date="2021-08-01")
    load(store, "tiem_chung", doses.assign(vaccine_name="Pfizer", dose_number=1), "run-1")
    return store.refresh_status(run_id="run-1")


def test_under_the_same_rules_only_the_people_asked_for_are_recomputed(store):  # noqa: F811
    assert first_doses(store)["rules_changed"] is False  # the first refresh has nothing before
    done = store.refresh_status([P1])
    assert (done["people"], done["rules_changed"]) == (1, False)


def test_changed_rules_recompute_every_person_once(store, monkeypatch):  # noqa: F811
    first_doses(store)
    assert not status(store, P2)["primary_complete"]
    one_dose_series(monkeypatch)
    done = store.refresh_status([P1])  # P2 not asked for: its status changes all the same
    assert (done["people"], done["rules_changed"]) == (3, True)  # the whole register
    assert status(store, P1)["primary_complete"] and status(store, P2)["primary_complete"]
    assert done["changed"] == 2
    again = store.refresh_status([P1])
    assert (again["people"], again["rules_changed"]) == (1, False)
