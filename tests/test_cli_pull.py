"""``popsync pull``, ``backfill`` and ``rerun`` end to end, configured by the environment only
(a landing folder for BHXH, one for the register), on the embedded database: one short line per
file, the ledger shared by all three, exit codes that tell a blocked file from a failure."""

from __future__ import annotations

import re

from click.testing import CliRunner
from pull_helpers import REGISTER, age, bhxh_rows, write_extract

from popsync.cli import main
from popsync.resources import Resources


def _cli(tmp_path, land, registers):
    env = {
        "POPSYNC_DATABASE_URL": None,
        "POPSYNC_WORKDIR": str(tmp_path / "work"),
        "POPSYNC_LANDING_BHXH": str(land),
        "POPSYNC_LANDING_DAN_CU": str(registers),
        "POPSYNC_SETTLE_SECONDS": "0.05",
    }
    runner = CliRunner(env=env)
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


def _runs(tmp_path) -> dict[str, tuple]:
    res = Resources.from_environment(workdir=tmp_path / "work", database_url=None)
    with res.warehouse() as store:
        found = store.fetch("SELECT run_id, delivery, status, rows_read FROM run "
                            "WHERE source = 'bhxh'")  # fmt: skip
    return {run: rest for run, *rest in found}


def test_pull_backfill_and_rerun_from_the_command_line(tmp_path):
    _, rows = bhxh_rows()
    land, registers = tmp_path / "landing", tmp_path / "register"
    registers.mkdir()
    (registers / "dan_cu_2023-01-15.csv").write_bytes(REGISTER.read_bytes())
    age(registers / "dan_cu_2023-01-15.csv")
    age(write_extract(land / "bhxh_2023-01-16.csv", rows[:40], count=40))
    age(write_extract(land / "bhxh_2023-01-17.csv", rows[40:80]))
    popsync = _cli(tmp_path, land, registers)

    first = popsync("pull", "bhxh")
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert re.fullmatch(r"bhxh bhxh_2023-01-16\.csv: 40 rows read = \d+ loaded \+ \d+ "
                        r"quarantined \+ \d+ review: loaded", lines[0])  # fmt: skip
    assert lines[1].startswith("  report: ") and lines[1].endswith("report.html")
    assert lines[2].startswith("bhxh bhxh_2023-01-17.csv: 40 rows read")
    assert len(lines) == 4

    again = popsync("pull", "bhxh")
    assert (again.exit_code, again.output) == (0, "bhxh: nothing new\n")

    # (each part with a period started within 400 days of its date, else extract_recent blocks)
    for day, part in (("2023-01-18", rows[80:100]), ("2023-01-20", rows[130:150])):
        age(write_extract(land / f"bhxh_{day}.csv", part))
    back = popsync("backfill", "bhxh", "--from", "2023-01-15", "--to", "2023-01-18")
    assert back.exit_code == 0, back.output
    assert [line.split(":")[0] for line in back.output.splitlines() if line[0] != " "] == [
        "bhxh bhxh_2023-01-18.csv"
    ]
    assert popsync("backfill", "bhxh", "--from", "2023-01-15", "--to", "2023-01-18").output == (
        "bhxh: nothing new\n"
    )
    assert (
        "--to is before --from"
        in popsync("backfill", "bhxh", "--from", "2023-01-18", "--to", "2023-01-15").output
    )

    runs = _runs(tmp_path)
    (run_id,) = [r for r, (delivery, *_) in runs.items() if delivery == "bhxh_2023-01-17.csv"]
    rerun = popsync("rerun", run_id)
    assert rerun.exit_code == 0, rerun.output
    assert rerun.output.startswith("bhxh bhxh_2023-01-17.csv: 40 rows read")
    after = _runs(tmp_path)
    assert after[run_id][1] == "replaced"
    assert [v for r, v in after.items() if r not in runs] == [["bhxh_2023-01-17.csv", "loaded", 40]]
    assert "no run 'nope'" in popsync("rerun", "nope").output

    age(write_extract(land / "bhxh_2023-01-19.csv", rows[120:130], count=12))
    blocked = popsync("pull", "bhxh")
    assert blocked.exit_code == 3, blocked.output
    assert "bhxh bhxh_2023-01-19.csv: BLOCKED: " in blocked.output
    assert "states 12 rows but 10 were read" in blocked.output
    assert blocked.output.count("bhxh_2023-01-19.csv") == 1, blocked.output  # named once
    assert "bhxh bhxh_2023-01-20.csv: 20 rows read" in blocked.output  # the others still load
    assert sorted(v[1] for v in _runs(tmp_path).values()).count("blocked") == 1


def test_pull_without_a_configured_source_says_what_to_set(tmp_path):
    result = CliRunner(env={"POPSYNC_LANDING_BHXH": None, "POPSYNC_TABLE_BHXH": None}).invoke(
        main, ["pull", "bhxh", "--workdir", str(tmp_path), "--population", str(REGISTER)]
    )
    assert result.exit_code == 2
    assert "set POPSYNC_LANDING_BHXH and/or POPSYNC_TABLE_BHXH" in result.output
