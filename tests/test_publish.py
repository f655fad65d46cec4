"""The delta feed of people's status (``popsync publish``), on PostgreSQL and SQLite: what changed
since the last publication, ID and status only, Parquet + CSV + a manifest with checksums; an
empty delta when nothing is new; nothing half-written when interrupted; a steward's decision puts
the person in the next delta."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from test_status_warehouse import P1, P2, P3, load, rows
from test_warehouse import PEOPLE, register, sample_batch, url  # noqa: F401 (url: fixture)

from popsync import pipeline, warehouse
from popsync.cli import main
from popsync.core.errors import UserError
from popsync.core.status import STATUS_FIELDS
from popsync.resources import Resources
from popsync.warehouse.publication import FEED_COLUMNS

FILES = ["manifest.json", "person_status.csv", "person_status.parquet"]


@pytest.fixture
def store(url):  # noqa: F811 (the url fixture)
    with warehouse.connect(url) as opened:
        opened.migrate()
        opened.load_register(register(*PEOPLE), {"run_id": "reg-1"})
        yield opened


@pytest.fixture
def res(url, store, tmp_path):  # noqa: F811 (the url fixture)
    return Resources.from_environment(database_url=url, workdir=tmp_path / "work")


def publish(res, out, since=None) -> tuple[dict, pd.DataFrame]:
    done = pipeline.publish_status(res, out, since=since)
    return done, pd.read_parquet(f"{done['path']}/person_status.parquet")


def test_a_publication_is_the_changed_people_with_a_manifest(res, store, tmp_path):
    store.load_batch(sample_batch())
    store.refresh_status(run_id="run-1")
    done, delta = publish(res, tmp_path / "feed")
    assert sorted(p.name for p in (tmp_path / "feed" / done["publication_id"]).iterdir()) == FILES
    assert sorted(delta["so_dinh_danh"]) == [P1, P2, P3] and done["people"] == 3
    assert list(delta.columns) == list(FEED_COLUMNS)
    csv = pd.read_csv(f"{done['path']}/person_status.csv", dtype={"so_dinh_danh": str})
    assert csv["so_dinh_danh"].tolist() == delta["so_dinh_danh"].tolist()
    manifest = json.loads(
        (tmp_path / "feed" / done["publication_id"] / "manifest.json").read_text()
    )
    for name in FILES[1:]:
        data = (tmp_path / "feed" / done["publication_id"] / name).read_bytes()
        assert manifest["files"][name]["sha256"] == hashlib.sha256(data).hexdigest()
        assert manifest["files"][name]["rows"] == 3
    assert manifest["counts"]["people"] == 3 and manifest["counts"]["with_pending_rows"] == 3
    assert manifest["counts"]["vaccination_status"] == {"none": 2, "partial": 1}
    assert (manifest["since_seq"], manifest["through_seq"]) == (0, 1)
    assert set(manifest["rules"]) == {"status_rules.yaml", "vaccine_mixing.csv", "vaccines.csv"}
    ledger = store.publications()
    assert ledger[["publication_id", "through_seq", "people"]].values.tolist() == [
        [done["publication_id"], 1, 3]]  # fmt: skip


def test_the_feed_holds_no_name_phone_or_address(res, store, tmp_path):
    store.load_batch(sample_batch())
    store.refresh_status(run_id="run-1")
    done, _ = publish(res, tmp_path / "feed")
    folder = tmp_path / "feed" / done["publication_id"]
    text = "\n".join([
        (folder / "person_status.csv").read_text(encoding="utf-8"),
        (folder / "manifest.json").read_text(encoding="utf-8"),
        pq.read_table(folder / "person_status.parquet").to_pandas().to_csv(),
        str(pq.read_schema(folder / "person_status.parquet")),
    ])  # fmt: skip
    people = register(*PEOPLE)
    personal = [*people["full_name"], *people["phone"], *people["address"], "Nguyễn",
                "0912345678", "Phố Huế", "ho_ten", "full_name", "phone", "address", "dia_chi"]  # fmt: skip
    assert [value for value in personal if value.lower() in text.lower()] == []
    assert P1 in text  # the ID is what the register joins on


def test_publishing_twice_with_nothing_new_writes_an_empty_delta(res, store, tmp_path):
    store.load_batch(sample_batch())
    store.refresh_status(run_id="run-1")
    publish(res, tmp_path / "feed")
    store.refresh_status(run_id="run-1")  # recomputed, unchanged
    done, delta = publish(res, tmp_path / "feed")
    assert done["people"] == 0 and delta.empty and list(delta.columns) == list(FEED_COLUMNS)
    assert (
        (tmp_path / "feed" / done["publication_id"] / "person_status.csv")
        .read_text()
        .startswith('"so_dinh_danh"')
    )
    assert len(store.publications()) == 2


def test_a_delta_after_a_second_batch_holds_exactly_the_people_whose_status_changed(
    res, store, tmp_path
):
    first = pd.concat([rows("tiem_chung", {"A1": P1}, vaccination_date="2021-08-01",
                            vaccine="Pfizer"),
                       rows("tiem_chung", {"A2": P2}, vaccination_date="2021-08-03",
                            vaccine="Moderna")], ignore_index=True)  # fmt: skip
    load(store, "tiem_chung", first, "run-1", delivery="site_a.csv")
    store.refresh_status(run_id="run-1")
    publish(res, tmp_path / "feed")
    before = store.status_of()[list(STATUS_FIELDS)]
    # P1 gets a second dose; P2's dose is re-sent by another site (no change); P3 is new.
    second = pd.concat([rows("tiem_chung", {"B1": P1}, vaccination_date="2021-08-22",
                             vaccine="Pfizer"),
                        rows("tiem_chung", {"B2": P2}, vaccination_date="2021-08-03",
                             vaccine="Moderna"),
                        rows("f0", {"B3": P3}).pipe(lambda f: f.iloc[:0])],
                       ignore_index=True)  # fmt: skip
    load(store, "tiem_chung", second, "run-2", delivery="site_b.csv", sha="ef" * 32)
    load(store, "f0", rows("f0", {"F1": P3}), "run-3")
    store.refresh_status(run_id="run-2")
    store.refresh_status(run_id="run-3")
    after = store.status_of()[list(STATUS_FIELDS)]
    changed = {
        person for person in after.index
        if person not in before.index
        or not after.loc[person].equals(before.loc[person])
    }  # fmt: skip
    _, delta = publish(res, tmp_path / "feed")
    assert set(delta["so_dinh_danh"]) == changed == {P1, P3}


def test_an_interrupted_publication_leaves_nothing_half_written(res, store, tmp_path, monkeypatch):
    store.load_batch(sample_batch())
    store.refresh_status(run_id="run-1")

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr("popsync.pipeline.status.pacsv.write_csv", disk_full)
    with pytest.raises(UserError, match="No space left on device.*nothing was published"):
        pipeline.publish_status(res, tmp_path / "feed")
    # Nothing but the lock file publications take turns by.
    assert [path.name for path in (tmp_path / "feed").iterdir()] == [".publish.lock"]
    assert store.publications().empty
    monkeypatch.undo()
    done, delta = publish(res, tmp_path / "feed")
    assert len(delta) == 3 and done["since_seq"] == 0


def test_a_publication_killed_half_way_is_cleaned_up_by_the_next(res, store, tmp_path):
    """A process killed while writing (no exception to clean up after it) leaves its hidden
    ``.<id>.partial`` folder: the next publication removes it and covers those people."""
    store.load_batch(sample_batch())
    store.refresh_status(run_id="run-1")
    feed = tmp_path / "feed"
    stale = feed / ".000001-20260101T000000Z.partial"
    stale.mkdir(parents=True)
    (stale / "person_status.csv").write_text("so_dinh_danh\n001", encoding="utf-8")
    done, delta = publish(res, feed)
    assert len(delta) == 3
    names = sorted(path.name for path in feed.iterdir())
    assert not [name for name in names if name.endswith(".partial")]
    assert [name for name in names if not name.startswith(".")] == [Path(done["path"]).name]


def test_a_steward_s_decision_puts_the_people_in_the_next_delta(res, store, tmp_path):
    store.load_batch(sample_batch())
    store.refresh_status(run_id="run-1")
    publish(res, tmp_path / "feed")
    store.decide_review("tiem_chung", "TI3", P3, decided_by="steward")
    _, delta = publish(res, tmp_path / "feed")
    assert sorted(delta["so_dinh_danh"]) == [P1, P3]  # P1 lost a candidacy, P3 got the dose
    assert delta.set_index("so_dinh_danh").loc[P3, "doses"] == 1


def test_since_a_run_or_a_day(res, store, tmp_path):
    store.load_batch(sample_batch())
    store.refresh_status(run_id="run-1")
    publish(res, tmp_path / "feed")
    again, delta = publish(res, tmp_path / "feed", since="run-1")
    assert len(delta) == 3 and again["since_seq"] == 0
    assert publish(res, tmp_path / "feed", since="2000-01-01")[0]["people"] == 3
    assert publish(res, tmp_path / "feed", since="2999-01-01")[0]["people"] == 0
    with pytest.raises(UserError, match="no run of that id"):
        pipeline.publish_status(res, tmp_path / "feed", since="no-such-run")


def test_popsync_publish(res, store, url, tmp_path):  # noqa: F811 (fixture)
    store.load_batch(sample_batch())
    store.refresh_status(run_id="run-1")
    result = CliRunner().invoke(
        main, ["publish", "--out", str(tmp_path / "feed"), "--database-url", url]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("published 3 people whose status changed (refreshes 1-1): ")
    again = CliRunner().invoke(
        main, ["publish", "--out", str(tmp_path / "feed"), "--database-url", url]
    )
    assert again.output.startswith("published an empty delta: no status changed since refresh 1 "
                                   "(the last one published): ")  # fmt: skip
    bad = CliRunner().invoke(
        main, ["publish", "--out", str(tmp_path / "feed"), "--database-url", url, "--since", "x"]
    )
    assert bad.exit_code == 2 and "no run of that id" in bad.output


def test_an_output_folder_that_cannot_be_made_is_a_clear_error(res, store, url, tmp_path):  # noqa: F811
    store.load_batch(sample_batch())
    store.refresh_status(run_id="run-1")
    (tmp_path / "a_file").write_text("", encoding="utf-8")
    out = tmp_path / "a_file" / "feed"
    result = CliRunner().invoke(main, ["publish", "--out", str(out), "--database-url", url])
    assert result.exit_code == 2, result.output
    assert "cannot write the delta" in result.output and "Traceback" not in result.output
    assert store.publications().empty
