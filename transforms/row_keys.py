"""A key of its own for every row, so that no row can be lost or merged on load.

A record id should be unique, but a row may lack one or repeat an earlier row's. Such a row
keeps its source id in ``source_record_id`` (which the quality rules check: an extract row is
quarantined) and gets ``record_id`` = ``<id>~<hash>`` (``~<hash>`` when it had none):

- ``<hash>`` is 12 lower-case letters (about 56 bits of BLAKE2b) of the row's content: every
  declared field of the source's contract as read (``raw_<field>``), each value NFC-normalized,
  trimmed and with single spaces (``standardize.clean_text``), blank values left out, fields
  named and in name order. Not the line number (``src_row``), the file name or its sha: the key
  stays the same when lines are added above the row, in a new version of the file, and in
  another format holding the same text (a CSV or an XLSX of the same rows). A field the file
  lacks counts as blank, so a contract that gains an optional field keeps the keys.
- Letters only: the key holds no value of the row, and no run of digits that masking
  (``privacy.mask_record_id``) would take for an ID; the ``<id>`` part is masked as any id.
- Rows that give the same key (identical contents, and the same repeated id if any) are told
  apart by their order in the file: the first has the key, the n-th (n >= 2) ``<key>.<n>``.
  So a key of an exact copy moves only when another copy of the same row is added before it.

The first row of a repeated id keeps the bare id. Keys are decided over the whole file, also
when it is processed in chunks (``pipeline.chunks``, ``pipeline.register_chunks`` give them to
``with_unique_record_ids``)."""

from __future__ import annotations

import hashlib

import pandas as pd

from transforms.standardize import clean_text

HASH_LETTERS = 12
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_SPACE = len(_LETTERS) ** HASH_LETTERS


def content_hashes(contents: pd.DataFrame) -> pd.Series:
    """Per row of ``contents`` (columns: the contract's field names, values as read), the
    ``HASH_LETTERS``-letter hash of its normalized, non-blank values."""
    fields = sorted(contents.columns)
    cleaned = [clean_text(contents[f].astype("string")).tolist() for f in fields]
    hashes = []
    for values in zip(*cleaned, strict=True) if fields else ([()] * len(contents)):
        text = "\x1e".join(
            f"{field}\x1f{value}"
            for field, value in zip(fields, values, strict=True)
            if value is not pd.NA
        )
        digest = hashlib.blake2b(
            text.encode("utf-8", "surrogatepass"), digest_size=8, person=b"popsync-row-key"
        ).digest()
        number = int.from_bytes(digest, "big") % _SPACE
        letters = []
        for _ in range(HASH_LETTERS):
            number, at = divmod(number, len(_LETTERS))
            letters.append(_LETTERS[at])
        hashes.append("".join(letters))
    return pd.Series(hashes, index=contents.index, dtype="string")


def clash_bases(ids: pd.Series, contents: pd.DataFrame) -> pd.Series:
    """``<id>~<hash>`` of rows that need a key, from their source ids (null when missing) and
    contents (as ``content_hashes``); identical rows not yet told apart (``told_apart``)."""
    return ids.astype("string").fillna("") + "~" + content_hashes(contents)


def told_apart(bases: pd.Series) -> pd.Series:
    """Keys from ``clash_bases`` of all the file's rows that need one, in file order: the n-th
    of the same (n >= 2) gets ``.<n>``."""
    occurrence = bases.groupby(bases, sort=False).cumcount() + 1
    return bases.where(occurrence.eq(1), bases + "." + occurrence.astype("string"))


def clash_keys(ids: pd.Series, contents: pd.DataFrame) -> pd.Series:
    """The keys of the rows that need one (their id missing or repeated), given in file order
    (``clash_bases`` then ``told_apart``)."""
    return told_apart(clash_bases(ids, contents))


def contents_of(rows: pd.DataFrame) -> pd.DataFrame:
    """A standardized frame's values as read (``raw_<field>``), columns named by field."""
    columns = [c for c in rows.columns if c.startswith("raw_")]
    return rows[columns].rename(columns=lambda c: c.removeprefix("raw_"))


def with_unique_record_ids(rows: pd.DataFrame, keys: pd.Series | None = None) -> pd.DataFrame:
    """``rows`` (standardized) with ``source_record_id`` (the id as read) and a unique
    ``record_id`` (the module's rules). Used by the pipeline on extracts and by the register's
    checks. ``keys``: the keys of the rows that need one (indexed as ``rows``), when they were
    decided over more rows than ``rows`` (a batch read in chunks); by default decided on
    ``rows``."""
    ids = rows["record_id"].astype("string")
    if keys is None:
        clash = ids.isna() | ids.duplicated(keep="first")
        keys = clash_keys(ids[clash], contents_of(rows[clash]))
    record_id = ids.copy()
    if len(keys):
        record_id.loc[keys.index] = keys.astype("string")
    return rows.assign(source_record_id=ids, record_id=record_id)
