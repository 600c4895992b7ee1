"""Paintings run one at a time per device, in the order asked, on a worker thread of
their own: the page and the match list stay answered while one paints."""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from core.errors import ArtifierError

log = logging.getLogger("artifier.studio")
FINISHED = {"done", "failed", "cancelled"}


class JobCancelled(Exception):
    """Raised inside a painting's progress callback to stop it."""


@dataclass
class Job:
    id: str
    title: str
    state: str = "queued"  # queued, running, then one of FINISHED
    step: int = 0
    total: int = 0
    fraction: float = 0.0  # of the work, each step weighted by its pixels
    started: Optional[float] = None
    seconds_left: Optional[float] = None
    message: str = ""
    result: Optional[str] = None
    preview: Optional[bytes] = None
    preview_version: int = 0
    cancelled: threading.Event = field(default_factory=threading.Event)

    def report(self, step: int, total: int, fraction: float, preview: Optional[bytes]) -> None:
        """Called by the painting: where it is, and now and then a look at the image."""
        if self.cancelled.is_set():
            raise JobCancelled
        self.step, self.total, self.fraction = step, total, fraction
        elapsed = time.monotonic() - (self.started or time.monotonic())
        self.seconds_left = elapsed * (1 - fraction) / fraction if fraction > 0 else None
        if preview is not None:
            self.preview, self.preview_version = preview, self.preview_version + 1

    def public(self, ahead: int) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "state": self.state, "step": self.step,
                "total": self.total, "fraction": round(self.fraction, 4),
                "seconds_left": None if self.seconds_left is None else round(self.seconds_left, 1),
                "message": self.message, "result": self.result, "ahead": ahead,
                "preview": self.preview_version}


class JobQueue:
    """One worker thread running `(job, work)` pairs in order."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._waiting: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._worker = threading.Thread(target=self._run, name="painter", daemon=True)
        self._worker.start()

    def submit(self, job: Job, work: Callable[[Job], None]) -> Job:
        with self._lock:
            self._jobs[job.id] = job
        self._waiting.put((job, work))
        return job

    def unfinished(self) -> list[Job]:
        with self._lock:
            return [job for job in self._jobs.values() if job.state not in FINISHED]

    def get(self, job_id: str) -> Optional[Job]:
        return self._jobs.get(job_id)

    def ahead_of(self, job: Job) -> int:
        """Jobs that will run before this queued one (the running one included)."""
        if job.state != "queued":
            return 0
        with self._lock:
            jobs = list(self._jobs.values())
        return sum(1 for other in jobs[:jobs.index(job)] if other.state in ("queued", "running"))

    def cancel(self, job_id: str) -> bool:
        job = self._jobs.get(job_id)
        if job is None or job.state in FINISHED:
            return False
        job.cancelled.set()
        if job.state == "queued":
            job.state = "cancelled"
        return True

    def close(self) -> None:
        self._waiting.put(None)

    def _run(self) -> None:
        while (item := self._waiting.get()) is not None:
            job, work = item
            if job.cancelled.is_set():
                continue
            job.state, job.started = "running", time.monotonic()
            try:
                work(job)
                job.state, job.fraction, job.seconds_left = "done", 1.0, 0.0
            except JobCancelled:
                job.state = "cancelled"
            except ArtifierError as exc:
                job.state, job.message = "failed", str(exc)
            except Exception as exc:  # a bug: the page says so, the log keeps the trace
                log.exception("painting %s failed", job.id)
                job.state, job.message = "failed", f"internal error: {exc}"
