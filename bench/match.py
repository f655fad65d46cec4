"""Linkage benchmark: popsync's matcher against Splink 5 (DuckDB), end to end from raw files.

For each size (``--sizes``, people in the register) the bench generates, or reuses from
``bench/out/p<people>_s<seed>/``, a register and a vaccination extract with
``popsync.generate.generate_dataset``. The generator gives ~2.2 doses per person, so the
extract is cut to as many rows as the register has people (the issue's "1,000,000
vaccination rows against a 1,000,000-person register"): a seeded sample, file order kept,
written once with its truth to ``p<people>_s<seed>/extract_sample/``. Each contender then
runs in its own child process:

- **popsync**: ``popsync.pipeline.match_files(register, extract, "tiem_chung", out)``:
  read, standardize, link, write (the ``popsync match`` command without the CLI);
- **Splink 5** (DuckDB backend, ``link_only``): reads the SAME raw files and standardizes
  them with the SAME popsync code (``read_source`` + ``standardize``), so Splink receives
  folded names, parsed dates, repaired IDs, admin codes and phones: the comparison is
  about linkage, not cleaning. Its blocking rules are popsync's
  (``matching/settings/default.yaml``, translated to Splink SQL); its comparisons are the
  comparable ones: ID (exact, register CMND, one edit), folded family/given names
  (Jaro-Winkler, order swap, term frequencies), middle name, birth date (exact, day/month
  swap, one digit, same year), sex, ward/district/province codes, phone. m by EM, u by
  random sampling, prior from deterministic rules. Each extract row takes its best
  scoring register person. Two operating points are reported, both picked WITH the
  truth (an oracle advantage for Splink): the threshold with the best F1, and a
  high-precision threshold (the lowest one at or above it that reaches popsync's
  precision target, 0.9995) with the rows between the two thresholds left for review.

Figures per contender: wall time of the child (read + standardize + link + write),
peak memory (``ru_maxrss`` of that child from ``os.wait4``; this parent imports only the
standard library, so the high-water mark a child inherits from it through ``exec`` stays
small), candidate pairs (after blocking), precision / recall / F1 and review share from
``truth/tiem_chung_links.csv`` (``matching.evaluate``). Splink runs under a 15-minute
limit and is reported as "did not finish in 15 min" when it hits it; DuckDB gets
``memory_limit`` 8 GB and a ``temp_directory`` under ``bench/out/`` so that it spills to
disk rather than taking all the memory.

With ``--data DIR`` (repeatable) the bench links an independent data set instead
(``bench/independent/make_extracts.py``, made without popsync's generator): the register
``DIR/dan_cu.csv`` against the WHOLE ``DIR/tiem_chung.csv`` (~1.63 doses per person, no
sample), scored against ``DIR/truth/tiem_chung_links.csv``; same children, same figures.
Besides wall time each child's CPU time (user + system, from ``os.wait4``) is shown: on a
shared machine it is the steadier figure; compare ratios within one run.

    .venv/bin/pip install -r bench/requirements.txt
    .venv/bin/pip install --no-deps -r bench/requirements-nodeps.txt
    .venv/bin/python bench/match.py --sizes 100000,1000000 [--skip-splink] [--seed 7]
    nice -n 10 .venv/bin/python bench/independent/make_extracts.py --people 100000 --seed 3 \
        --out /work/data/independent/p100k_s3
    .venv/bin/python bench/match.py --data /work/data/independent/p100k_s3 \
        --data /work/data/independent/p1m_s3
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The checkout's own code, not the one the shared .venv's editable install points at (which
# may be another worktree's): this process and its children import popsync from ROOT.
sys.path.insert(0, str(ROOT))

from _shared import measured_child  # noqa: E402
from match_report import print_report  # noqa: E402
from match_sample import (  # noqa: E402
    SOURCE,
    child_generate,
    child_sample,
    read_manifest,
    sample_dir,
    source_files,
)
from splink_peer import (  # noqa: E402
    popsync_blocking_rules,
    splink_link,
    splink_operating_points,
)

OUT = Path(__file__).resolve().parent / "out"
SPLINK_TIMEOUT = 15 * 60
DID_NOT_FINISH = "did not finish in 15 min"


# --------------------------------------------------------------------------- children


def child_popsync(register: Path, extract: Path, work: Path) -> dict:
    from popsync.core.sources import load_catalog
    from popsync.pipeline import match_files

    summary = match_files(load_catalog(), register, extract, SOURCE, work / "popsync.parquet")
    stats = summary["stats"]
    return {
        "candidate_pairs": stats["pairs_scored"],
        "timings": stats["timings"],
        "blocking": stats["blocking"],
    }


def child_splink(register_path: Path, extract_path: Path, work: Path, u_pairs: float) -> dict:
    import pandas as pd

    from transforms.readers import read_source
    from transforms.standardize import standardize

    started = time.perf_counter()
    register = standardize(read_source(register_path, "dan_cu"), "dan_cu")
    extract = standardize(read_source(extract_path, SOURCE), SOURCE)
    standardized = time.perf_counter()
    blocking_rules, not_in_splink = popsync_blocking_rules()
    result = splink_link(register, extract, blocking_rules, u_pairs)
    best = pd.DataFrame({"record_id": extract["record_id"]}).merge(
        result.pop("best"), on="record_id", how="left", validate="one_to_one"
    )
    best.to_parquet(work / "splink_best.parquet", index=False)
    return {
        "seconds_standardize": round(standardized - started, 2),
        "blocking_rules": blocking_rules,
        "rules_not_in_splink": not_in_splink,
        **result,
    }


def child_evaluate(truth_dir: Path, work: Path) -> dict:
    import pandas as pd

    from matching.evaluate import evaluate, read_truth

    truth = read_truth(truth_dir, SOURCE)
    results = {}
    if (work / "popsync.parquet").exists():
        results["popsync"] = evaluate(pd.read_parquet(work / "popsync.parquet"), truth)
    if (work / "splink_best.parquet").exists():
        best = pd.read_parquet(work / "splink_best.parquet")
        results.update(splink_operating_points(best, truth))
    return results


# --------------------------------------------------------------------------- parent


def run_child(args: list[str], timeout: float | None) -> dict:
    """Run ``bench/match.py --child ...``; wall time, peak RSS and the child's JSON result."""
    result_path = Path(args[args.index("--result") + 1])
    result_path.unlink(missing_ok=True)
    child = measured_child(
        [sys.executable, str(Path(__file__).resolve()), *args], timeout=timeout, cwd=ROOT
    )
    if child.timed_out:
        return {
            "error": DID_NOT_FINISH,
            "wall_seconds": round(child.wall_seconds),
            "cpu_seconds": round(child.cpu_seconds),
        }
    if child.exit_code != 0:
        return {"error": f"exit code {child.exit_code}"}
    return {
        **json.loads(result_path.read_text(encoding="utf-8")),
        "wall_seconds": round(child.wall_seconds, 1),
        "cpu_seconds": round(child.cpu_seconds, 1),
        "peak_mb": round(child.peak_mb),
    }


