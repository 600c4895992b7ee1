"""Time left of a painting, from the rate of the scale it is painting now.

Steps grow with the square of the scale (a quarter-size step costs about a sixteenth of a
full one), and a shared CPU changes the rate mid-run; the rate of every step so far, as a
progress bar keeps it, was 3x or more off. The current scale's measured time per step,
scaled by area for the scales still to come, follows both."""
from __future__ import annotations

import time
from typing import Callable


def painting_clock(scales: list[float], iterations: list[int],
                   now: Callable[[], float] = time.monotonic) -> Callable[[int], float | None]:
    """A function of the steps done so far (called after each) that returns the seconds
    left, or None before the first step has been timed."""
    ends = [sum(iterations[:i + 1]) for i in range(len(iterations))]
    began: dict[int, tuple[int, float]] = {}
    timed: list[tuple[int, float]] = []  # the last (scale, seconds a step) measured

    def seconds_left(done: int) -> float | None:
        scale = next((i for i, end in enumerate(ends) if done < end), len(ends) - 1)
        start_step, start_time = began.setdefault(scale, (done, now()))
        if done > start_step:
            timed[:] = [(scale, (now() - start_time) / (done - start_step))]
        if not timed:
            return None
        measured, per_step = timed[0]
        return sum((ends[i] - max(done, ends[i] - iterations[i]))
                   * per_step * (scales[i] / scales[measured]) ** 2
                   for i in range(scale, len(scales)))

    return seconds_left
