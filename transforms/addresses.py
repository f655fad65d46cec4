"""Administrative address standardization: GSO codes, unit names or free text -> codes of one scheme.

Three inputs, by precedence per row: register codes (validated and padded), unit names in
separate columns (``tiem_chung``), or a free-text address parsed from its end (``f0``, ``bhxh``).
Every distinct input is resolved once and mapped back to the rows.

Resolution is top-down and conservative: a district is looked up only inside the resolved
province and a ward only inside the resolved district (or, when the district is unknown, among
the wards of the province, or of the country, where its name is unique). Names are compared by a
folded key (no diacritics, case, spaces or punctuation); a typo is tolerated only through a
unique, close fuzzy match inside an already-resolved parent, reported as ``<level>:typo``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from popsync.core import domain
from transforms.text import fold_text

OUTPUT_COLUMNS = (
    "address",
    "province_code",
    "district_code",
    "ward_code",
    "admin_scheme",
    "flags",
    "repairs",
)
_CODE_WIDTH = {"province": 2, "district": 3, "ward": 5}
_FUZZY_MIN_SIMILARITY = 0.85  # normalized Levenshtein: one edit in a 7-letter key at most
_FUZZY_MIN_LENGTH = 6
_MAX_BARE_TOKENS = 6

# Unit prefixes as folded tokens -> (division type, abbreviated).
_PREFIXES: dict[tuple[str, ...], tuple[str, bool]] = {
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
_LEVEL_TYPES = {
    "province": frozenset({"thành phố", "tỉnh"}),
    "district": frozenset({"thành phố", "quận", "huyện", "thị xã"}),
    "ward": frozenset({"phường", "xã", "thị trấn", "đặc khu"}),
}
_COUNTRY_TAILS = (("viet", "nam"), ("vietnam",), ("vn",))

_HARD_SEP_RE = re.compile(r"[,;|()\n]")
_TOKEN_RE = re.compile(r"[a-z0-9]+|-")
_DOTTED_PREFIX_RE = re.compile(r"\bt\s*\.\s*([pxt])\b")  # T.P -> tp, T.X -> tx, T.T -> tt
_NUMBERED_RE = re.compile(r"\b(q|p|quan|phuong)(\d+)\b")  # Q1 -> q 1, P12 -> p 12
_APOSTROPHES_RE = re.compile(r"['’`]")


# --- tokens and keys -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Segment:
    """Folded tokens of one comma-delimited part of an address."""

    tok: tuple[str, ...]
    soft: frozenset[int]  # token positions right after a hyphen ("Văn Miếu - Quốc Tử Giám")


@lru_cache(maxsize=1 << 18)
def _segment(raw: str) -> _Segment:
    """Cached: the parts of addresses ("Phường Phúc Xá", "Quận Ba Đình") repeat a lot."""
    folded = _APOSTROPHES_RE.sub("", fold_text(raw))
    folded = _NUMBERED_RE.sub(r"\1 \2", _DOTTED_PREFIX_RE.sub(r"t\1", folded))
    tok: list[str] = []
    soft: set[int] = set()
    for piece in _TOKEN_RE.findall(folded):
        if piece == "-":
            soft.add(len(tok))
        else:
            tok.append(str(int(piece)) if piece.isdigit() else piece)  # "Phường 01" == "Phường 1"
    return _Segment(tuple(tok), frozenset(soft))


def _prefix_at(tok: tuple[str, ...], i: int, end: int) -> tuple[int, str, bool] | None:
    """(length, division type, abbreviated) of a unit prefix at ``i`` followed by a name before ``end``."""
    for size in (2, 1):
        found = _PREFIXES.get(tok[i : i + size])
        if found and i + size < end:
            return size, found[0], found[1]
    return None


def _name_key(level: str, name: str) -> str:
    tok = _segment(name).tok
    prefix = _prefix_at(tok, 0, len(tok))
    if prefix and prefix[1] in _LEVEL_TYPES[level]:
        tok = tok[prefix[0] :]
    return "".join(tok)


# --- the reference as lookups ----------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    code: str
    dtype: str
    kind: str  # "" for the reference name, else the alias kind (abbreviation, old_name)


@dataclass
class _Index:
    levels: tuple[str, ...]
    level_of: dict[str, str] = field(default_factory=dict)
    dtype: dict[str, str] = field(default_factory=dict)
    parent: dict[str, str] = field(default_factory=dict)
    # per level: (scope, key) -> entries; scope is "" (country), the parent code or, for 2008
    # wards, also the province code (codes of different levels differ in width).
    exact: dict[str, dict[tuple[str, str], list[_Entry]]] = field(default_factory=dict)
    # per level: scope -> key -> entries, for fuzzy matching inside a parent
    children: dict[str, dict[str, dict[str, list[_Entry]]]] = field(default_factory=dict)

    @property
    def has_districts(self) -> bool:
        return "district" in self.levels

    def add(self, level: str, key: str, entry: _Entry, parent: str) -> None:
        scopes = [""]
        if parent:
            scopes.append(parent)
            grandparent = self.parent.get(parent)
            if grandparent:
                scopes.append(grandparent)
        for scope in scopes:
            entries = self.exact[level].setdefault((scope, key), [])
            if all(e.code != entry.code for e in entries):
                entries.append(entry)
            self.children[level].setdefault(scope, {})[key] = entries


@cache
def _index(scheme: str) -> _Index:
    rows = domain.admin_units(scheme)
    levels = tuple(dict.fromkeys(row["level"] for row in rows))
    ix = _Index(levels)
    ix.exact = {level: {} for level in levels}
    ix.children = {level: {} for level in levels}
    for row in rows:  # parents precede children in the file, but do not rely on it
        ix.level_of[row["code"]] = row["level"]
        ix.dtype[row["code"]] = row["division_type"]
        if row["parent_code"]:
            ix.parent[row["code"]] = row["parent_code"]
    for row in rows:
        key = _name_key(row["level"], row["name"])
        ix.add(row["level"], key, _Entry(row["code"], row["division_type"], ""), row["parent_code"])
    # Aliases never shadow a reference name in the same parent.
    for row in domain.admin_aliases():
        if scheme not in row["schemes"].split("|"):
            continue
        level, code = row["level"], row["code"]
        key = _name_key(level, row["alias"])
        if (row["parent_code"], key) in ix.exact[level]:
            continue
        ix.add(level, key, _Entry(code, ix.dtype[code], row["kind"]), row["parent_code"])
    return ix


# --- resolving one level ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Span:
    start: int
    key: str
    ptype: str | None  # division type named by the prefix, if any
    abbreviated: bool
    prefixed: bool
    inner: bool = False  # starts inside a segment, neither at a comma nor a hyphen
    loose: bool = False  # a bare province inside a segment ("... Dong Anh Ha Noi")


@dataclass(frozen=True)
class _Hit:
    code: str | None
    status: str  # ok, ambiguous, mismatch, unknown, absent
    span: _Span | None = None
    candidates: tuple[str, ...] = ()
    repairs: tuple[str, ...] = ()


_ABSENT = _Hit(None, "absent")
_UNKNOWN = _Hit(None, "unknown")


def _pick(level: str, entries: list[_Entry], span: _Span, extra: tuple[str, ...] = ()) -> _Hit:
    if len(entries) > 1 and span.ptype:
        typed = [e for e in entries if e.dtype == span.ptype]
        entries = typed or entries
    if len(entries) > 1:
        return _Hit(None, "ambiguous", span, tuple(e.code for e in entries))
    entry = entries[0]
    repairs = list(extra)
    if span.abbreviated or entry.kind == "abbreviation":
        repairs.append("address:abbreviation")
    if entry.kind == "old_name":
        repairs.append(f"{level}:old_name")
    return _Hit(entry.code, "ok", span, (entry.code,), tuple(repairs))


def _resolve(
    ix: _Index, level: str, spans: Sequence[_Span], scope: str, fuzzy_all: bool, fuzzy: bool = True
) -> _Hit:
    """First span (most plausible first) whose key names a unit of ``level`` inside ``scope``."""
    if not spans:
        return _ABSENT
    table = ix.exact[level]
    elsewhere = None
    for span in spans:
        entries = table.get((scope, span.key))
        if entries:
            return _pick(level, entries, span)
        if scope and elsewhere is None and ("", span.key) in table:
            elsewhere = span
    if elsewhere is not None:
        return _Hit(None, "mismatch", elsewhere)
    depth = ix.levels.index(level)
    direct_parent = ix.level_of.get(scope) == ix.levels[depth - 1] if depth else scope == ""
    if fuzzy and direct_parent:  # never among all wards of a province or of the country
        children = ix.children[level].get(scope, {})
        for span in spans:
            if not (span.prefixed or fuzzy_all) or len(span.key) < _FUZZY_MIN_LENGTH:
                continue
            if any(ch.isdigit() for ch in span.key):
                continue
            best = process.extract(
                span.key,
                list(children),
                scorer=Levenshtein.normalized_similarity,
                limit=2,
                score_cutoff=_FUZZY_MIN_SIMILARITY,
            )
            if best and (len(best) == 1 or best[0][1] > best[1][1]):
                hit = _pick(level, children[best[0][0]], span, (f"{level}:typo",))
                if hit.code:
                    return hit
    return _UNKNOWN


# --- span sources: free text and separate name columns ---------------------------------------


@lru_cache(maxsize=1 << 18)
def _segment_spans(seg: _Segment, end: int, level: str) -> tuple[_Span, ...]:
    """Candidate spans for a unit of ``level`` ending at ``end``, most plausible first.

    The whole segment, then from each hyphen or each prefix of the level (missing commas),
    longest first; for the province also any bare trailing words ("... Dong Anh Ha Noi").
    """
    tok = seg.tok
    types = _LEVEL_TYPES[level]
    out: list[_Span] = []
    tried: set[int] = set()
    for s in range(end):
        prefix = _prefix_at(tok, s, end)
        if prefix and prefix[1] in types:
            size, ptype, abbreviated = prefix
            inner = s > 0 and s not in seg.soft
            out.append(_Span(s, "".join(tok[s + size : end]), ptype, abbreviated, True, inner))
            tried.add(s)
        if s == 0 or s in seg.soft:
            key = "".join(tok[s:end])
            if not key.isdigit():  # a bare number is a house number, not "Phường 12"
                out.append(_Span(s, key, None, False, False))
            tried.add(s)
    if level == "province":
        for s in range(max(0, end - _MAX_BARE_TOKENS), end):
            key = "".join(tok[s:end])
            if s not in tried and not key.isdigit():
                out.append(_Span(s, key, None, False, False, inner=True, loose=True))
    return tuple(out)


class _TextSource:
    """Spans ending where the previous (higher) level started, read from the end of the text."""

    fuzzy_all = False

    def __init__(self, raws: list[str], end: int | None = None, guess: bool = True) -> None:
        self.raws = raws  # comma-delimited parts, tokenized only when reached
        self.guess = guess
        self.si = len(raws) - 1
        self.seg = _segment(raws[-1])
        self.end = len(self.seg.tok) if end is None else end  # token position in self.seg

    def spans(self, level: str) -> tuple[_Span, ...]:
        while self.end == 0 and self.si > 0:
            self.si -= 1
            self.seg = _segment(self.raws[self.si])
            self.end = len(self.seg.tok)
        if self.end == 0:
            return ()
        spans = _segment_spans(self.seg, self.end, level)
        return spans if self.guess else tuple(s for s in spans if not s.loose)

    def consume(self, hit: _Hit) -> None:
        if hit.span is not None:
            self.end = hit.span.start

    def skip_district(self) -> None:
        """Step over a district the scheme cannot resolve, so that the ward before it is read.

        A prefixed segment ("huyện Từ Liêm", split in 2013) or, without a comma, a prefixed
        pre-2025 district name ("Quận Hoàn Kiếm" in a 2025 address).
        """
        spans = [s for s in self.spans("district") if s.prefixed]
        if not spans:
            return
        if spans[0].start == 0 or spans[0].start in self.seg.soft:
            self.end = spans[0].start
            return
        self.consume(_resolve(_index("2008"), "district", spans, "", False))


class _NameSource:
    """Each level's name from its own column: the whole value is the span."""

    fuzzy_all = True

    def __init__(self, names: dict[str, str | None], guess: bool = True) -> None:
        self.names = names
        self.guess = guess

    def spans(self, level: str) -> list[_Span]:
        value = self.names.get(level)
        if not value:
            return []
        tok = _segment(_HARD_SEP_RE.sub(" ", value)).tok
        out = []
        prefix = _prefix_at(tok, 0, len(tok))
        if prefix and prefix[1] in _LEVEL_TYPES[level]:
            size, ptype, abbreviated = prefix
            out.append(_Span(0, "".join(tok[size:]), ptype, abbreviated, True))
        if tok:
            out.append(_Span(0, "".join(tok), None, False, False))
        return out

    def consume(self, hit: _Hit) -> None:
        pass

    def skip_district(self) -> None:
        pass


