"""The memory curve of a chunked batch's batch rules (``chunk_finish._batch_rules``) on their own.

``prepare`` runs ``plan_chunks`` and every ``run_chunk`` once into a work folder and saves what
``finish_chunks`` needs (the batch and its parts, JSON); ``rules`` then runs only the batch
rules, in this process, with the peak RSS sampled every 50 ms (``peak.StagePeaks``), and saves
their findings (to compare two versions of the code on the same chunks)::

    .venv/bin/python bench/batch_rules.py prepare /work/data/independent/p1m_s1 /tmp/br1m
    .venv/bin/python bench/batch_rules.py rules /tmp/br1m --findings /tmp/br1m/after.parquet
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shared import BENCH_SERVER, independent_batch  # noqa: E402
from peak import StagePeaks, rss_bytes  # noqa: E402

GB = 2**30


def prepare(folder: Path, work: Path, source: str, chunk_rows: int) -> None:
    from popsync.pipeline.chunks import plan_chunks, run_chunk
    from popsync.resources import Resources

    res = Resources.from_environment(database_url=BENCH_SERVER, workdir=work)
    batch = independent_batch(folder, source)
    started = time.perf_counter()
    batch = plan_chunks(batch, res, chunk_rows)
    parts = [run_chunk(batch, res, entry["index"]) for entry in batch["chunks"]]
    saved = json.dumps({"batch": batch, "parts": parts}, default=str)
    (work / "harness.json").write_text(saved, encoding="utf-8")
    print(f"prepared {batch['rows_read']:,} rows in {len(parts)} chunks, "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip


def rules(work: Path, findings: Path | None, bucket_rows: int | None) -> None:
    import pandas as pd

    from popsync.pipeline import chunk_finish
    from popsync.resources import Resources

    saved = json.loads((work / "harness.json").read_text(encoding="utf-8"))
    res = Resources.from_environment(database_url=BENCH_SERVER, workdir=work)
    extra = {} if bucket_rows is None else {"bucket_rows": bucket_rows}
    start_rss, load = rss_bytes(), os.getloadavg()
    peaks = StagePeaks()
    with peaks.stage("batch rules"):
        level = chunk_finish._batch_rules(saved["batch"], res, **extra)
    peaks.close()
    if findings is not None:
        both = pd.concat([r.findings for r in level.values()], ignore_index=True)
        both.to_parquet(findings, index=False)
    print(json.dumps({
        "rows": saved["batch"]["rows_read"], "seconds": round(peaks.seconds["batch rules"], 1),
        "cpu": round(peaks.cpu_seconds["batch rules"], 1),
        "peak_gb": round(peaks.peak_bytes["batch rules"] / GB, 3),
        "start_gb": round(start_rss / GB, 3), "load_average": load, "end_load": os.getloadavg(),
        "findings": {s: len(r.findings) for s, r in level.items()},
    }))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    first = sub.add_parser("prepare")
    first.add_argument("data", type=Path)
    first.add_argument("work", type=Path)
    first.add_argument("--source", default="tiem_chung")
    first.add_argument("--chunk-rows", type=int, default=250_000)
    second = sub.add_parser("rules")
    second.add_argument("work", type=Path)
    second.add_argument("--findings", type=Path)
    second.add_argument("--bucket-rows", type=int)
    args = parser.parse_args()
    if args.command == "prepare":
        args.work.mkdir(parents=True, exist_ok=True)
        prepare(args.data, args.work, args.source, args.chunk_rows)
    else:
        rules(args.work, args.findings, args.bucket_rows)


if __name__ == "__main__":
    main()
