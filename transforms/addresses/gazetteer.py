"""The administrative reference as lookups: unit names folded to keys, indexed by parent, for each
scheme (``2008``: provinces, districts, wards; ``2025``: provinces and communes), with the
aliases of ``popsync/reference/admin_aliases.csv``."""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache

from popsync.core import domain
from transforms.text import fold_text

CODE_WIDTH = {"province": 2, "district": 3, "ward": 5}
FUZZY_MIN_SIMILARITY = 0.85  # normalized Levenshtein: one edit in a 7-letter key at most
FUZZY_MIN_LENGTH = 6
MAX_BARE_TOKENS = 6

# Unit prefixes as folded tokens -> (division type, abbreviated).
PREFIXES: dict[tuple[str, ...], tuple[str, bool]] = {
    ("thanh", "pho"): ("thành phố", False),
    ("tp",): ("thành phố", True),
    ("tinh",): ("tỉnh", False),
    ("t",): ("tỉnh", True),
    ("quan",): ("quận", False),
    ("q",): ("quận", True),
    ("huyen",): ("huyện", False),
    ("h",): ("huyện", True),
    ("thi", "xa"): ("thị xã", False),
    ("tx",): ("thị xã", True),
    ("phuong",): ("phường", False),
    ("p",): ("phường", True),
    ("xa",): ("xã", False),
    ("x",): ("xã", True),
    ("thi", "tran"): ("thị trấn", False),
    ("tt",): ("thị trấn", True),
    ("dac", "khu"): ("đặc khu", False),
}
LEVEL_TYPES = {
    "province": frozenset({"thành phố", "tỉnh"}),
    "district": frozenset({"thành phố", "quận", "huyện", "thị xã"}),
    "ward": frozenset({"phường", "xã", "thị trấn", "đặc khu"}),
}
COUNTRY_TAILS = (("viet", "nam"), ("vietnam",), ("vn",))

HARD_SEP_RE = re.compile(r"[,;|()\n]")
_TOKEN_RE = re.compile(r"[a-z0-9]+|-")
_DOTTED_PREFIX_RE = re.compile(r"\bt\s*\.\s*([pxt])\b")  # T.P -> tp, T.X -> tx, T.T -> tt
_NUMBERED_RE = re.compile(r"\b(q|p|quan|phuong)(\d+)\b")  # Q1 -> q 1, P12 -> p 12
_APOSTROPHES_RE = re.compile(r"['’`]")


# --- tokens and keys -------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """Folded tokens of one comma-delimited part of an address."""

    tok: tuple[str, ...]
    soft: frozenset[int]  # token positions right after a hyphen ("Văn Miếu - Quốc Tử Giám")


@lru_cache(maxsize=1 << 18)
def segment(raw: str) -> Segment:
    """Cached: the parts of addresses ("Phường Phúc Xá", "Quận Ba Đình") repeat a lot."""
    folded = fold_text(raw)
    # the first two rewrites only where their text can occur (most parts have neither)
    if "'" in folded or "’" in folded or "`" in folded:
        folded = _APOSTROPHES_RE.sub("", folded)
    if "." in folded:
        folded = _DOTTED_PREFIX_RE.sub(r"t\1", folded)
    folded = _NUMBERED_RE.sub(r"\1 \2", folded)
    tok: list[str] = []
    soft: set[int] = set()
    for piece in _TOKEN_RE.findall(folded):
        if piece == "-":
            soft.add(len(tok))
        else:
            tok.append(str(int(piece)) if piece.isdigit() else piece)  # "Phường 01" == "Phường 1"
    return Segment(tuple(tok), frozenset(soft))


def prefix_at(tok: tuple[str, ...], i: int, end: int) -> tuple[int, str, bool] | None:
    """(length, division type, abbreviated) of a unit prefix at ``i`` followed by a name before ``end``."""
    for size in (2, 1):
        found = PREFIXES.get(tok[i : i + size])
        if found and i + size < end:
            return size, found[0], found[1]
    return None


def name_key(level: str, name: str) -> str:
    tok = segment(name).tok
    prefix = prefix_at(tok, 0, len(tok))
    if prefix and prefix[1] in LEVEL_TYPES[level]:
        tok = tok[prefix[0] :]
    return "".join(tok)


# --- the reference as lookups ----------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    code: str
    dtype: str
    kind: str  # "" for the reference name, else the alias kind (abbreviation, old_name)


@dataclass
class Index:
    levels: tuple[str, ...]
    level_of: dict[str, str] = field(default_factory=dict)
    dtype: dict[str, str] = field(default_factory=dict)
    parent: dict[str, str] = field(default_factory=dict)
    # per level: (scope, key) -> entries; scope is "" (country), the parent code or, for 2008
    # wards, also the province code (codes of different levels differ in width).
    exact: dict[str, dict[tuple[str, str], list[Entry]]] = field(default_factory=dict)
    # per level: scope -> key -> entries, for fuzzy matching inside a parent
    children: dict[str, dict[str, dict[str, list[Entry]]]] = field(default_factory=dict)
    # per (level, scope, key): the codes of its entries (a country-wide key such as "1", of
    # every "Phường 1", has hundreds: no scan of them per added entry)
    _codes: dict[tuple[str, str, str], set[str]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def has_districts(self) -> bool:
        return "district" in self.levels

    def add(self, level: str, key: str, entry: Entry, parent: str) -> None:
        exact, children = self.exact[level], self.children[level]
        grandparent = self.parent.get(parent) if parent else None
        scopes = ("", parent, grandparent) if grandparent else ("", parent) if parent else ("",)
        for scope in scopes:
            entries = exact.get((scope, key))
            if entries is None:
                entries = exact[scope, key] = [entry]
                self._codes[level, scope, key] = {entry.code}
            elif entry.code not in (codes := self._codes[level, scope, key]):
                entries.append(entry)
                codes.add(entry.code)
            keys = children.get(scope)
            if keys is None:
                keys = children[scope] = {}
            keys[key] = entries


@cache
def scheme_index(scheme: str) -> Index:
    """The lookups of ``scheme``, built once per process. The build makes tens of thousands of
    lists, sets and entries and no garbage: the cyclic collector, which would walk the
    growing heap again and again meanwhile (over half the build's time), is paused."""
    paused = gc.isenabled()
    gc.disable()
    try:
        return _build_index(scheme)
    finally:
        if paused:
            gc.enable()


def _build_index(scheme: str) -> Index:
    rows = domain.admin_units(scheme)
    levels = tuple(dict.fromkeys(row["level"] for row in rows))
    ix = Index(levels)
    ix.exact = {level: {} for level in levels}
    ix.children = {level: {} for level in levels}
    for row in rows:  # parents precede children in the file, but do not rely on it
        ix.level_of[row["code"]] = row["level"]
        ix.dtype[row["code"]] = row["division_type"]
        if row["parent_code"]:
            ix.parent[row["code"]] = row["parent_code"]
    for row in rows:
        key = name_key(row["level"], row["name"])
        ix.add(row["level"], key, Entry(row["code"], row["division_type"], ""), row["parent_code"])
    # Aliases never shadow a reference name in the same parent.
    for row in domain.admin_aliases():
        if scheme not in row["schemes"].split("|"):
            continue
        level, code = row["level"], row["code"]
        key = name_key(level, row["alias"])
        if (row["parent_code"], key) in ix.exact[level]:
            continue
        ix.add(level, key, Entry(code, ix.dtype[code], row["kind"]), row["parent_code"])
    return ix
