"""The painting's time left follows the current scale's rate, not the run's average."""
from transfer.clock import painting_clock


def _run(scales, iterations, cost):
    """Step through a schedule whose step at scale i takes cost(step, i) seconds; yield
    (estimate, truth) after each step."""
    clock = [0.0]
    seconds_left = painting_clock(scales, iterations, now=lambda: clock[0])
    costs = [cost(step, i) for i, count in enumerate(iterations) for step in range(count)]
    seconds_left(0)
    for done in range(1, len(costs) + 1):
        clock[0] += costs[done - 1]
        yield done, seconds_left(done), sum(costs[done:])


def test_time_left_scales_each_step_by_area():
    scales, iterations = [0.25, 0.5, 1.0], [10, 10, 10]
    runs = list(_run(scales, iterations, lambda step, i: (scales[i] / 0.25) ** 2))
    for done, estimate, truth in runs[:-1]:
        assert estimate is not None and abs(estimate - truth) <= 1e-9 * max(truth, 1), done
    # The average rate after the first scale would have said 20 steps at 1 s: 20 s, not 200.
    assert runs[9][2] == 200


def test_time_left_follows_a_slowdown_within_a_scale():
    scales, iterations = [0.5, 1.0], [4, 20]
    runs = list(_run(scales, iterations, lambda step, i: 4.0 * (3 if i == 1 else 1)))
    done, estimate, truth = runs[10]
    assert abs(estimate - truth) / truth < 0.01
