"""Linkage under noise popsync did not choose: each family of noise kinds of the independent
extract maker (``bench/independent``) at 0, 1, 2 and 3 times its default rates, the others at
their defaults; precision, recall and review share per cell, for all three extracts together.
Decisions should degrade gracefully: no cliff between two rates.

    .venv/bin/python bench/noise_grid.py [--people 10000] [--seed 3] [--factors 0,1,2,3]
        [--families names,birth_dates,...] [--out /work/data/noise_grid]
    .venv/bin/python bench/noise_grid.py --global --factors 0,0.5,1,2,3 [--people 20000]

``--global`` scales every kind at once with the maker's own ``--noise`` (0 = no noise rows)
and prints each source on its own line.

Every cell is generated once into ``--out`` (kept for a rerun), then linked with one model per
source trained on that cell's files (as the pipeline trains one per register snapshot).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "independent"))
SOURCES = ("tiem_chung", "f0", "bhxh")
HOUSEHOLD = "_household_member"
# Families of noise kinds, by the kinds' name prefixes (a relative's value in a row is its own).
FAMILIES = {
    "names": ("name_",),
    "birth_dates": ("dob_",),
    "ids": ("id_",),
    "sex": ("sex_",),
    "phones": ("phone_",),
    "addresses": ("addr_", "admin_"),
    "relatives": (HOUSEHOLD,),
}


def family_kinds(family: str, names) -> list[str]:
    prefixes = FAMILIES[family]
    if family == "relatives":
        return [name for name in names if name.endswith(HOUSEHOLD)]
    return [n for n in names if n.startswith(prefixes) and not n.endswith(HOUSEHOLD)]


def noise_config(family: str, factor: float) -> dict:
    """A ``--noise-config`` with the family's base and per-source rates times ``factor``."""
    from indepgen.config import Rates

    rates = Rates()
    kinds = family_kinds(family, rates.base)
    config = {"rates": {kind: rates.base[kind] * factor for kind in kinds}, "source_rates": {}}
    for source, overrides in rates.src_override.items():
        scaled = {kind: rate * factor for kind, rate in overrides.items() if kind in kinds}
        if scaled:
            config["source_rates"][source] = scaled
    return config


def generate(cell: Path, people: int, seed: int, config: dict | None, noise=None) -> Path:
    """One cell: with ``config`` as ``--noise-config``, or with the global ``--noise``."""
    if (cell / "manifest.json").is_file():
        return cell
    cell.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(ROOT / "bench/independent/make_extracts.py"), "--people",
               str(people), "--seed", str(seed), "--formats", "csv", "--quiet", "--out", str(cell)]  # fmt: skip
    if config is not None:
        (cell / "noise.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        command += ["--noise-config", str(cell / "noise.yaml")]
    if noise is not None:
        command += ["--noise", f"{noise:g}"]
    subprocess.run(command, check=True)
    return cell


def figures(rows: list[dict]) -> dict:
    """Precision, recall and review share over ``rows`` of ``linkage_independent.measure``."""
    total = {key: sum(row[key] for row in rows) for key in ("rows", "linkable", "match",
                                                            "correct", "review", "wrong_links")}  # fmt: skip
    return {
        "precision": total["correct"] / total["match"] if total["match"] else 0.0,
        "recall": total["correct"] / total["linkable"] if total["linkable"] else 0.0,
        "review": total["review"] / total["rows"],
        "wrong": total["wrong_links"],
    }


RELATIVES = True  # --no-relatives: the household rule off (bench/linkage_independent.py)


def measure_cell(cell: Path, sources=SOURCES) -> list[dict]:
    from linkage_independent import measure

    return measure(cell, sources, ["csv"], relatives=RELATIVES)


def print_line(label: str, factor: float, f: dict) -> None:
    print(f"{label:<12} {factor:>9g} {f['precision']:>9.5f} {f['recall']:>7.4f} "
          f"{f['review']:>7.2%} {f['wrong']:>5}", flush=True)  # fmt: skip


def global_grid(args, factors) -> None:
    """Every noise kind scaled together (the maker's ``--noise``), one line per source."""
    for factor in factors:
        cell = args.out / f"p{args.people}_s{args.seed}" / f"global_x{factor:g}"
        generate(cell, args.people, args.seed, None, noise=factor)
        for row in measure_cell(cell):
            print_line(row["source"], factor, figures([row]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--factors", default="0,1,2,3")
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--out", type=Path, default=Path("/work/data/noise_grid"))
    parser.add_argument("--global", dest="global_noise", action="store_true",
                        help="scale every kind with the maker's --noise; figures per source")  # fmt: skip
    parser.add_argument("--no-relatives", dest="relatives", action="store_false",
                        help="the household rule off")  # fmt: skip
    args = parser.parse_args()
    global RELATIVES
    RELATIVES = args.relatives
    sys.path.insert(0, str(ROOT / "bench"))
    factors = [float(x) for x in args.factors.split(",")]
    print(f"{'source' if args.global_noise else 'family':<12} {'x default':>9} {'precision':>9} "
          f"{'recall':>7} {'review':>7} {'wrong':>5}", flush=True)  # fmt: skip
    if args.global_noise:
        global_grid(args, factors)
        return 0
    for family in args.families.split(","):
        for factor in factors:
            name = "defaults" if factor == 1 else f"{family}_x{factor:g}"
            cell = args.out / f"p{args.people}_s{args.seed}" / name
            generate(cell, args.people, args.seed, noise_config(family, factor))
            print_line(family, factor, figures(measure_cell(cell)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
