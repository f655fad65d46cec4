"""Peak resident memory of this process, per named stage: a thread samples ``/proc/self/statm``
every 50 ms (``resource.getrusage`` only knows the peak of the whole process so far)."""

from __future__ import annotations

import os
import resource
import threading
import time
from contextlib import contextmanager

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * _PAGE


def _cpu() -> float:
    """CPU seconds (user + system) of this process so far: on a shared machine, a better
    measure of the work than the wall time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class StagePeaks:
    """``with peaks.stage("link"):`` records the wall and CPU seconds and the peak RSS of the block."""

    def __init__(self, interval: float = 0.05):
        self.seconds: dict[str, float] = {}
        self.cpu_seconds: dict[str, float] = {}
        self.peak_bytes: dict[str, int] = {}
        self._current: str | None = None
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            name = self._current
            if name is not None:
                self.peak_bytes[name] = max(self.peak_bytes.get(name, 0), rss_bytes())

    @contextmanager
    def stage(self, name: str):
        self._current = name
        self.peak_bytes[name] = max(self.peak_bytes.get(name, 0), rss_bytes())
        started, cpu = time.perf_counter(), _cpu()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
            self.cpu_seconds[name] = self.cpu_seconds.get(name, 0.0) + _cpu() - cpu
            self.peak_bytes[name] = max(self.peak_bytes[name], rss_bytes())
            self._current = None

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    @staticmethod
    def process_peak_bytes() -> int:
        """The whole process's peak so far (the kernel's high-water mark)."""
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
