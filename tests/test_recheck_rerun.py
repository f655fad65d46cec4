"""Re-checks as full re-runs of the affected rows (issue 11, defect 4): the post-link rules
apply (a dose after a new death is quarantined), a steward's decision that still holds is kept,
and a rerun leaves other runs' ``link_rechecked`` findings alone. On both databases."""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner
from test_warehouse import PEOPLE, extract, register, sample_batch, tamper, url  # noqa: F401

from popsync import warehouse
from popsync.cli import main
from popsync.generate import generate_dataset


def test_a_stewards_match_is_kept_while_its_person_is_still_a_candidate(url):  # noqa: F811
    with warehouse.connect(url) as store:
        store.migrate()
        store.load_register(register(*PEOPLE), {"run_id": "reg-1"})
        store.load_batch(sample_batch("run-1"))  # TI3 waits for review: persons 1 and 3
        store.decide_review("tiem_chung", "TI3", "001090000001", decided_by="Lan")
        tamper(url, "UPDATE vaccination_dose SET needs_recheck = TRUE WHERE record_id = 'TI3'")
        relinked = pd.DataFrame({"record_id": ["TI3"], "so_dinh_danh": [None],
                                 "decision": ["review"], "score": [0.7],
                                 "explanation": ["{}"]})  # fmt: skip
        candidates = pd.DataFrame({"record_id": ["TI3", "TI3"], "rank": [1, 2],
                                   "so_dinh_danh": ["001090000001", "001090000003"],
                                   "score": [0.7, 0.2], "explanation": ["{}", "{}"]})  # fmt: skip
        done = store.apply_recheck("tiem_chung", relinked, candidates, "run-2")
        [(decision, person)] = store.fetch(
            "SELECT decision, so_dinh_danh FROM vaccination_dose WHERE record_id = 'TI3'"
        )
    assert (decision, person) == ("match", "001090000001")
    assert done["changed"] == 0 and done["rechecked"] == 1


def test_a_rerun_keeps_other_runs_recheck_findings(url):  # noqa: F811
    with warehouse.connect(url) as store:
        store.migrate()
        store.load_register(register(*PEOPLE), {"run_id": "reg-1"})
        store.load_batch(sample_batch("run-1"))
        tamper(url, "UPDATE vaccination_dose SET needs_recheck = TRUE WHERE record_id = 'TI1'")
        relinked = pd.DataFrame({"record_id": ["TI1"], "so_dinh_danh": [None],
                                 "decision": ["no_match"], "score": [0.1],
                                 "explanation": ["{}"]})  # fmt: skip
        store.apply_recheck("tiem_chung", relinked, None, "run-2")
        store.load_batch(sample_batch("run-3"))  # the same delivery again
        kept = store.fetch("SELECT record_id, run_id FROM quality_finding "
                           "WHERE rule = 'link_rechecked'")  # fmt: skip
    assert kept == [("TI1", "run-2")]


def test_a_dose_after_a_new_death_is_quarantined_by_the_recheck(tmp_path):
    generate_dataset(out_dir=tmp_path / "set", people=300, seed=3, formats="csv")
    register_file = tmp_path / "set" / "dan_cu.csv"
    doses = pd.read_csv(tmp_path / "set" / "tiem_chung.csv", dtype=str, keep_default_na=False)

    def run(workdir, extract_file, register_path):
        result = CliRunner(env={"POPSYNC_DATABASE_URL": None}).invoke(main, [
            "run", "tiem_chung", "--input", str(extract_file), "--population",
            str(register_path), "--date", "2023-01-15", "--workdir", str(workdir)])  # fmt: skip
        assert result.exit_code == 0, result.output

    run(tmp_path / "w", tmp_path / "set" / "tiem_chung.csv", register_file)
    with warehouse.connect(f"sqlite:///{tmp_path / 'w' / 'popsync.sqlite3'}") as store:
        linked = store.fetch("SELECT so_dinh_danh, min(vaccination_date) FROM vaccination_dose "
                             "WHERE decision = 'match' GROUP BY so_dinh_danh "
                             "HAVING count(*) >= 2 ORDER BY so_dinh_danh LIMIT 15")  # fmt: skip
    people = pd.read_csv(register_file, dtype=str, keep_default_na=False)
    for person, first_dose in linked:  # died the day after their first dose
        died = (pd.Timestamp(first_dose) + pd.Timedelta(days=1)).strftime("%d/%m/%Y")
        at = people["so_dinh_danh"].eq(person)
        people.loc[at, ["ngay_mat", "ngay_cap_nhat"]] = [died, "2023-01-12T08:00:00"]
    later = tmp_path / "dan_cu_later.csv"
    people.to_csv(later, index=False)
    small = tmp_path / "tiem_chung_site_2.csv"
    latest = pd.to_datetime(doses["Ngày tiêm"], dayfirst=True, errors="coerce")
    doses.loc[latest.sort_values(ascending=False).index[:3]].assign(**{"Mã bản ghi": lambda f: "S2-" + f["Mã bản ghi"]}).to_csv(
        small, index=False)  # fmt: skip
    run(tmp_path / "w", small, later)  # another delivery: its run re-checks the first one's rows
    run(tmp_path / "full", tmp_path / "set" / "tiem_chung.csv", later)  # a full re-run

    def after_death(workdir):
        with warehouse.connect(f"sqlite:///{workdir / 'popsync.sqlite3'}") as store:
            quarantined = store.fetch(
                "SELECT q.record_id FROM quarantine q WHERE q.delivery = 'tiem_chung.csv'"
            )
            loaded = store.fetch(
                "SELECT count(*) FROM vaccination_dose d JOIN person p "
                "ON p.so_dinh_danh = d.so_dinh_danh WHERE d.decision = 'match' "
                "AND p.ngay_mat IS NOT NULL AND d.vaccination_date > p.ngay_mat"
            )
            died_after = store.fetch("SELECT count(*) FROM quarantine WHERE rules LIKE "
                                     "'%%event_after_death%%'")[0][0]  # fmt: skip
            for (run_id,) in store.fetch("SELECT run_id FROM run WHERE source = 'tiem_chung' "
                                         "AND status = 'loaded'"):  # fmt: skip
                store.reconcile(run_id)
        return {r for (r,) in quarantined}, loaded[0][0], died_after

    rechecked, left_rechecked, by_recheck = after_death(tmp_path / "w")
    rerun, left_rerun, _ = after_death(tmp_path / "full")
    assert by_recheck >= 10  # doses dated after the new deaths, quarantined by the re-check
    assert left_rerun == 0 and left_rechecked == 0  # no dose after death stays loaded
    assert rechecked == rerun  # the same rows quarantined as a full re-run
