"""Quality-gate benchmark: both validation stages on 1,000,000 vaccination rows (target <= 30 s).

The rows are real pipeline rows, made cheaply: ``popsync.generate.generate_dataset`` writes a
set of ``--people`` people (default noise) into ``bench/out/validate_p<people>_s<seed>/``,
the register and the vaccination extract are read and standardized once, and the standardized
rows are repeated until there are ``--rows`` of them. Each copy gets its own record ids, IDs,
name keys and register persons (a ``~k`` suffix), so copies are neither duplicates nor one ID
claimed by many people: every rule sees the noise mix of the generated set. Linking decisions
are the generator's truth (``truth/tiem_chung_links.csv``), so the figure is the validation
alone, not the matcher.

    .venv/bin/python bench/validate.py [--rows 1000000] [--people 20000] [--seed 7]

Prints the time of each stage (``validate_pre_link``, ``validate_post_link``), the findings
count and the pillar scores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "out"
SOURCE = "tiem_chung"


def _dataset(people: int, seed: int) -> Path:
    from popsync.generate import generate_dataset

    folder = OUT / f"validate_p{people}_s{seed}"
    if not (folder / "manifest.json").exists():
        generate_dataset(folder, people=people, seed=seed, formats="csv")
    return folder


def _tile(frame: pd.DataFrame, copies: int, rows: int, suffixed: tuple[str, ...]) -> pd.DataFrame:
    """``copies`` copies of ``frame`` (first ``rows`` rows kept), ``suffixed`` columns + ``~k``."""
    parts = []
    for k in range(copies):
        part = frame.copy()
        if k:
            for column in suffixed:
                if column in part:
                    part[column] = part[column].astype("string") + f"~{k}"
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    return out.iloc[:rows] if rows else out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import expectations
    from matching.evaluate import read_truth
    from transforms.readers import read_source
    from transforms.standardize import standardize

    folder = _dataset(args.people, args.seed)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    run_date = dt.date.fromisoformat(manifest["extract_date"])
    files = {s: folder / manifest["sources"][s]["file"] for s in ("dan_cu", SOURCE)}
    register = standardize(read_source(files["dan_cu"], "dan_cu"), "dan_cu")
    extract = standardize(read_source(files[SOURCE], SOURCE), SOURCE)
    truth = read_truth(folder, SOURCE)
    true_id = extract["record_id"].map(truth.set_index("record_id")["true_so_dinh_danh"])
    extract["so_dinh_danh"] = true_id

    copies = -(-args.rows // len(extract))
    ids = ("record_id", "id_number", "raw_id_number", "name_key", "so_dinh_danh")
    rows = _tile(extract, copies, args.rows, ids)
    register = _tile(register, copies, 0, ("person_id", "record_id"))
    decisions = pd.DataFrame(
        {
            "record_id": rows["record_id"],
            "so_dinh_danh": rows["so_dinh_danh"].fillna(""),
            "decision": np.where(rows["so_dinh_danh"].notna(), "match", "no_match"),
            "score": np.where(rows["so_dinh_danh"].notna(), 0.99, 0.01),
        }
    )
    rows = rows.drop(columns="so_dinh_danh")
    print(
        f"{len(rows):,} {SOURCE} rows ({copies} copies of {len(extract):,}), register {len(register):,}"
    )

    expectations.validate_pre_link(rows.head(1000), SOURCE, run_date)  # GX import and warm-up
    started = time.perf_counter()
    pre = expectations.validate_pre_link(rows, SOURCE, run_date)
    pre_s = time.perf_counter() - started
    started = time.perf_counter()
    post = expectations.validate_post_link(rows, decisions, register, SOURCE, run_date)
    post_s = time.perf_counter() - started

    for name, result, seconds in (("pre_link", pre, pre_s), ("post_link", post, post_s)):
        pillars = ", ".join(f"{p} {v:.1%}" for p, v in result.scores["pillars"].items())
        print(
            f"validate_{name}: {seconds:6.1f} s  {len(result.findings):,} findings  "
            f"verdict {result.scores['verdict']}  ({pillars})"
        )
    total = pre_s + post_s
    print(
        f"both stages: {total:.1f} s for {len(rows):,} rows (target 30 s): {'OK' if total <= 30 else 'SLOW'}"
    )


if __name__ == "__main__":
    main()
