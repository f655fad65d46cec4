"""Python ``re`` results of a pattern over a string column, at Arrow speed.

pandas runs a pattern with ``\\d``, ``\\D`` or ``\\s`` per value in Python as soon as one value
of the column is not ASCII (RE2's classes are ASCII-only, Python's Unicode; its ``\\s`` differs
even on ASCII). Here every value goes through Arrow with those classes spelled out as the ASCII
characters Python's own classes hold, and only the non-ASCII values (few in an extract) are
run again with ``re``: the results are Python's, value for value.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms.columns import STRING, arrow


def _ascii_members(category: str) -> str:
    """The ASCII characters Python's ``\\<category>`` matches, as RE2 class items."""
    found = [chr(i) for i in range(128) if re.fullmatch(rf"\{category}", chr(i))]
    return "".join(f"\\x{{{ord(c):x}}}" for c in found)


_MEMBERS = {"d": _ascii_members("d"), "s": _ascii_members("s")}


@cache
def ascii_pattern(pattern: str) -> str:
    """``pattern`` for RE2 that matches an ASCII text as Python's ``re`` does: ``\\d``, ``\\D``,
    ``\\s``, ``\\S`` become explicit classes. Raises ``ValueError`` on what it cannot carry over
    (other class escapes, a negated class inside a class, ``$``, lookarounds, backreferences)."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            escaped = pattern[i + 1]
            if escaped.lower() in _MEMBERS:
                members = _MEMBERS[escaped.lower()]
                negated = escaped.isupper()
                if in_class and negated:
                    raise ValueError(f"\\{escaped} inside a class: {pattern!r}")
                out.append(members if in_class else f"[{'^' if negated else ''}{members}]")
            elif escaped.isalnum() and escaped not in "nrtfvx":
                raise ValueError(f"\\{escaped} is not carried over to RE2: {pattern!r}")
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if char == "$" and not in_class:
            raise ValueError(f"$ matches before a final newline in Python: {pattern!r}")
        if char == "(" and pattern.startswith("(?", i) and not pattern.startswith("(?:", i):
            raise ValueError(f"group extension not carried over to RE2: {pattern!r}")
        if char == "[" and not in_class:
            in_class = True
            out.append(char)
            i += 1
            for literal in ("^", "]"):  # "[^]..." and "[]...": the "]" is a member
                if pattern.startswith(literal, i):
                    out.append(literal)
                    i += 1
            continue
        if char == "]" and in_class:
            in_class = False
        out.append(char)
        i += 1
    return "".join(out)


def _non_ascii(values: pa.Array) -> np.ndarray:
    """Positions of the non-null values that are not ASCII."""
    return np.flatnonzero(~pc.fill_null(pc.string_is_ascii(values), True).to_numpy(False))


def _boolean(values: pd.Series, matched: pa.Array, python, pattern: str) -> pd.Series:
    array = arrow(values)
    result = np.asarray(pc.fill_null(matched, False).to_numpy(False), dtype=bool)
    compiled = re.compile(pattern)
    for at in _non_ascii(array):
        result[at] = python(compiled, array[at].as_py()) is not None
    return pd.Series(
        pd.arrays.BooleanArray(result, pc.is_null(array).to_numpy(False)), index=values.index
    )


def fullmatch(values: pd.Series, pattern: str) -> pd.Series:
    """``values.str.fullmatch(pattern)`` (``boolean``, null for null)."""
    matched = pc.match_substring_regex(arrow(values), f"^(?:{ascii_pattern(pattern)})$")
    return _boolean(values, matched, re.Pattern.fullmatch, pattern)


def contains(values: pd.Series, pattern: str) -> pd.Series:
    """``values.str.contains(pattern)`` (``boolean``, null for null)."""
    matched = pc.match_substring_regex(arrow(values), ascii_pattern(pattern))
    return _boolean(values, matched, re.Pattern.search, pattern)


def replace(values: pd.Series, pattern: str, repl: str) -> pd.Series:
    """``values.str.replace(pattern, repl, regex=True)`` for a plain ``repl`` (no groups)."""
    if "\\" in repl:
        raise ValueError(f"replacement with escapes or groups: {repl!r}")
    array = arrow(values)
    result = pc.replace_substring_regex(array, ascii_pattern(pattern), repl)
    other = _non_ascii(array)
    if len(other):
        compiled = re.compile(pattern)
        mask = np.zeros(len(array), dtype=bool)
        mask[other] = True
        python = [compiled.sub(repl, array[at].as_py()) for at in other]
        result = pc.replace_with_mask(result, pa.array(mask), pa.array(python, result.type))
    return pd.Series(pd.array(result, dtype=STRING), index=values.index)
