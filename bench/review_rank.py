"""Is rank 1 of the review queue the true person? On a generated set, for every row the linker
sent to review whose true person (``truth/<source>_links.csv``) is among its candidates: the
share whose rank-1 candidate is that person (issue 12: at least 99%, else a steward who takes
rank 1 links a child's dose to the parent whose ID was used).

    .venv/bin/python bench/review_rank.py --people 20000 --seed 12 --out bench/out/rank20k

generates the set (unless ``--out`` already holds one), runs ``popsync run all`` into a fresh
embedded database in ``<out>/work`` (``--reuse`` keeps one already there), prints the figure
per source and in all, and exits 1 when the share is below ``--min`` (default 0.99).
``measure(workdir, samples)`` is the same check for a test.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path

import pandas as pd


def measure(workdir: Path, samples: Path) -> dict:
    """Per source and ``all``: rows in review, those with candidates, those whose true person
    is a candidate (``judged``), whose rank 1 is the true person (``rank1``), and the share."""
    db = sqlite3.connect(Path(workdir) / "popsync.sqlite3")
    candidates = pd.read_sql(
        "SELECT c.source, c.record_id, c.rank, c.so_dinh_danh FROM review_candidate c", db
    )
    waiting = pd.read_sql("SELECT source, record_id FROM link WHERE decision = 'review'", db)
    out = {}
    for source in sorted(set(waiting["source"])):
        truth_file = Path(samples) / "truth" / f"{source}_links.csv"
        truth = pd.read_csv(truth_file, dtype=str, keep_default_na=False)
        true = dict(zip(truth["record_id"], truth["true_so_dinh_danh"], strict=True))
        mine = candidates[candidates["source"] == source]
        rows = waiting[waiting["source"] == source]["record_id"]
        judged = rank1 = with_candidates = 0
        for record_id in rows:
            person = true.get(record_id.split("~")[0], "")
            ranked = mine[mine["record_id"] == record_id].sort_values("rank")
            if len(ranked):
                with_candidates += 1
            if person and person in set(ranked["so_dinh_danh"]):
                judged += 1
                rank1 += ranked.iloc[0]["so_dinh_danh"] == person
        out[source] = _figures(len(rows), with_candidates, judged, rank1)
    total = {
        k: sum(v[k] for v in out.values()) for k in ("review", "with_candidates", "judged", "rank1")
    }
    out["all"] = _figures(**total)
    return out


def _figures(review, with_candidates, judged, rank1) -> dict:
    return {"review": review, "with_candidates": with_candidates, "judged": judged,
            "rank1": int(rank1), "share": (rank1 / judged) if judged else 1.0}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--out", type=Path, default=Path("bench/out/review_rank"))
    parser.add_argument("--min", type=float, default=0.99)
    parser.add_argument("--reuse", action="store_true", help="Keep the run already in --out.")
    args = parser.parse_args()
    samples, workdir = args.out / "samples", args.out / "work"
    from popsync import pipeline
    from popsync.generate import generate_dataset
    from popsync.resources import Resources
    from popsync.workarea import WorkArea

    started = time.perf_counter()
    if not (samples / "manifest.json").exists():
        generate_dataset(out_dir=samples, people=args.people, seed=args.seed)
    if not (args.reuse and (workdir / "popsync.sqlite3").exists()):
        if (workdir / "popsync.sqlite3").exists():
            (workdir / "popsync.sqlite3").unlink()
        pipeline.run_all(Resources(WorkArea(workdir)), samples)
    figures = measure(workdir, samples)
    print(json.dumps({"people": args.people, "seed": args.seed, "seconds":
                      round(time.perf_counter() - started, 1), "figures": figures}, indent=1))  # fmt: skip
    share = figures["all"]["share"]
    print(f"rank 1 is the true person for {figures['all']['rank1']} of {figures['all']['judged']} "
          f"review rows whose true person is a candidate: {share:.2%} (target {args.min:.0%})")  # fmt: skip
    return 0 if share >= args.min else 1


if __name__ == "__main__":
    sys.exit(main())
