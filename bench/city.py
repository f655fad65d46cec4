"""City scale: the whole job (``popsync run``, chunked) on Hà Nội-sized data sets into
PostgreSQL, with the time, the peak resident memory and the rows per second of each stage, and
the peak memory against the input size (it should stay flat).

The data sets come from the independent extract maker (``bench/independent``): N people in the
register, 1.63 doses, 0.125 F0 cases and 0.875 BHXH periods per person (Hà Nội: 8M people,
13M doses, 1M F0, 7M BHXH). A missing one is generated (slow: ~17 min of CPU at 8M).
Each size runs in a fresh database (``_shared.temporary_database`` on the server of
``--database-url``, dropped afterwards) and a fresh work area (a cold run: the register is
prepared again), each source in a child process whose peak memory is its own.

    .venv/bin/python bench/city.py --sizes 1000000                       # tiem_chung, 1M people
    .venv/bin/python bench/city.py --sizes 1000000,2000000,4000000,8000000 --sources all
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shared import BENCH_SERVER, independent_batch, temporary_database  # noqa: E402
from peak import StagePeaks  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("POPSYNC_CITY_DATA", "/work/data/independent"))
WORK = Path(os.environ.get("POPSYNC_CITY_WORK", "/work/data/scale"))
SOURCES = ("tiem_chung", "f0", "bhxh")
GB = 2**30


def dataset(people: int, seed: int, generate: bool) -> Path:
    """The data set of ``people`` (``p<N>_s<seed>`` or ``p<N>_s<seed>_scale`` under the data
    folder, whichever has its manifest), generated when missing."""
    short = f"p{people // 1_000_000}m" if people % 1_000_000 == 0 else f"p{people}"
    for name in (f"{short}_s{seed}", f"{short}_s{seed}_scale"):
        if (DATA / name / "manifest.json").is_file():
            return DATA / name
    if not generate:
        sys.exit(f"no data set of {people:,} people under {DATA} (run with --generate)")
    out = DATA / f"{short}_s{seed}_scale"
    print(f"generating {out} (nice) ...", flush=True)
    subprocess.run(
        ["nice", sys.executable, str(REPO / "bench/independent/make_extracts.py"),
         "--people", str(people), "--seed", str(seed), "--doses-per-person", "1.63",
         "--out", str(out), "--quiet"],
        check=True,
    )  # fmt: skip
    return out


def child(source: str, folder: Path, workdir: Path, url: str, chunk_rows: int) -> dict:
    """One source's whole job in this process, stage by stage, with each stage's peak RSS."""
    from popsync.pipeline.chunk_finish import finish_chunks
    from popsync.pipeline.chunks import plan_chunks, run_chunk
    from popsync.pipeline.recheck import stage_recheck
    from popsync.pipeline.run import finish_batch
    from popsync.pipeline.status import stage_status
    from popsync.resources import Resources

    res = Resources.from_environment(database_url=url, workdir=workdir)
    batch = independent_batch(folder, source)
    peaks = StagePeaks()
    started = time.perf_counter()
    with peaks.stage("plan (register, read, train)"):
        batch = plan_chunks(batch, res, chunk_rows)
    with peaks.stage("chunks (standardize, validate, link)"):
        parts = [run_chunk(batch, res, entry["index"]) for entry in batch["chunks"]]
    with peaks.stage("finish (batch rules, load)"):
        batch = finish_chunks(batch, res, parts)
    for stage in (stage_recheck, stage_status):
        with peaks.stage(stage.__name__.removeprefix("stage_")):
            batch = stage(batch, res)
    with peaks.stage("report"):
        batch = finish_batch(batch, res)
    seconds = time.perf_counter() - started
    peaks.close()
    return {
        "source": source,
        "rows": batch["rows_read"],
        "chunks": len(batch["chunks"]),
        "streamed": batch["streamed"],
        "counts": batch["counts"],
        "seconds": seconds,
        "peak_bytes": peaks.process_peak_bytes(),
        "cpu": sum(peaks.cpu_seconds.values()),
        "load_average": os.getloadavg(),
        "stages": {
            name: {
                "seconds": peaks.seconds[name],
                "cpu": peaks.cpu_seconds[name],
                "peak_bytes": peaks.peak_bytes[name],
            }
            for name in peaks.seconds
        },  # fmt: skip
        "timings": batch["timings"],
        "blocking": batch["link_stats"].get("blocking", {}),
    }


def run_child(source, folder, workdir, url, chunk_rows) -> dict:
    args = [sys.executable, __file__, "--child", source, str(folder), str(workdir), url,
            str(chunk_rows)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{source} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_source(result: dict) -> None:
    rows = result["rows"]
    print(f"\n{result['source']}: {rows:,} rows in {result['chunks']} chunks "
          f"({'streamed' if result['streamed'] else 'read whole'}), {result['counts']}")  # fmt: skip
    print(f"  {'stage':<38}{'seconds':>9}{'CPU s':>8}{'peak RSS':>10}{'rows/s':>11}")
    for name, stage in result["stages"].items():
        rate = rows / stage["seconds"] if stage["seconds"] else 0
        print(f"  {name:<38}{stage['seconds']:>9.1f}{stage['cpu']:>8.1f}"
              f"{stage['peak_bytes'] / GB:>9.2f}G{rate:>11,.0f}")  # fmt: skip
    inner = {k: v for k, v in result["timings"].items()}
    print(f"  inner timings (s): {json.dumps(inner)}")
    print(f"  {'whole':<38}{result['seconds']:>9.1f}{result['cpu']:>8.1f}"
          f"{result['peak_bytes'] / GB:>9.2f}G{rows / result['seconds']:>11,.0f}"
          f"   (load average at the end {result['load_average'][0]:.1f})")  # fmt: skip
    for kind, what in (("split_rows", "split by a further key"), ("skipped_rows", "skipped")):
        rows_of = {rule: counts[kind] for rule, counts in result["blocking"].items()
                   if counts.get(kind)}  # fmt: skip
        print(f"  blocks over their cap (rows whose block was {what}, per rule): "
              f"{rows_of or 'none'}")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000", help="people, comma separated")
    parser.add_argument("--sources", default="tiem_chung", help="comma separated, or all")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunk-rows", type=int, default=250_000)
    parser.add_argument(
        "--database-url", default=BENCH_SERVER, help="a server URL (a database is created on it)"
    )
    parser.add_argument("--generate", action="store_true", help="generate missing data sets")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        source, folder, workdir, url, chunk_rows = args.child
        print(json.dumps(child(source, Path(folder), Path(workdir), url, int(chunk_rows))))
        return
    sources = SOURCES if args.sources == "all" else tuple(args.sources.split(","))
    curve = []
    for people in (int(size) for size in args.sizes.split(",")):
        folder = dataset(people, args.seed, args.generate)
        workdir = WORK / f"city_work_p{people}"
        shutil.rmtree(workdir, ignore_errors=True)  # cold: the register is prepared again
        load = os.getloadavg()
        print(f"\n== {people:,} people ({folder}); load average {load[0]:.1f} {load[1]:.1f} "
              f"{load[2]:.1f}; chunks of {args.chunk_rows:,} rows", flush=True)  # fmt: skip
        total, peak, rows = 0.0, 0, 0
        url, drop = temporary_database(args.database_url)
        try:
            for source in sources:
                result = run_child(source, folder, workdir, url, args.chunk_rows)
                print_source(result)
                total += result["seconds"]
                peak = max(peak, result["peak_bytes"])
                rows += result["rows"]
        finally:
            drop()
        print(f"\n{people:,} people: {rows:,} rows of {', '.join(sources)} in {total:.0f} s "
              f"({rows / total:,.0f} rows/s), peak RSS {peak / GB:.2f} GB", flush=True)  # fmt: skip
        curve.append((people, rows, total, peak))
    print("\npeak RSS against input size")
    print(f"{'people':>12}{'rows':>13}{'seconds':>10}{'peak RSS':>10}{'peak/1st':>9}")
    for people, rows, seconds, peak in curve:
        print(f"{people:>12,}{rows:>13,}{seconds:>10.0f}{peak / GB:>9.2f}G"
              f"{peak / curve[0][3]:>9.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
