"""Orchestration: population -> counts -> chunks of households -> rows -> files."""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from . import events, population
from .config import Rates
from .contract import SOURCES
from .output import Outputs
from .sources.bhxh import bhxh_rows, employer_tables
from .sources.f0 import f0_rows
from .sources.register import register_rows
from .sources.tiem_chung import tiem_chung_rows, vaccination_sites, vaccine_spellings
from .util import day, hashed, rng_for, salt


def _log(quiet: bool, msg: str, t0: float) -> None:
    if not quiet:
        print(f"[{time.time() - t0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def run(
    people: int,
    seed: int,
    out: Path,
    noise: float | None = None,
    noise_config: str | None = None,
    formats=("csv",),
    doses_per_person: float = 1.63,
    f0_per_person: float = 0.125,
    bhxh_per_person: float = 0.875,
    province: str = "01",
    snapshot: str = "2025-06-30",
    extract_date: str = "2025-08-15",
    chunk_people: int = 400_000,
    xlsx_max_rows: int | None = None,
    quiet: bool = False,
) -> dict:
    t0 = time.time()
    rates = Rates.from_yaml(noise_config, noise)
    out = Path(out)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    extract_day = day(extract_date)
    P = population.build(people, seed, snapshot, province)
    _log(quiet, f"population: {P.n_res} residents + {P.n - P.n_res} visitors", t0)
    rng = rng_for(seed, "counts")
    vs = rates.realism["visitor_row_share"]
    dose_n = events.dose_counts(P, rng, doses_per_person * people, vs["tiem_chung"])
    f0_n, covid_death = events.f0_counts(P, rng, f0_per_person * people, vs["f0"])
    bx_n, bx_cat = events.bhxh_counts(P, rng, bhxh_per_person * people, vs["bhxh"])
    n_emp = max(50, people // 40)
    emp_codes, emp_names = employer_tables(P, n_emp, seed)
    sites = vaccination_sites(P.admin)
    spell = vaccine_spellings()
    _log(
        quiet,
        f"counts: doses {int(dose_n.sum())}, f0 {int(f0_n.sum())}, bhxh {int(bx_n.sum())}",
        t0,
    )

    outputs = Outputs(out, seed, rates.noise, formats, xlsx_max_rows)
    serial = dict.fromkeys(SOURCES, 0)
    K = max(1, math.ceil(P.n / chunk_people))
    hh_chunk = (
        hashed(np.arange(len(P.hh_size), dtype=np.uint64), salt(seed, "chunk")) % np.uint64(K)
    ).astype(np.int64)
    pc = hh_chunk[P.hh]
    order = np.argsort(pc, kind="stable")
    bounds = np.searchsorted(pc[order], np.arange(K + 1))
    for c in range(K):
        persons = order[bounds[c] : bounds[c + 1]]
        res = persons[P.in_reg[persons]]
        outputs.register(*register_rows(P, res, seed))
        crng = rng_for(seed, "chunk-events", c)
        for s in SOURCES:
            if s == "tiem_chung":
                ev = events.vaccination(P, persons, dose_n, crng)
                rows = tiem_chung_rows(P, ev, serial[s], rates, seed, extract_day, spell, sites)
            elif s == "f0":
                ev = events.f0_episodes(P, persons, f0_n, covid_death, crng)
                rows = f0_rows(P, ev, serial[s], rates, seed, extract_day)
            else:
                ev = events.bhxh_periods(P, persons, bx_n, bx_cat, crng, extract_day, n_emp)
                rows = bhxh_rows(P, ev, serial[s], rates, seed, extract_day, emp_codes, emp_names)
            serial[s] += len(rows.person)
            outputs.extract(s, rows)
        _log(
            quiet,
            f"chunk {c + 1}/{K}: " + ", ".join(f"{s} {outputs.stats[s]['rows']}" for s in SOURCES),
            t0,
        )

    manifest_sources, truth = outputs.close()
    manifest = {
        "generator": "independent",
        "generator_version": "1.0",
        "seed": seed,
        "people": people,
        "visitors_pool": int(P.n - P.n_res),
        "noise": rates.noise,
        "rates": rates.table(),
        "extract_date": extract_date,
        "register_snapshot_date": snapshot,
        "province": province,
        "sources": manifest_sources,
        "truth": truth,
        "elapsed_seconds": round(time.time() - t0, 1),
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    _log(quiet, f"done: {out}", t0)
    return manifest
