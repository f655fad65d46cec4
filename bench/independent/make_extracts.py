#!/usr/bin/env python
"""Independent extract maker for popsync: a register (dan_cu.csv) and vaccination, F0 and
BHXH extracts with realistic, independently modelled noise, plus truth files.

    python bench/independent/make_extracts.py --people 20000 --seed 1 --out /tmp/p20k
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from indepgen.config import kinds_markdown  # noqa: E402
from indepgen.generate import run  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--people", type=int, help="people in the register")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path)
    ap.add_argument(
        "--noise",
        type=float,
        default=None,
        help="global noise multiplier (default 1.0; 0 = no noise)",
    )
    ap.add_argument(
        "--noise-config",
        default=None,
        help="YAML with rates/source_rates/source_scale/levels/realism",
    )
    ap.add_argument("--formats", default="csv", help="comma list of csv,xlsx")
    ap.add_argument("--doses-per-person", type=float, default=1.63)
    ap.add_argument("--f0-per-person", type=float, default=0.125)
    ap.add_argument("--bhxh-per-person", type=float, default=0.875)
    ap.add_argument(
        "--province", default="01", help="GSO province code of the register (default 01 Hà Nội)"
    )
    ap.add_argument("--snapshot-date", default="2025-06-30")
    ap.add_argument("--extract-date", default="2025-08-15")
    ap.add_argument("--chunk-people", type=int, default=400_000)
    ap.add_argument(
        "--xlsx-max-rows", type=int, default=None, help="rows per sheet (default Excel's 1,048,576)"
    )
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument(
        "--list-kinds", action="store_true", help="print the noise kinds as a markdown table"
    )
    a = ap.parse_args(argv)
    if a.list_kinds:
        print(kinds_markdown())
        return 0
    if not a.people or not a.out:
        ap.error("--people and --out are required")
    formats = tuple(x.strip() for x in a.formats.split(",") if x.strip())
    bad = set(formats) - {"csv", "xlsx"}
    if bad or not formats:
        ap.error(f"unknown format(s): {bad}")
    run(
        a.people,
        a.seed,
        a.out,
        noise=a.noise,
        noise_config=a.noise_config,
        formats=formats,
        doses_per_person=a.doses_per_person,
        f0_per_person=a.f0_per_person,
        bhxh_per_person=a.bhxh_per_person,
        province=a.province,
        snapshot=a.snapshot_date,
        extract_date=a.extract_date,
        chunk_people=a.chunk_people,
        xlsx_max_rows=a.xlsx_max_rows,
        quiet=a.quiet,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
