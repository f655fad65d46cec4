"""Bench: recomputing each person's status after a 1,000,000-row vaccination batch on a
1,000,000-person register, and publishing the delta, against that batch's load, side by side in
one run, into PostgreSQL. Target: status + publication at most 20% of the load.

The data is bench/load.py's: 1M standardized, linked vaccination rows (85% linked, to ~570k of
the people) and the register. By default the warehouse also holds F0 cases and BHXH periods of
the same people (``--others``, made from the same rows), loaded, refreshed and published before
the timed batch, so that the refresh reads three tables as it does in production. Timed, for the
first version of the vaccination delivery and then for a second version of it (a tenth of the
doses moved by a week, a twentieth gone: the earlier rows are replaced, their people
recomputed):

- ``load_batch`` (the load stage's work: checks, COPY, reconciliation, commit);
- ``refresh_status(run_id=...)`` (what ``stage_status`` runs);
- ``publish_status`` (the delta's Parquet, CSV and manifest, written and recorded: its
  ``write_delta``, on the same connection).

Each in wall seconds and in CPU seconds (this process plus the PostgreSQL backend serving it,
read from /proc when the server runs on this machine), with the load average: on a shared
machine the wall time follows the other processes, the CPU time much less. The bench database
runs its queries without parallel workers (``max_parallel_workers_per_gather = 0``): a worker's
CPU is spent outside the backend the clock reads, so a plan that used workers (the load's or the
refresh's) would look cheaper than it is.

    .venv/bin/python bench/status.py [--rows 1000000] [--people 1000000] [--no-others] [--profile]

Runs in a new database on the server at POPSYNC_BENCH_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/postgres), dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shared import temporary_database  # noqa: E402
from load import synthesize  # noqa: E402

from popsync import warehouse  # noqa: E402
from popsync.pipeline.status import write_delta  # noqa: E402

EVENT = ["vaccination_date", "vaccination_date_precision", "dose_number", "vaccine",
         "lot_number", "site"]  # fmt: skip


def others(linked: pd.DataFrame, seed: int = 7) -> dict[str, pd.DataFrame]:
    """F0 cases (a fifth of the rows) and BHXH periods (two fifths) of the same people, made
    from the vaccination rows: the person columns and links kept, the events replaced."""
    rng = np.random.default_rng(seed)
    base = linked.drop(columns=EVENT)
    f0 = base.iloc[: len(base) // 5].copy()
    n = len(f0)
    f0["record_id"] = "F" + f0["record_id"]
    f0["source"] = "f0"
    f0["positive_date"] = pd.Timestamp("2021-07-01") + pd.to_timedelta(rng.integers(0, 540, n), "D")
    f0["positive_date_precision"] = "day"
    f0["test_type"] = np.where(rng.random(n) < 0.3, "RT-PCR", "RAT")
    recovered = rng.random(n) < 0.9
    f0["recovery_date"] = (
        f0["positive_date"] + pd.to_timedelta(rng.integers(7, 15, n), "D")
    ).where(recovered)
    f0["recovery_date_precision"] = np.where(recovered, "day", None)
    f0["treatment_place"] = "Tại nhà"
    bhxh = base.iloc[len(base) // 5 : 3 * len(base) // 5].copy()
    m = len(bhxh)
    bhxh["source"] = "bhxh"
    bhxh["bhxh_number"] = pd.Series(10**9 + rng.permutation(m)).astype(str).to_numpy()
    start = pd.Timestamp("2012-01-01") + pd.to_timedelta(rng.integers(0, 3600, m), "D")
    bhxh["period_start"] = start.to_period("M").to_timestamp()
    bhxh["record_id"] = bhxh["bhxh_number"] + "|" + bhxh["period_start"].dt.strftime("%d/%m/%Y")
    open_end = rng.random(m) < 0.5
    end = bhxh["period_start"] + pd.to_timedelta(rng.integers(180, 1800, m), "D")
    bhxh["period_end"] = (end.dt.to_period("M").dt.to_timestamp("M")).where(~open_end)
    bhxh["period_start_precision"] = "day"
    bhxh["period_end_precision"] = np.where(open_end, None, "day")
    bhxh["employer_code"], bhxh["employer_name"] = "TA00001", "Công ty TNHH A"
    bhxh["participant_type"] = "Bắt buộc"
    return {"f0": f0, "bhxh": bhxh}


def second_version(linked: pd.DataFrame, seed: int = 8) -> pd.DataFrame:
    """The delivery sent again: a tenth of the doses a week later, a twentieth gone."""
    rng = np.random.default_rng(seed)
    again = linked[rng.random(len(linked)) >= 0.05].copy()
    moved = rng.random(len(again)) < 0.1
    again.loc[moved, "vaccination_date"] += pd.Timedelta(days=7)
    return again


def batch(run_id: str, source: str, rows: pd.DataFrame, sha: str, delivery: str):
    return warehouse.build_batch(
        run_id=run_id, source=source, delivery=delivery, input_file=f"data/{delivery}",
        input_sha256=sha, run_date="2023-01-15", rows=rows,
    )  # fmt: skip


class Clock:
    """Wall seconds, and CPU seconds of this process and of the PostgreSQL backends that serve
    it (read from /proc: the server runs on this machine): on a shared machine the wall time
    moves with the load average, the CPU time much less."""

    def __init__(self, *connections):
        self.backends = [connection.get_backend_pid() for connection in connections]

    def server_cpu(self) -> float:
        total = 0.0
        for pid in self.backends:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # the server runs elsewhere: no server CPU figure
                return float("nan")
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def timed(self, what, *args, **kwargs):
        """(result, {"wall", "cpu"}): cpu is this process's plus the backends'."""
        wall, client, server = time.perf_counter(), time.process_time(), self.server_cpu()
        result = what(*args, **kwargs)
        spent = {"wall": time.perf_counter() - wall,
                 "cpu": time.process_time() - client + self.server_cpu() - server}  # fmt: skip
        return result, spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--profile", action="store_true",
                        help="profile the refresh and the publication (pyinstrument)")  # fmt: skip
    parser.add_argument("--no-others", dest="others", action="store_false",
                        help="only the vaccination table (no F0, no BHXH rows)")  # fmt: skip
    args = parser.parse_args()

    url, drop = temporary_database()
    serial(url)
    feed = Path(tempfile.mkdtemp(prefix="popsync_feed_"))
    try:
        started = time.perf_counter()
        register, linked = synthesize(args.rows, args.people)
        print(f"load average {load_average()} at the start")
        print(f"synthesized {len(linked):,} rows, {len(register):,} people "
              f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
        store = warehouse.connect(url)
        store.migrate()
        store.load_register(register, {"run_id": "register"})
        clock = Clock(store._db.conn)
        if args.others:
            for source, rows in others(linked).items():
                loaded, spent = clock.timed(store.load_batch, batch(
                    f"{source}-1", source, rows, "0f" * 32, f"{source}.csv"))  # fmt: skip
                done = store.refresh_status(run_id=f"{source}-1")
                print(f"{source}: {loaded['rows_loaded']:,} rows loaded in {spent['wall']:.1f} s, "
                      f"{done['people']:,} people's status in {sum(done['timings'].values()):.1f} s")  # fmt: skip
            write_delta(store, feed / "out")
        figures = []
        for label, rows, sha in (("first version", linked, "5e" * 32),
                                 ("second version", second_version(linked), "6f" * 32)):  # fmt: skip
            run_id = f"vaccination-{len(figures) + 1}"
            loaded, load = clock.timed(store.load_batch, batch(run_id, "tiem_chung", rows, sha,
                                                               "tiem_chung.csv"))  # fmt: skip
            profiler = start_profiler() if args.profile else None
            done, refresh = clock.timed(store.refresh_status, run_id=run_id)
            published, publish = clock.timed(write_delta, store, feed / "out")
            if profiler:
                profiler.stop()
                print(profiler.output_text(color=False, unicode=False))
            figures.append((label, load, refresh, publish))
            print(f"\n{label}: {loaded['rows_loaded']:,} rows loaded, {loaded['rows_retired']:,} "
                  f"retired; {done['people']:,} people recomputed, {done['changed']:,} changed "
                  f"({done['became_fully_vaccinated']:,} became fully vaccinated); delta of "
                  f"{published['people']:,} people; load average {load_average()}")  # fmt: skip
            print(f"  load_batch        {load['wall']:7.2f} s  cpu {load['cpu']:6.2f} s  "
                  f"(steps {loaded['timings']})")  # fmt: skip
            print(f"  refresh_status    {refresh['wall']:7.2f} s  cpu {refresh['cpu']:6.2f} s  "
                  f"(steps {done['timings']})")  # fmt: skip
            print(f"  publish_status    {publish['wall']:7.2f} s  cpu {publish['cpu']:6.2f} s")
            for what in ("wall", "cpu"):
                share = (refresh[what] + publish[what]) / load[what]
                print(f"  status + publish = {share:.1%} of the load ({what})   (target <= 20%)")
        store.close()
    finally:
        drop()
        shutil.rmtree(feed, ignore_errors=True)
    print()
    for label, load, refresh, publish in figures:
        for what in ("wall", "cpu"):
            share = (refresh[what] + publish[what]) / load[what]
            print(f"{label:<15} {what:<4} load {load[what]:6.2f} s | status {refresh[what]:5.2f} s "
                  f"+ publish {publish[what]:5.2f} s = {share:.1%} of the load")  # fmt: skip


def serial(url: str) -> None:
    """No parallel workers in the bench database (see the module): every CPU second of a query
    is spent in the backend the clock reads."""
    import psycopg2
    from psycopg2 import sql

    with psycopg2.connect(url) as connection, connection.cursor() as cur:
        cur.execute(sql.SQL("ALTER DATABASE {} SET max_parallel_workers_per_gather = 0").format(
            sql.Identifier(connection.info.dbname)))  # fmt: skip
    connection.close()


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def start_profiler():
    """pyinstrument (bench/requirements.txt) over the refresh and the publication."""
    from pyinstrument import Profiler

    profiler = Profiler()
    profiler.start()
    return profiler


if __name__ == "__main__":
    main()
