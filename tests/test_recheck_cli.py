"""``popsync recheck`` (issue 9's last gap): a register change flags the rows of every source
linked to the people who changed, but only the source whose file came re-checks them. The other
sources' rows waited until their next file; ``popsync recheck`` re-checks them with no file, in a
run of its own, and refreshes the touched people's status for the next publication. On real
PostgreSQL."""

from __future__ import annotations

import json
import os

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from popsync import warehouse
from popsync.cli import main
from popsync.generate import generate_dataset


def _cli(*args: str, url: str, workdir) -> str:
    result = CliRunner().invoke(main, [*args, "--database-url", url, "--workdir", str(workdir)])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def flagged(tmp_path, pg_url):
    """tiem_chung and f0 loaded against a register; then a later register in which eight people
    linked by f0 changed name and birth date, loaded by a small tiem_chung delivery (whose run
    re-checks tiem_chung's rows only): f0's rows of those people stay flagged."""
    out = tmp_path / "set"
    generate_dataset(out_dir=out, people=300, seed=3, formats="csv")
    day = json.loads((out / "manifest.json").read_text())["extract_date"]
    work = tmp_path / "w"
    for source in ("tiem_chung", "f0"):
        _cli("run", source, "--input", str(out / f"{source}.csv"), "--population",
             str(out / "dan_cu.csv"), "--date", day, url=pg_url, workdir=work)  # fmt: skip
    with warehouse.connect(pg_url) as store:
        linked = [p for (p,) in store.fetch(
            "SELECT DISTINCT so_dinh_danh FROM f0_case WHERE decision = 'match' "
            "ORDER BY so_dinh_danh LIMIT 8")]  # fmt: skip
    people = pd.read_csv(out / "dan_cu.csv", dtype=str, keep_default_na=False)
    at = people["so_dinh_danh"].isin(linked)
    people.loc[at, "ho_ten"] = "Quách Thị Mỹ Duyên"
    people.loc[at, "ngay_sinh"] = "01/01/1950"
    people.loc[at, "ngay_cap_nhat"] = people["ngay_cap_nhat"].max()  # the newest update
    later = tmp_path / "dan_cu_later.csv"
    people.to_csv(later, index=False)
    doses = pd.read_csv(out / "tiem_chung.csv", dtype=str, keep_default_na=False)
    small = tmp_path / "tiem_chung_site_2.csv"
    latest = pd.to_datetime(doses["Ngày tiêm"], dayfirst=True, errors="coerce")
    recent = doses.loc[latest.sort_values(ascending=False).index[:3]]
    recent.assign(**{"Mã bản ghi": lambda f: "S2-" + f["Mã bản ghi"]}).to_csv(small, index=False)
    _cli("run", "tiem_chung", "--input", str(small), "--population", str(later), "--date", day,
         url=pg_url, workdir=work)  # fmt: skip
    return {"url": pg_url, "work": work, "people": set(linked), "tmp": tmp_path}


def test_recheck_relinks_the_flagged_rows_of_a_source_that_got_no_file(flagged):
    """Failed (its register file gone): a failed run record, the rows still flagged. Then
    re-linked, in a run of its own, the people's status refreshed and published; then nothing
    flagged (a second call does nothing)."""
    url, work = flagged["url"], flagged["work"]
    with warehouse.connect(url) as store:
        waiting = store.fetch("SELECT count(*) FROM f0_case WHERE needs_recheck")[0][0]
        assert store.fetch("SELECT count(*) FROM vaccination_dose WHERE needs_recheck")[0][0] == 0
    assert waiting > 0  # the register change flagged f0's rows, and nothing re-checked them

    register = flagged["tmp"] / "dan_cu_later.csv"
    register.rename(flagged["tmp"] / "away.csv")  # the register the database holds is gone
    failed = CliRunner().invoke(main, ["recheck", "f0", "--database-url", url,
                                       "--workdir", str(work)])  # fmt: skip
    assert failed.exit_code == 2 and "recheck f0: FAILED" in failed.output, failed.output
    with warehouse.connect(url) as store:
        assert store.count_to_recheck("f0") == waiting  # still flagged for the next try
        [(status, error)] = store.fetch("SELECT status, error FROM run WHERE kind = 'recheck'")
    assert status == "failed" and "register" in error
    (flagged["tmp"] / "away.csv").rename(register)

    output = _cli("recheck", url=url, workdir=work)

    with warehouse.connect(url) as store:
        assert store.count_to_recheck("f0") == 0
        [(run_id, status, kind, counts, delivery, pid)] = store.fetch(
            "SELECT run_id, status, kind, counts, delivery, pid FROM run WHERE kind = 'recheck' "
            "AND status <> 'failed'"
        )
        changed = store.fetch(
            "SELECT count(*) FROM quality_finding WHERE rule = 'link_rechecked' AND run_id = %s",
            (run_id,),
        )[0][0]
        refresh = store.fetch("SELECT people, changed FROM status_refresh WHERE run_id = %s",
                              (run_id,))  # fmt: skip
        for (batch_run,) in store.fetch("SELECT run_id FROM run WHERE source = 'f0' "
                                        "AND kind = 'batch'"):  # fmt: skip
            store.reconcile(batch_run)  # rows moved between loaded and review: none lost
        listed = {r["run_id"] for r in store.batch_runs()}
    assert (status, kind, delivery) == ("loaded", "recheck", None)
    # its process is on record, so a re-check killed half way is marked failed by the next
    # run that starts, not 4 hours later when its heartbeat goes stale
    assert pid == os.getpid()
    assert counts["flagged"] == counts["rechecked"] == waiting
    assert counts["changed"] == changed > 0  # each changed link has its link_rechecked finding
    assert refresh and refresh[0][0] > 0 and refresh[0][1] > 0
    assert run_id not in listed  # not a batch: the batch pages do not list it
    assert f"f0: {waiting} rows re-checked, {changed} changed" in output
    assert "tiem_chung: nothing flagged" in output
    assert not any(person in output for person in flagged["people"])

    feed = flagged["tmp"] / "feed"
    _cli("publish", "--out", str(feed), "--since", run_id, url=url, workdir=work)
    [folder] = [p for p in feed.iterdir() if not p.name.startswith(".")]
    published = set(pq.read_table(folder / "person_status.parquet")["so_dinh_danh"].to_pylist())
    assert flagged["people"] & published  # the people whose f0 rows moved: their status too

    rerun = CliRunner().invoke(main, ["rerun", run_id, "--database-url", url,
                                      "--workdir", str(work)])  # fmt: skip
    assert rerun.exit_code == 2 and "was a re-check" in rerun.output, rerun.output

    again = _cli("recheck", "f0", url=url, workdir=work)
    assert again.strip() == "f0: nothing flagged, nothing to do"
    with warehouse.connect(url) as store:
        assert store.fetch("SELECT count(*) FROM run WHERE kind = 'recheck'")[0][0] == 2