def dataset_dir(people: int, seed: int) -> Path:
    """Where the data set of ``people`` people generated with ``seed`` is cached."""
    return OUT / f"p{people}_s{seed}"


def ensure_dataset(people: int, seed: int, work: Path) -> dict:
    """Generate the data set and its extract sample unless cached, each in a child process
    (so that a benchmarked child does not inherit their memory high-water mark); return the
    inputs of the run (``inputs_of``)."""
    dataset = dataset_dir(people, seed)
    work.mkdir(parents=True, exist_ok=True)
    common = ["--dataset", str(dataset), "--work", str(work)]
    if not (dataset / "manifest.json").exists():
        print(f"generating {people:,} people (seed {seed}) into {dataset} ...", flush=True)
        generated = run_child(
            [
                "--child",
                "generate",
                *common,
                "--people",
                str(people),
                "--seed",
                str(seed),
                "--result",
                str(work / "generate.json"),
            ],
            None,
        )
        if "error" in generated:
            raise SystemExit(f"generation failed: {generated['error']}")
    sample = sample_dir(dataset) / "sample.json"
    if not sample.exists():
        print(f"sampling {people:,} {SOURCE} rows (seed {seed}) into {sample.parent} ...",
              flush=True)  # fmt: skip
        sampled = run_child(["--child", "sample", *common, "--people", str(people),
                             "--seed", str(seed), "--result", str(sample)], None)  # fmt: skip
        if "error" in sampled:
            raise SystemExit(f"sampling failed: {sampled['error']}")
    sampled = json.loads(sample.read_text(encoding="utf-8"))
    register, extract = source_files(dataset)
    return inputs_of(
        register, extract, sample_dir(dataset), people, sampled["rows"], work,
        f"popsync's generator, seed {seed}; extract: a seeded sample of the "
        f"{sampled['generated_rows']:,} generated rows",
    )  # fmt: skip


