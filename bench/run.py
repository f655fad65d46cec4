"""The whole main job, ``popsync run tiem_chung``, on 1,000,000 vaccination rows against a
1,000,000-person register, into PostgreSQL: wall time, time per stage and peak memory.

Target (issue 5): 2 minutes or less and under 8 GB on this machine (2 cores, 24 GB).

The data set is the one ``bench/match.py`` generates and caches (``bench/out/p<N>_s<seed>/``,
with an extract sample of exactly N rows). The run goes into a fresh database created on the
server of ``--database-url`` and dropped afterwards, through the real command line in a child
process, whose peak resident memory is read with ``os.wait4``.

    .venv/bin/python bench/run.py                  # 1M x 1M
    .venv/bin/python bench/run.py --people 100000  # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shared import BENCH_SERVER, measured_child, temporary_database  # noqa: E402
from match import OUT, ensure_dataset  # noqa: E402
from match_sample import read_manifest, source_files  # noqa: E402

POPSYNC = Path(sys.executable).with_name("popsync")


def dataset_files(people: int, seed: int) -> tuple[Path, Path, str]:
    """The register, an extract of exactly ``people`` vaccination rows, and the extract date."""
    dataset, _ = ensure_dataset(people, seed, OUT / f"run_p{people}_s{seed}")
    register, extract = source_files(dataset)
    return register, extract, read_manifest(dataset)["extract_date"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--database-url", default=BENCH_SERVER, help="a server URL (a database is created on it)"
    )
    args = parser.parse_args(argv)

    register, extract, extract_date = dataset_files(args.people, args.seed)
    url, drop = temporary_database(args.database_url)
    workdir = OUT / f"runwork_p{args.people}_s{args.seed}"
    shutil.rmtree(workdir, ignore_errors=True)  # a cold run: the register is standardized again
    try:
        child = measured_child(
            [str(POPSYNC), "run", "tiem_chung", "--input", str(extract), "--population", str(register),
             "--date", extract_date, "--workdir", str(workdir)],
            env={**os.environ, "POPSYNC_DATABASE_URL": url}, capture=True,
        )  # fmt: skip
    finally:
        drop()
    if child.exit_code != 0:
        print(child.output)
        sys.exit(f"popsync run failed with exit code {child.exit_code}")
    summary_path = max(
        workdir.glob("batches/tiem_chung/*/summary.json"), key=lambda p: p.stat().st_mtime
    )
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    print(
        f"\npopsync run tiem_chung: {summary['counts']['read']:,} rows against {args.people:,} people, PostgreSQL"
    )
    print(f"{'stage':<16}{'seconds':>10}")
    for stage, value in summary["timings"].items():
        print(f"{stage:<16}{value:>10.1f}")
    seconds, peak_gb = child.wall_seconds, child.peak_mb / 1024
    print(f"{'whole command':<16}{seconds:>10.1f}   (target <= 120 s: {seconds / 120:.2f} of it)")
    print(f"{'peak memory':<16}{peak_gb:>9.2f}G   (target < 8 GB: {peak_gb / 8:.2f} of it)")
    counts = summary["counts"]
    print(
        f"rows read {counts['read']:,} = loaded {counts['loaded']:,} + quarantined "
        f"{counts['quarantined']:,} + review {counts['review']:,}"
    )


if __name__ == "__main__":
    main()