# --- a whole address -------------------------------------------------------------------------

_Result = tuple[str | None, str | None, str | None, str, str]


def _finish(
    ix: _Index, codes: dict[str, str | None], status: dict[str, str], repairs: list[str]
) -> _Result:
    """Fill parents from a resolved child, then flag each level left without a code."""
    levels = ix.levels
    for child, parent in zip(levels[::-1], levels[-2::-1], strict=False):
        if codes[child] and not codes[parent]:
            codes[parent] = ix.parent[codes[child]]
            repairs.append(f"{parent}:inferred")
    flags = [
        f"{level}:{'unknown' if status.get(level, 'absent') == 'absent' else status[level]}"
        for level in levels
        if not codes[level]
    ]
    return (
        codes["province"],
        codes.get("district"),
        codes["ward"],
        ";".join(flags),
        ";".join(dict.fromkeys(repairs)),
    )


def _chain(ix: _Index, src: _TextSource | _NameSource) -> tuple[_Result, bool, bool]:
    """Resolve province, district, ward in turn.

    Also tells whether anything resolved, and whether a guessed province was confirmed by the
    next level found inside it. Guesses (only when ``src.guess``) are a province read from bare
    words inside a segment ("... huyen Dong Anh Ha Noi"), which may end another name ("Huyện
    Đức Huệ" is not in Huế), and a province matched despite a typo ("Phúc Yên" is not "Phú Yên").
    """
    repairs: list[str] = []
    status: dict[str, str] = {}
    codes: dict[str, str | None] = dict.fromkeys(ix.levels)

    def take(level: str, hit: _Hit) -> None:
        codes[level] = hit.code
        status[level] = hit.status
        repairs.extend(hit.repairs)

    prov = _resolve(ix, "province", src.spans("province"), "", src.fuzzy_all, fuzzy=src.guess)
    src.consume(prov)
    take("province", prov)

    district = None
    if ix.has_districts:
        district = _resolve(ix, "district", src.spans("district"), prov.code or "", src.fuzzy_all)
        src.consume(district)
        if district.status in ("unknown", "absent") and _names_provincial_city(ix, prov):
            # "TP Bắc Ninh" alone names the provincial city (a district), not only the province
            district = _resolve(ix, "district", [prov.span], prov.code, False)
        take("district", district)
    if district is None or district.status in ("unknown", "absent"):
        src.skip_district()

    ward = _Hit(None, "unknown")
    if district is not None and district.status == "ambiguous":
        # the ward may tell which of the districts is meant
        spans = src.spans("ward")
        hits = [_resolve(ix, "ward", spans, c, src.fuzzy_all) for c in district.candidates]
        found = [hit for hit in hits if hit.code]
        if len(found) == 1:
            ward = found[0]
            take("district", _Hit(ix.parent[ward.code], "ok"))
        elif found or any(hit.status == "ambiguous" for hit in hits):
            ward = _Hit(None, "ambiguous")
    elif district is None or district.status != "mismatch":  # else any ward would be a guess
        scope = codes.get("district") or codes["province"] or ""
        spans = src.spans("ward")
        if not scope:  # a ward alone must at least start its own part of the text
            spans = tuple(span for span in spans if not span.inner)
        ward = _resolve(ix, "ward", spans, scope, src.fuzzy_all)
    take("ward", ward)

    below = district if district is not None else ward
    guessed = prov.span is not None and (prov.span.loose or "province:typo" in prov.repairs)
    confirmed = not guessed or below.status == "ok"
    return _finish(ix, codes, status, repairs), any(codes.values()), confirmed


