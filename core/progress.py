"""One look for every progress bar: done/total, rate, time left, and a status text.

On a terminal it is a rich bar; otherwise (a log file, a pipe) plain lines every few
seconds, since a bar squeezed into no width prints every figure as "…".
"""
from __future__ import annotations

import sys
import time
from typing import Any

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task,
                           TextColumn, TimeElapsedColumn, TimeRemainingColumn)
from rich.text import Text

PLAIN_EVERY_S = 5.0


class RateColumn(ProgressColumn):
    def __init__(self, unit: str):
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        return Text("" if task.speed is None else f"{task.speed:.2f} {self.unit}/s")


class LeftColumn(TimeRemainingColumn):
    """Time left as the task's own `left` field says (seconds), when its caller knows
    better than the overall rate; else rich's estimate from that rate."""

    def render(self, task: Task) -> Text:
        left = task.fields.get("left")
        if left is None:
            return super().render(task)
        return Text(f"{int(left) // 60}:{int(left) % 60:02d}", style="progress.remaining")


class PlainProgress:
    """The part of rich's Progress that Artifier uses, as plain lines on stderr: the
    first update, one every PLAIN_EVERY_S seconds, and the last."""

    def __init__(self, unit: str):
        self.unit = unit
        self.tasks: dict[int, dict[str, Any]] = {}

    def __enter__(self) -> "PlainProgress":
        return self

    def __exit__(self, *exc: object) -> None:
        for task in self.tasks.values():
            if task["printed"] != task["completed"] and exc[0] is None:
                self._print(task)

    def add_task(self, description: str, total: int, status: str = "",
                 left: float | None = None) -> int:
        self.tasks[len(self.tasks)] = {"description": description, "total": total,
                                       "completed": 0, "status": status, "printed": None,
                                       "start": time.monotonic(), "last": 0.0, "left": left}
        return len(self.tasks) - 1

    def update(self, task_id: int, advance: int = 0, completed: int | None = None,
               status: str | None = None, left: float | None = None) -> None:
        task = self.tasks[task_id]
        task["completed"] = completed if completed is not None else task["completed"] + advance
        task["status"] = task["status"] if status is None else status
        task["left"] = left
        now = time.monotonic()
        if (task["printed"] is None or now - task["last"] >= PLAIN_EVERY_S
                or task["completed"] >= task["total"]):
            self._print(task)
            task["last"] = now

    def _print(self, task: dict[str, Any]) -> None:
        done, total = task["completed"], task["total"]
        elapsed = time.monotonic() - task["start"]
        rate = done / elapsed if elapsed > 0 else 0.0
        seconds = task.get("left")
        if seconds is None and rate > 0:
            seconds = (total - done) / rate
        left = "time left unknown" if seconds is None else f"{seconds:.0f} s left"
        print(f"{task['description']} {done}/{total} {100 * done / max(total, 1):.0f}% "
              f"{rate:.2f} {self.unit}/s {elapsed:.0f} s {left} {task['status']}".rstrip(),
              file=sys.stderr, flush=True)
        task["printed"] = done


def progress_bar(unit: str = "it") -> Progress | PlainProgress:
    """A bar on stderr; tasks take a `status` field for losses or failure counts."""
    if not sys.stderr.isatty():
        return PlainProgress(unit)
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        RateColumn(unit), TimeElapsedColumn(), TextColumn("left"), LeftColumn(),
        TextColumn("{task.fields[status]}"), console=Console(stderr=True))
