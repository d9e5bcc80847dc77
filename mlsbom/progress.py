"""A progress bar for long scans: rich, on stderr, only when stderr is a terminal."""

from __future__ import annotations

import sys
import threading
from typing import Any

from mlsbom.config import Progress


class RichProgress:
    """Bytes and files (or targets) done, with throughput; thread-safe (worker threads report
    too)."""

    def __init__(self, unit: str = "files") -> None:
        self._unit = unit
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.progress import Progress as Bar

        self._bar = Bar(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._lock = threading.Lock()
        self._done = self._files = 0
        self._task: Any = None

    def start(self, files: int, total_bytes: int) -> None:
        self._files = files
        self._bar.start()
        self._task = self._bar.add_task(f"0/{files} {self._unit}", total=max(total_bytes, 1))

    def advance(self, nbytes: int) -> None:
        with self._lock:
            self._done += 1
            self._bar.update(
                self._task,
                advance=nbytes,
                description=f"{self._done}/{self._files} {self._unit}",
            )

    def finish(self) -> None:
        self._bar.stop()


def terminal_progress(enabled: bool = True, unit: str = "files") -> Progress | None:
    """A progress bar when stderr is a terminal (and not disabled), else None."""
    if not enabled or not sys.stderr.isatty():
        return None
    return RichProgress(unit)