def _names_provincial_city(ix: _Index, prov: _Hit) -> bool:
    return (
        prov.code is not None
        and prov.span is not None
        and prov.span.ptype == "thành phố"
        and ix.dtype[prov.code] == "tỉnh"
    )


def _parse_text(scheme: str, text: str) -> _Result:
    ix = _index(scheme)
    raws = [raw for raw in _HARD_SEP_RE.split(text) if raw.strip()]
    if not raws:
        return _finish(ix, dict.fromkeys(ix.levels), {}, [])
    last = _segment(raws[-1]).tok
    end = len(last)
    for tail in _COUNTRY_TAILS:
        if last[-len(tail) :] == tail:
            end -= len(tail)
            break
    result, resolved, confirmed = _chain(ix, _TextSource(raws, end))
    if not confirmed:
        result, resolved, _ = _chain(ix, _TextSource(raws, end, guess=False))
    if not resolved and len(raws) > 1:  # one unreadable trailing segment
        retry, resolved, _ = _chain(ix, _TextSource(raws[:-1], guess=False))
        if resolved:
            result = retry
    if resolved and text.isascii() and any(ch.isalpha() for ch in text):
        result = (*result[:4], _join(result[4], "address:no_diacritics"))
    return result


def _parse_names(
    scheme: str, province: str | None, district: str | None, ward: str | None
) -> _Result:
    ix = _index(scheme)
    names = {"province": province, "district": district, "ward": ward}
    result, resolved, confirmed = _chain(ix, _NameSource(names))
    if not confirmed:
        result, resolved, _ = _chain(ix, _NameSource(names, guess=False))
    given = "".join(v for v in names.values() if v)
    if resolved and given.isascii() and any(ch.isalpha() for ch in given):
        result = (*result[:4], _join(result[4], "address:no_diacritics"))
    if not ix.has_districts and district:
        result = (*result[:3], _join(result[3], "district:not_in_scheme"), result[4])
    return result


