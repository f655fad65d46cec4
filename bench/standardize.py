"""Benchmark: read + standardize a 1,000,000-row vaccination CSV, against the pyarrow floor.

    .venv/bin/python bench/standardize.py [--rows 1000000] [--file bench/out/tiem_chung_1m.csv]

The CSV is built once by ``popsync.generate.generate_dataset`` (``formats="csv"``, every noise
kind of DESIGN.md at its default rate) in a child process, so its memory does not count here.
Prints rows/s and wall time per stage, the peak RSS of this process, and the ratio to
``pyarrow.csv.read_csv`` of the same file.
Target: 1M rows in <= 20 s and < 4 GB.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.csv as pacsv

DOSES_PER_PERSON = 2.2  # what popsync.generate gives: ~22,200 doses for 10,000 people


def build(path: Path, rows: int) -> None:
    """Generate a data set (CSV only) big enough for ``rows`` doses; keep its ``tiem_chung``."""
    from popsync.generate import generate_dataset

    out = path.parent / f"{path.stem}_dataset"
    manifest = generate_dataset(out, int(rows / DOSES_PER_PERSON), seed=2021, formats="csv")
    (out / manifest["sources"]["tiem_chung"]["file"]).replace(path)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--file", type=Path, default=Path("bench/out/tiem_chung_1m.csv"))
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only:
        build(args.file, args.rows)
        return
    if not args.file.exists():
        print(f"building {args.rows:,} rows -> {args.file} ...", flush=True)
        subprocess.run([sys.executable, __file__, "--build-only", "--rows", str(args.rows),
                        "--file", str(args.file)], check=True)  # fmt: skip

    from transforms.readers import read_source
    from transforms.standardize import standardize

    size_mb = args.file.stat().st_size / 1e6
    start = time.perf_counter()
    floor = pacsv.read_csv(args.file)
    floor_s = time.perf_counter() - start
    rows = floor.num_rows
    del floor
    floor_mb = _peak_mb()

    start = time.perf_counter()
    raw = read_source(args.file, "tiem_chung")
    read_s = time.perf_counter() - start
    start = time.perf_counter()
    std = standardize(raw, "tiem_chung")
    std_s = time.perf_counter() - start
    assert len(std) == rows
    total = read_s + std_s
    flagged = int(std["flags"].ne("").sum())

    print(f"file: {args.file} ({size_mb:,.0f} MB, {rows:,} rows)")
    print(f"{'stage':<28}{'seconds':>9}{'rows/s':>14}")
    for stage, seconds in [
        ("pyarrow.csv.read_csv (floor)", floor_s),
        ("read_source", read_s),
        ("standardize", std_s),
        ("read + standardize", total),
    ]:
        print(f"{stage:<28}{seconds:>9.2f}{rows / seconds:>14,.0f}")
    print(f"read_source / floor: {read_s / floor_s:.1f}x; read + standardize / floor: "
          f"{total / floor_s:.1f}x")  # fmt: skip
    print(f"peak RSS: {_peak_mb():,.0f} MB (after the floor read alone: {floor_mb:,.0f} MB)")
    print(f"rows flagged: {flagged:,}; target <= 20 s and < 4096 MB: "
          f"{'met' if total <= 20 and _peak_mb() < 4096 else 'NOT met'}")  # fmt: skip


if __name__ == "__main__":
    main()
