"""Recognizing a header: labels folded to keys, and the header row found among the first rows of a
sheet or CSV (title rows above it are skipped)."""

from __future__ import annotations

import re

from popsync.core.errors import UserError
from popsync.core.sources import SourceSpec
from transforms.text import fold_text

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# How many non-empty rows at the top of a sheet or CSV may be titles above the header.
HEADER_SCAN = 20


class ReadError(UserError):
    """A source file that cannot be read; the message names the file and the reason."""


def header_key(label: str) -> str:
    """Folded form of a header used for matching: ``" Họ  và Tên "`` -> ``"ho va ten"``."""
    return " ".join(_NON_ALNUM.sub(" ", fold_text(str(label))).split())


def label_keys(cfg: SourceSpec) -> frozenset[str]:
    """Folded header labels of every field of ``cfg`` (to find the header row of a sheet)."""
    return frozenset(
        header_key(label) for field, labels in cfg.columns.items() for label in [*labels, field]
    )


def label_hits(row: list, known: frozenset[str]) -> int:
    return sum(1 for c in row if isinstance(c, str) and header_key(c) in known)


def header_row(rows: list, known: frozenset[str]) -> int | None:
    """Index of the header row: the first non-empty row, unless title rows sit above the header.

    Among the first non-empty rows, the first one with the most cells that are known header
    labels wins; when no row has any, the first non-empty row stays the header (and the
    missing columns are reported as such).
    """
    non_empty = [i for i, row in enumerate(rows) if any(c != "" for c in row)]
    if not non_empty:
        return None
    best, best_hits = non_empty[0], 0
    for i in non_empty[:HEADER_SCAN]:
        hits = label_hits(rows[i], known)
        if hits > best_hits:
            best, best_hits = i, hits
    return best
