"""Measure: the status popsync computes from its own links against the status of the true links
of a generated set (``popsync generate`` writes ``truth/<source>_links.csv``), at 20,000 people.

Generates the set (or reuses ``bench/out/truth_p<N>_s<seed>/``), runs every extract through the
whole job into an embedded database (``popsync run all``), then compares
(``popsync.pipeline.status_truth.compare_with_truth``): the share of people whose status is the
same, and each difference by its explanation, person by person (a row in review, a row left
unlinked: only when deciding those rows as the truth would gives the person their true status;
else a wrong link, or none), printed with the rows behind it. Then decides the review queue as a steward who knew the truth would, and compares
again: what is left is the rows the linker could not link.

    .venv/bin/python bench/status_truth.py [--people 20000] [--seed 11] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from popsync import pipeline
from popsync.generate import generate_dataset
from popsync.pipeline.status_truth import compare_with_truth, decide_reviews_by_truth
from popsync.resources import Resources

OUT = Path(__file__).resolve().parent / "out"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--database-url", default=None, help="default: an embedded database")
    args = parser.parse_args()

    dataset = OUT / f"truth_p{args.people}_s{args.seed}"
    if not (dataset / "manifest.json").is_file():
        generate_dataset(dataset, people=args.people, seed=args.seed, formats="csv")
    workdir = OUT / f"truth_work_p{args.people}_s{args.seed}"
    shutil.rmtree(workdir, ignore_errors=True)
    res = Resources.from_environment(database_url=args.database_url, workdir=workdir)
    started = time.perf_counter()
    batches = pipeline.run_all(res, dataset)
    print(f"popsync run all: {args.people:,} people in {time.perf_counter() - started:.1f} s")
    for batch in batches:
        status = {k: v for k, v in batch["status"].items() if k not in ("timings", "as_of")}
        print(f"  {batch['source']}: {batch['counts']} status {status}")
    with res.warehouse() as store:
        before = compare_with_truth(store, dataset / "truth", batches[0]["run_date"])
        decided = decide_reviews_by_truth(store, dataset / "truth")
        after = compare_with_truth(store, dataset / "truth", batches[0]["run_date"])
    for label, found in (("as linked", before), (f"after {decided} review decisions", after)):
        print(f"\n{label}: status equal for {found['equal']:,} of {found['people']:,} people "
              f"({found['equal_share']:.3%}; {found['equal_share_with_events']:.3%} of the "
              f"{found['people_with_events']:,} with any event)")  # fmt: skip
        print(f"  differences: {json.dumps(found['differences'])}")
        print(f"  by field: {json.dumps(found['fields'])}")
        print("  person by person (ID masked): explanation, fields that differ, rows behind it")
        for person in found["people_differing"]:
            print(f"    {person['person']}  {person['explanation']:<11} "
                  f"{', '.join(person['fields'])}  [{'; '.join(person['rows'])}]")  # fmt: skip


if __name__ == "__main__":
    main()
