"""Derived rule columns, by stage: ``pre_link`` (a row on its own), ``post_link`` (a row against
the register person it was linked to, and batch-level ages) and ``register`` (the register
snapshot on its own). One registry (``base``) holds them all: a suite of any stage may name any
column (the register's suite uses several row rules of ``pre_link``).

A suite names a column; ``compute(batch, name)`` gives it for a ``Batch``, ``is_rule(spec, name)``
says whether a name is a derived column for a source (else it is a standardized column)."""

from expectations.rules import post_link, pre_link, register  # noqa: F401  (they register)
from expectations.rules.base import Batch, compute, is_rule

__all__ = ["Batch", "compute", "is_rule"]