# --- register codes --------------------------------------------------------------------------


def _pad_code(level: str, value: str | None) -> tuple[str | None, bool]:
    """(code padded to the GSO width, whether padding was needed); a non-code is returned as is."""
    if value is None:
        return None, False
    digits = value.strip()
    if digits.endswith(".0"):  # a number that went through a float column
        digits = digits[:-2]
    width = _CODE_WIDTH[level]
    if not digits.isdigit() or len(digits.lstrip("0")) > width:
        return value, False  # kept as given so that it is flagged unknown
    padded = digits.lstrip("0").zfill(width)
    return padded, padded != digits


def _check_codes(
    scheme: str, province: str | None, district: str | None, ward: str | None
) -> _Result:
    ix = _index(scheme)
    given = {"province": province, "district": district, "ward": ward}
    codes: dict[str, str | None] = dict.fromkeys(ix.levels)
    status: dict[str, str] = {}
    repairs: list[str] = []
    extra_flags: list[str] = []
    for level, value in given.items():
        code, padded = _pad_code(level, value)
        if code is None:
            continue
        if level not in ix.levels:
            extra_flags.append(f"{level}:not_in_scheme")
        elif ix.level_of.get(code) == level:
            codes[level] = code
            if padded:
                repairs.append(f"{level}_code:leading_zero")
        else:  # flagged even where a valid child code fills it in later
            extra_flags.append(f"{level}:unknown")
    # Each code must sit inside the nearest code given above it; a child that does not is
    # dropped with its own children (which of the two is wrong cannot be told).
    levels = ix.levels
    for depth, child in enumerate(levels[1:], start=1):
        above = next((lv for lv in levels[depth - 1 :: -1] if codes[lv]), None)
        if codes[child] and above and _ancestor(ix, codes[child], above) != codes[above]:
            status[child] = "mismatch"
            for level in levels[depth:]:
                codes[level] = None
    result = _finish(ix, codes, status, repairs)
    flags = dict.fromkeys(f for f in (*extra_flags, *result[3].split(";")) if f)
    return (*result[:3], ";".join(flags), result[4])


