"""The one progress display: a rich bar over named steps (the stages of a run, the steps of
``popsync generate``), silent when disabled. What it shows is timed by ``core.timing.Steps``."""

from __future__ import annotations

from collections.abc import Sequence

from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from popsync.report.terminal import console


class StageProgress:
    """``with StageProgress(label, steps, enabled) as p: p.start(name); ...; p.done()``."""

    def __init__(self, label: str, steps: Sequence[str] | int, enabled: bool = True):
        self.label = label
        self.total = steps if isinstance(steps, int) else len(steps)
        self._progress = (
            Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.fields[label]}[/] {task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            if enabled
            else None
        )
        self._task = None

    def __enter__(self):
        if self._progress:
            self._progress.__enter__()
            self._task = self._progress.add_task("", total=self.total, label=self.label)
        return self

    def __exit__(self, *exc):
        if self._progress:
            self._progress.__exit__(*exc)

    def start(self, step: str) -> None:
        if self._progress:
            self._progress.update(self._task, description=step)

    def done(self) -> None:
        if self._progress:
            self._progress.advance(self._task)

    def step(self, what: str) -> None:
        """``what`` is done."""
        self.start(what)
        self.done()
