"""Noise kinds, their default rates and where their randomness lives, read from
data/noise_kinds.csv and data/noise_defaults.yaml; a --noise-config file overrides them.

A rate is the expected share of rows of a source that get the kind (for kinds with an
eligibility condition: the share of *eligible* rows). Each kind's randomness is split over
three levels:
  p = profile: the person's record in that source system (created once, reused for every
      dose/episode/period), so the same error repeats on all of a person's rows;
  b = batch: the site / reporting unit / employer that typed or exported the rows
      (formats, abbreviations, encodings come in batches);
  r = row: independent per row.
Effective rate = min(0.95, noise x (source override, else base rate x source scale)).
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from .contract import SOURCES
from .own_lists import DATA, read_table

CAP = 0.95


@dataclass(frozen=True)
class Kind:
    name: str
    rate: float
    levels: tuple[float, float, float]  # share of p, b, r
    why: str
    sources: tuple[str, ...]  # the extracts it applies to


KINDS: list[Kind] = [
    Kind(
        r["kind"],
        float(r["rate"]),
        (float(r["level_p"]), float(r["level_b"]), float(r["level_r"])),
        r["why"],
        tuple(r["sources"].split()),
    )
    for r in read_table("noise_kinds.csv")
]
KIND_BY_NAME = {k.name: k for k in KINDS}

with open(DATA / "noise_defaults.yaml", encoding="utf-8") as _fh:
    DEFAULTS = yaml.safe_load(_fh)
# multipliers for groups of people (minors: < 18 at the event; elderly: >= 70)
BOOST_MINOR: dict[str, float] = DEFAULTS["boost_minor"]
BOOST_ELDERLY: dict[str, float] = DEFAULTS["boost_elderly"]


class Rates:
    def __init__(self, noise: float = 1.0, overrides: dict | None = None):
        self.noise = float(noise)
        self.base = {k.name: k.rate for k in KINDS}
        self.levels = {k.name: k.levels for k in KINDS}
        self.scale = dict(DEFAULTS["source_scale"])
        self.src_override = {s: dict(v) for s, v in DEFAULTS["source_rates"].items()}
        self.realism = {
            k: (dict(v) if isinstance(v, dict) else v) for k, v in DEFAULTS["realism"].items()
        }
        if overrides:
            self._apply(overrides)

    def _apply(self, cfg: dict) -> None:
        if "noise" in cfg and cfg["noise"] is not None:
            self.noise = float(cfg["noise"])
        for name, v in (cfg.get("rates") or {}).items():
            if name not in self.base:
                raise SystemExit(f"unknown noise kind in config: {name}")
            self.base[name] = float(v)
        for name, v in (cfg.get("levels") or {}).items():
            self.levels[name] = tuple(float(x) for x in v)
        for src, v in (cfg.get("source_scale") or {}).items():
            self.scale[src] = float(v)
        for src, d in (cfg.get("source_rates") or {}).items():
            for name, v in d.items():
                if name not in self.base:
                    raise SystemExit(f"unknown noise kind in config: {name}")
                self.src_override.setdefault(src, {})[name] = float(v)
        for name, v in (cfg.get("realism") or {}).items():
            self.realism[name] = v

    @classmethod
    def from_yaml(cls, path: str | None, noise: float | None) -> Rates:
        cfg = {}
        if path:
            with open(path, encoding="utf-8") as fh:
                cfg = yaml.safe_load(fh) or {}
        r = cls(1.0, cfg)
        if noise is not None:
            r.noise = float(noise)
        return r

    def rate(self, source: str, name: str) -> float:
        k = KIND_BY_NAME[name]
        if source not in k.sources:
            return 0.0
        o = self.src_override.get(source, {})
        r = o[name] if name in o else self.base[name] * self.scale.get(source, 1.0)
        return min(CAP, r * self.noise)

    def table(self) -> dict:
        return {
            src: {k.name: round(self.rate(src, k.name), 6) for k in KINDS if src in k.sources}
            for src in SOURCES
        }


def kinds_markdown(rates: Rates | None = None) -> str:
    rates = rates or Rates()
    lines = [
        "| kind | tiem_chung | f0 | bhxh | levels p/b/r | why real data has it |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for k in KINDS:
        vals = [f"{rates.rate(s, k.name):.4g}" if s in k.sources else "-" for s in SOURCES]
        lv = "/".join(f"{x:g}" for x in k.levels)
        lines.append(f"| `{k.name}` | {' | '.join(vals)} | {lv} | {k.why} |")
    return "\n".join(lines)