def _ancestor(ix: _Index, code: str, level: str) -> str | None:
    while code and ix.level_of[code] != level:
        code = ix.parent.get(code)
    return code


# --- vectorized entry point ------------------------------------------------------------------


def _join(existing: str, *codes: str) -> str:
    return ";".join([c for c in (existing, *codes) if c])


def _clean(value: str) -> str | None:
    cleaned = " ".join(unicodedata.normalize("NFC", value).split())
    return cleaned or None


@dataclass(frozen=True)
class _Column:
    """A column as ids into its distinct values; -1 for null, empty or blank."""

    ids: np.ndarray
    values: list[str]

    @classmethod
    def of(cls, s: pd.Series | None, n: int) -> _Column:
        if s is None:
            return cls(np.full(n, -1, dtype=np.int64), [])
        ids, uniques = pd.factorize(s.astype("string"))
        keep = np.array([bool(u.strip()) for u in uniques], dtype=bool)
        renumber = np.append(np.where(keep, np.cumsum(keep) - 1, -1), -1)
        return cls(renumber[ids], [u for u, k in zip(uniques, keep, strict=True) if k])

    def value(self, i: int) -> str | None:
        return self.values[i] if i >= 0 else None


def _distinct(columns: list[_Column], mask: np.ndarray) -> tuple[np.ndarray, list[tuple]]:
    """Masked row -> id of its distinct combination of ``columns``, and each combination."""
    combined = np.zeros(int(mask.sum()), dtype=np.int64)
    for column in columns:
        ids = column.ids[mask] + 1
        combined, _ = pd.factorize(combined * (len(column.values) + 1) + ids)
    firsts = np.unique(combined, return_index=True)[1]
    rows = np.flatnonzero(mask)[firsts]
    per_column = [c.ids[rows].tolist() for c in columns]
    combos = [
        tuple(c.value(i) for c, i in zip(columns, row, strict=True))
        for row in zip(*per_column, strict=True)
    ]
    return combined, combos