def inputs_of(register, extract, truth_dir, people, rows, work, about) -> dict:
    """What one bench run links: the two raw files, the truth folder, sizes and a label."""
    return {"register": register, "extract": extract, "truth_dir": truth_dir, "people": people,
            "rows": rows, "work": work, "about": about}  # fmt: skip


def independent_inputs(data: Path) -> dict:
    """An independent data set (``bench/independent/make_extracts.py``): the register
    ``dan_cu.csv``, the whole ``tiem_chung.csv`` and ``truth/tiem_chung_links.csv``."""
    manifest = read_manifest(data)
    sources = manifest["sources"]
    register, extract = data / sources["dan_cu"]["file"], data / sources[SOURCE]["file"]
    for path in (register, extract, data / "truth" / f"{SOURCE}_links.csv"):
        if not path.is_file():
            raise SystemExit(f"--data {data}: {path.name} is missing")
    people = int(manifest["people"])
    return inputs_of(
        register, extract, data, people, int(sources[SOURCE]["rows"]), OUT / f"run_{data.name}",
        f"independent ({manifest.get('generator', 'make_extracts')}, seed {manifest.get('seed')}); "
        f"{data}",
    )  # fmt: skip


def bench_size(inputs: dict, skip_splink: bool) -> dict:
    people, work = inputs["people"], inputs["work"]
    work.mkdir(parents=True, exist_ok=True)
    common = ["--register", str(inputs["register"]), "--extract", str(inputs["extract"]),
              "--truth-dir", str(inputs["truth_dir"]), "--work", str(work)]  # fmt: skip
    print(f"[{people:,}] register {people:,} people; extract {inputs['rows']:,} {SOURCE} rows "
          f"({inputs['about']})", flush=True)  # fmt: skip
    for stale in ("popsync.parquet", "splink_best.parquet"):
        (work / stale).unlink(missing_ok=True)
    print(f"[{people:,}] popsync ...", flush=True)
    runs = {
        "popsync": run_child(
            ["--child", "popsync", *common, "--result", str(work / "popsync.json")], None
        )
    }
    if not skip_splink:
        print(f"[{people:,}] Splink 5 ...", flush=True)
        runs["splink"] = run_child(
            [
                "--child",
                "splink",
                *common,
                "--result",
                str(work / "splink.json"),
                "--u-pairs",
                str(min(1e7, 100.0 * people)),
            ],
            SPLINK_TIMEOUT,
        )
    metrics = run_child(
        ["--child", "evaluate", *common, "--result", str(work / "evaluate.json")], None
    )
    if "error" in metrics:
        raise SystemExit(f"evaluation failed: {metrics['error']}")
    return {"people": people, "rows": inputs["rows"], "runs": runs, "metrics": metrics}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="register sizes, comma-separated")
    parser.add_argument("--people", type=int, help="one size (overrides --sizes)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--data",
        type=Path,
        action="append",
        help="an independent data set (bench/independent/make_extracts.py): DIR/dan_cu.csv "
        "against the whole DIR/tiem_chung.csv, truth DIR/truth/tiem_chung_links.csv; repeat "
        "for several (replaces --sizes)",
    )
    parser.add_argument("--skip-splink", action="store_true")
    parser.add_argument(
        "--child",
        choices=("generate", "sample", "popsync", "splink", "evaluate"),
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--dataset", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--register", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--extract", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--truth-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--u-pairs", type=float, default=1e7, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        children = {
            "generate": lambda: child_generate(args.dataset, args.people, args.seed),
            "sample": lambda: child_sample(args.dataset, args.people, args.seed),
            "popsync": lambda: child_popsync(args.register, args.extract, args.work),
            "splink": lambda: child_splink(args.register, args.extract, args.work, args.u_pairs),
            "evaluate": lambda: child_evaluate(args.truth_dir, args.work),
        }
        result = children[args.child]()
        args.result.write_text(json.dumps(result, default=str, indent=1), encoding="utf-8")
        return

    if args.data:
        runs = [independent_inputs(data) for data in args.data]
    else:
        sizes = [args.people] if args.people else [int(size) for size in args.sizes.split(",")]
        runs = [
            ensure_dataset(people, args.seed, OUT / f"run_p{people}_s{args.seed}")
            for people in sizes
        ]
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    results = []
    for inputs in runs:
        results.append(bench_size(inputs, args.skip_splink))
        print_report(results[-1:])
    if len(results) > 1:
        print_report(results)


if __name__ == "__main__":
    main()
