"""Matches for uploaded photos: searched on the index thread behind a bounded queue, each
question (photo, how many, style) searched once and its answer kept. A burst of requests
then neither runs one search per request nor piles up work the page would wait behind."""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future
from typing import Callable, Hashable

from studio.index_thread import SEARCH, IndexThread


class MatchQueueFull(Exception):
    """The queue of searches is full; `retry_after` is about when a place frees (s)."""

    def __init__(self, waiting: int, retry_after: int) -> None:
        super().__init__(f"the studio is busy: {waiting} searches are waiting; "
                         f"ask again in {retry_after} s")
        self.retry_after = retry_after


class Matcher:
    """At most `queue_size` searches waiting or running; the last `kept` answers kept."""

    def __init__(self, index: IndexThread, queue_size: int, kept: int) -> None:
        self._index, self._queue_size, self._kept = index, queue_size, kept
        self._lock = threading.Lock()
        self._answers: OrderedDict[Hashable, Future] = OrderedDict()  # kept or coming
        self._waiting = 0
        self._seconds = 1.0  # the last search's time, for Retry-After

    def find(self, key: Hashable, search: Callable[[], dict]) -> Future:
        """The answer for `key`, kept or coming, else `search()` queued for it.
        MatchQueueFull when the queue holds as many searches as it may."""
        with self._lock:
            if (answer := self._answers.get(key)) is not None:
                self._answers.move_to_end(key)
                return answer
            if self._waiting >= self._queue_size:
                raise MatchQueueFull(self._waiting,
                                     max(1, math.ceil(self._waiting * self._seconds)))
            self._waiting += 1
            answer = self._index.submit(lambda: self._timed(search), SEARCH)
            self._answers[key] = answer
        answer.add_done_callback(lambda done: self._settle(key, done))  # may run at once
        return answer

    def _timed(self, search: Callable[[], dict]) -> dict:
        start = time.monotonic()
        try:
            return search()
        finally:
            self._seconds = time.monotonic() - start

    def _settle(self, key: Hashable, done: Future) -> None:
        """A search is over: forget it if it failed (asking again retries it), and forget
        the least recently asked answers beyond those kept."""
        with self._lock:
            self._waiting -= 1
            if (done.cancelled() or done.exception() is not None) \
                    and self._answers.get(key) is done:
                del self._answers[key]
            finished = [k for k, answer in self._answers.items() if answer.done()]
            for old in finished[:max(0, len(finished) - self._kept)]:
                del self._answers[old]