def standardize_address(
    address: pd.Series | None = None,
    province: pd.Series | None = None,
    district: pd.Series | None = None,
    ward: pd.Series | None = None,
    province_code: pd.Series | None = None,
    district_code: pd.Series | None = None,
    ward_code: pd.Series | None = None,
    scheme: str = "2008",
) -> pd.DataFrame:
    """Administrative codes of each row in ``scheme`` (``2008`` or ``2025``), with flags and repairs.

    Per row the register codes win when any is given, then the unit names, then the free text.
    A row with none of them is flagged ``address:missing``.
    """
    given = [
        s
        for s in (address, province, district, ward, province_code, district_code, ward_code)
        if s is not None
    ]
    if not given:
        raise ValueError("standardize_address needs at least one column")
    index = given[0].index
    n = len(index)
    _index(scheme)  # unknown scheme -> ValueError before any work

    # Distinct texts are cleaned, and cleaned texts parsed, once each.
    raw = _Column.of(address, n)
    clean_ids, clean_values = pd.factorize(pd.Series([_clean(v) for v in raw.values], dtype=object))
    text_ids = np.append(clean_ids, -1)[raw.ids]  # -1: no text
    cleaned = pd.array([*clean_values, None], dtype="string").take(text_ids)

    codes_in = [_Column.of(s, n) for s in (province_code, district_code, ward_code)]
    names_in = [_Column.of(s, n) for s in (province, district, ward)]
    has_codes = np.logical_or.reduce([c.ids >= 0 for c in codes_in])
    has_names = np.logical_or.reduce([c.ids >= 0 for c in names_in]) & ~has_codes
    has_text = (text_ids >= 0) & ~has_codes & ~has_names

    # Every row points into ``results``; rows without any input keep the first one.
    results: list[_Result] = [(None, None, None, "address:missing", "")]
    row_result = np.zeros(n, dtype=np.int64)
    if has_codes.any():
        ids, combos = _distinct(codes_in, has_codes)
        row_result[has_codes] = ids + len(results)
        results.extend(_check_codes(scheme, *combo) for combo in combos)
    if has_names.any():
        ids, combos = _distinct(names_in, has_names)
        row_result[has_names] = ids + len(results)
        results.extend(_parse_names(scheme, *combo) for combo in combos)
    if has_text.any():
        used, ids = np.unique(text_ids[has_text], return_inverse=True)
        row_result[has_text] = ids + len(results)
        results.extend(_parse_text(scheme, clean_values[u]) for u in used)

    frame = pd.DataFrame({"address": cleaned}, index=index)
    for i, name in enumerate(("province_code", "district_code", "ward_code")):
        frame[name] = pd.array([r[i] for r in results], dtype="string").take(row_result)
    schemes = [scheme if r[0] or r[2] else None for r in results]
    frame["admin_scheme"] = pd.array(schemes, dtype="string").take(row_result)
    frame["flags"] = pd.array([r[3] for r in results], dtype="string").take(row_result)
    frame["repairs"] = pd.array([r[4] for r in results], dtype="string").take(row_result)
    return frame[list(OUTPUT_COLUMNS)]
