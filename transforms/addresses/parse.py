"""Reading one address: a free text parsed from its end, or unit names in separate columns,
resolved top-down against the gazetteer (a district only inside its province, a ward only inside
its district), conservatively: a typo is tolerated only through a unique, close fuzzy match
inside an already-resolved parent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from transforms.addresses.gazetteer import (
    COUNTRY_TAILS,
    FUZZY_MIN_LENGTH,
    FUZZY_MIN_SIMILARITY,
    HARD_SEP_RE,
    LEVEL_TYPES,
    MAX_BARE_TOKENS,
    Entry,
    Index,
    Segment,
    prefix_at,
    scheme_index,
    segment,
)

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


def _pick(level: str, entries: list[Entry], span: _Span, extra: tuple[str, ...] = ()) -> _Hit:
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
    ix: Index, level: str, spans: Sequence[_Span], scope: str, fuzzy_all: bool, fuzzy: bool = True
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
            if not (span.prefixed or fuzzy_all) or len(span.key) < FUZZY_MIN_LENGTH:
                continue
            if any(ch.isdigit() for ch in span.key):
                continue
            best = process.extract(
                span.key,
                list(children),
                scorer=Levenshtein.normalized_similarity,
                limit=2,
                score_cutoff=FUZZY_MIN_SIMILARITY,
            )
            if best and (len(best) == 1 or best[0][1] > best[1][1]):
                hit = _pick(level, children[best[0][0]], span, (f"{level}:typo",))
                if hit.code:
                    return hit
    return _UNKNOWN


# --- span sources: free text and separate name columns ---------------------------------------


@lru_cache(maxsize=1 << 18)
def _segment_spans(seg: Segment, end: int, level: str) -> tuple[_Span, ...]:
    """Candidate spans for a unit of ``level`` ending at ``end``, most plausible first.

    The whole segment, then from each hyphen or each prefix of the level (missing commas),
    longest first; for the province also any bare trailing words ("... Dong Anh Ha Noi").
    """
    tok = seg.tok
    types = LEVEL_TYPES[level]
    out: list[_Span] = []
    tried: set[int] = set()
    for s in range(end):
        prefix = prefix_at(tok, s, end)
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
        for s in range(max(0, end - MAX_BARE_TOKENS), end):
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
        self.seg = segment(raws[-1])
        self.end = len(self.seg.tok) if end is None else end  # token position in self.seg

    def spans(self, level: str) -> tuple[_Span, ...]:
        while self.end == 0 and self.si > 0:
            self.si -= 1
            self.seg = segment(self.raws[self.si])
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
        self.consume(_resolve(scheme_index("2008"), "district", spans, "", False))


@lru_cache(maxsize=1 << 16)
def _name_spans(level: str, value: str) -> tuple[_Span, ...]:
    """A unit name's spans: with its prefix of the level removed, then whole (cached: an
    extract's province and district columns hold few distinct names)."""
    tok = segment(HARD_SEP_RE.sub(" ", value)).tok
    out = []
    prefix = prefix_at(tok, 0, len(tok))
    if prefix and prefix[1] in LEVEL_TYPES[level]:
        size, ptype, abbreviated = prefix
        out.append(_Span(0, "".join(tok[size:]), ptype, abbreviated, True))
    if tok:
        out.append(_Span(0, "".join(tok), None, False, False))
    return tuple(out)


class _NameSource:
    """Each level's name from its own column: the whole value is the span."""

    fuzzy_all = True

    def __init__(self, names: dict[str, str | None], guess: bool = True) -> None:
        self.names = names
        self.guess = guess

    def spans(self, level: str) -> tuple[_Span, ...]:
        value = self.names.get(level)
        return _name_spans(level, value) if value else ()

    def consume(self, hit: _Hit) -> None:
        pass

    def skip_district(self) -> None:
        pass


# --- a whole address -------------------------------------------------------------------------

Result = tuple[str | None, str | None, str | None, str, str]


def finish(
    ix: Index, codes: dict[str, str | None], status: dict[str, str], repairs: list[str]
) -> Result:
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


def _chain(ix: Index, src: _TextSource | _NameSource) -> tuple[Result, bool, bool]:
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
    return finish(ix, codes, status, repairs), any(codes.values()), confirmed


def _names_provincial_city(ix: Index, prov: _Hit) -> bool:
    return (
        prov.code is not None
        and prov.span is not None
        and prov.span.ptype == "thành phố"
        and ix.dtype[prov.code] == "tỉnh"
    )


def parse_text(scheme: str, text: str) -> Result:
    ix = scheme_index(scheme)
    raws = [raw for raw in HARD_SEP_RE.split(text) if raw.strip()]
    if not raws:
        return finish(ix, dict.fromkeys(ix.levels), {}, [])
    last = segment(raws[-1]).tok
    end = len(last)
    for tail in COUNTRY_TAILS:
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
        result = (*result[:4], join_codes(result[4], "address:no_diacritics"))
    return result


def parse_names(
    scheme: str, province: str | None, district: str | None, ward: str | None
) -> Result:
    ix = scheme_index(scheme)
    names = {"province": province, "district": district, "ward": ward}
    result, resolved, confirmed = _chain(ix, _NameSource(names))
    if not confirmed:
        result, resolved, _ = _chain(ix, _NameSource(names, guess=False))
    given = "".join(v for v in names.values() if v)
    if resolved and given.isascii() and any(ch.isalpha() for ch in given):
        result = (*result[:4], join_codes(result[4], "address:no_diacritics"))
    if not ix.has_districts and district:
        result = (*result[:3], join_codes(result[3], "district:not_in_scheme"), result[4])
    return result


def join_codes(existing: str, *codes: str) -> str:
    return ";".join([c for c in (existing, *codes) if c])
