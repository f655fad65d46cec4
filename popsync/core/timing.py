"""The one timer: seconds per named step, in order, with an optional listener (a progress bar)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Steps:
    """Times consecutive steps. ``steps("name")`` closes the step that ran since the last call;
    ``with steps.step("name"):`` times a block. ``on_step(name)`` (if given) is told when a step
    starts, so a progress display can follow without the timed code knowing about it."""

    def __init__(self, on_step: Callable[[str], None] | None = None):
        self.seconds: dict[str, float] = {}
        self._on_step = on_step
        self._last = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self._last, 3)
        self._last = now

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        if self._on_step is not None:
            self._on_step(name)
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - started, 3)
            self._last = time.perf_counter()
