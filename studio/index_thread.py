"""The index's own thread. Its SQLite catalog and HDF5 feature files may only be used from
the thread that opened them, so all index work runs there, one piece at a time. Lookups
(an artwork's row) go ahead of the searches waiting: a page's thumbnails wait for the
search running at most, not for a queue of them from another tab."""
from __future__ import annotations

import itertools
import queue
import threading
from concurrent.futures import Future
from typing import Callable, TypeVar

T = TypeVar("T")
# Kinds of work, in the order they are taken from the queue.
LOOKUP, SEARCH, STOP = 0, 1, 2


class IndexThread:
    """Runs work by kind (lookups before searches), then in the order given."""

    def __init__(self) -> None:
        self._waiting: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()  # ties broken by arrival; work is never compared
        self._thread = threading.Thread(target=self._run, name="index", daemon=True)
        self._thread.start()

    def submit(self, work: Callable[[], T], kind: int = LOOKUP) -> Future:
        """`work()` queued; its future answer or exception."""
        answer: Future = Future()
        self._waiting.put((kind, next(self._order), work, answer))
        return answer

    def close(self) -> None:
        """Stop once the work already given is done."""
        self._waiting.put((STOP, next(self._order), None, None))
        self._thread.join()

    def _run(self) -> None:
        while True:
            kind, _, work, answer = self._waiting.get()
            if kind == STOP:
                return
            if not answer.set_running_or_notify_cancel():
                continue
            try:
                answer.set_result(work())
            except BaseException as exc:  # the caller's to handle, as ThreadPoolExecutor's
                answer.set_exception(exc)
