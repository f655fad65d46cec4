"""Register snapshots in time (issue 11, defect 3): a batch is never linked against a register
older than the one the database holds (it is refused, naming why), and a changed identity is
seen in the content, whatever ``ngay_cap_nhat`` says. On both databases."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner
from test_warehouse import PEOPLE, register, url  # noqa: F401 (url: a fixture)

from popsync import warehouse
from popsync.cli import main
from popsync.generate import generate_dataset


def test_an_older_snapshot_loaded_again_is_stale(url):  # noqa: F811
    older = register(*PEOPLE)
    renamed = [{**PEOPLE[0], "full_name": "Nguyễn Văn Ân"}, *PEOPLE[1:]]
    newer = register(*renamed).assign(updated_at=pd.Timestamp("2024-03-01"))
    with warehouse.connect(url) as store:
        store.migrate()
        first = store.load_register(older, {"run_id": "r1", "input_sha256": "a" * 64})
        assert first["stale_people"] == 0
        store.load_register(newer, {"run_id": "r2", "input_sha256": "b" * 64})
        again = store.load_register(older, {"run_id": "r3", "input_sha256": "a" * 64})
        assert again["skipped"] and again["stale_people"] == 1
        latest = store.load_register(newer, {"run_id": "r4", "input_sha256": "b" * 64})
        assert latest["skipped"] and latest["stale_people"] == 0


def test_a_changed_identity_is_seen_whatever_ngay_cap_nhat_says(url):  # noqa: F811
    same_date = [{**PEOPLE[1], "full_name": "Nguyễn Văn Bính"}, PEOPLE[0], PEOPLE[2]]
    with warehouse.connect(url) as store:
        store.migrate()
        store.load_register(register(*PEOPLE), {"run_id": "r1"})
        merged = store.load_register(register(*same_date), {"run_id": "r2"})
        [(name,)] = store.fetch("SELECT ho_ten FROM person WHERE so_dinh_danh = %s",
                                (PEOPLE[1]["person_id"],))  # fmt: skip
        history = store.fetch("SELECT field, new_value FROM person_history WHERE run_id = 'r2'")
    assert merged["updated"] == 1 and merged["stale_people"] == 0
    assert name == "Nguyễn Văn Bính" and ("ho_ten", "Nguyễn Văn Bính") in history


def test_a_batch_with_an_older_register_is_refused(tmp_path):
    generate_dataset(out_dir=tmp_path / "set", people=300, seed=3, formats="csv")
    original = tmp_path / "set" / "dan_cu.csv"
    people = pd.read_csv(original, dtype=str, keep_default_na=False)
    people.loc[:9, "ho_ten"] = people.loc[:9, "ho_ten"] + " Mới"
    people.loc[:9, "ngay_cap_nhat"] = "2023-01-10T08:00:00"
    newer = tmp_path / "dan_cu_newer.csv"
    people.to_csv(newer, index=False)

    def run(register_file):
        return CliRunner(env={"POPSYNC_DATABASE_URL": None}).invoke(main, [
            "run", "f0", "--input", str(tmp_path / "set" / "f0.csv"), "--population",
            str(register_file), "--date", "2023-01-15", "--workdir", str(tmp_path / "w")])  # fmt: skip

    assert run(newer).exit_code == 0
    backfill = run(original)
    assert backfill.exit_code == 2
    assert "older than the one the database holds: 10 of its people" in backfill.output
    assert run(newer).exit_code == 0


@pytest.fixture(autouse=True)
def _quiet_generator(monkeypatch):
    monkeypatch.setenv("POPSYNC_DATABASE_URL", "")
