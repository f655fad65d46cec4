"""Fewer passes of Python's cyclic garbage collector during one batch-like command.

``popsync match`` allocates a few hundred thousand tuples, lists and dicts (per distinct value
results, parsed addresses, lookups); with the default thresholds the collector walks the
whole heap again and again meanwhile, the modules imported before included (about 0.3 s of
CPU at 100,000 people). Inside :func:`fewer_collections` the objects that exist already are
left out of the collector's walks (``gc.freeze``) and the youngest generation is collected
after more allocations; both are undone on the way out, so nothing is kept from collection
after it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Allocations between two collections of the youngest generation (Python's default is 700).
YOUNG_THRESHOLD = 20_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], YOUNG_THRESHOLD), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
