"""Work on the next item of a stream while the caller handles this one: the chunked load
prepares the next chunk (Parquet reads, Arrow kernels, which release the GIL) in a thread while
PostgreSQL COPYs the current one, so the client's and the server's work overlap."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

In = TypeVar("In")
Out = TypeVar("Out")
_END = object()


def one_ahead(items: Iterable[In], work: Callable[[In], Out]) -> Iterator[Out]:
    """``work(item)`` of each item, in order; the next item is taken and worked on in one
    thread while the caller holds the current result, so no more than two results are alive
    at a time. An error (of ``items`` or ``work``) is raised where its result would come."""
    iterator = iter(items)

    def step():
        item = next(iterator, _END)
        return _END if item is _END else work(item)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="one-ahead") as pool:
        pending = pool.submit(step)
        while (result := pending.result()) is not _END:
            pending = pool.submit(step)
            yield result
