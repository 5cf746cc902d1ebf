"""Progress of the demo's steps as rich progress bars on stderr (stdout stays for results)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

Advance = Callable[..., None]


class Steps:
    """One bar per step; ``quiet`` records the steps' durations without drawing anything."""

    def __init__(self, console: Console | None = None, *, quiet: bool = False) -> None:
        self.quiet = quiet
        self.seconds: dict[str, float] = {}
        self._progress = Progress(
            TextColumn("{task.description:<40}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=console or Console(stderr=True), disable=quiet)

    def __enter__(self) -> Steps:
        self._progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._progress.stop()

    @contextmanager
    def step(self, description: str, total: int) -> Iterator[Advance]:
        task = self._progress.add_task(description, total=max(total, 1))
        started = time.monotonic()

        def advance(by: int = 1) -> None:
            self._progress.advance(task, by)

        try:
            yield advance
            self._progress.update(task, completed=max(total, 1))
        finally:
            self.seconds[description] = time.monotonic() - started
