"""L-BFGS on the pixels, one gradient a step, written out rather than torch.optim's (whose
first step imports torch._dynamo: seconds).

From a start that is already a painting (the decoded swap), Adam's first steps move every
pixel by its learning rate whatever its gradient, and the quick schedule's 105 steps ended
8-23% from the long schedule on the judge's metrics; L-BFGS scales each step by the
curvature it has seen, and the same steps ended within 5% of it (docs/benchmarks.md, "The
swap as the optimisation's start"). No line search: each step costs one forward and
backward pass, as Adam's does.
"""
from __future__ import annotations

from typing import Callable

import torch

# Curvature pairs kept: 20 took the 12 benchmark pairs within 5% of the long schedule.
HISTORY = 20
# Their memory: a step and a change of gradient per pair, float32 RGB, per pixel.
BYTES_PER_PIXEL = 2 * HISTORY * 3 * 4


def lbfgs(param: torch.Tensor, lr: float = 1.0, history: int = HISTORY) -> Callable[[], None]:
    """A step function that moves `param` along the L-BFGS direction of its `.grad`
    (Nocedal 1980, two-loop recursion), keeping the last `history` steps' curvature pairs.
    The first step is scaled to move the pixels by at most `lr` in all (as torch's is)."""
    pairs: list[tuple[torch.Tensor, torch.Tensor, float]] = []  # (s, y, 1 / y.s)
    state: dict[str, torch.Tensor | float] = {"scale": 1.0}

    @torch.no_grad()
    def step() -> None:
        grad = param.grad.reshape(-1).clone()
        if "grad" not in state:
            direction, size = -grad, min(1.0, 1.0 / float(grad.abs().sum().clamp_min(1e-12))) * lr
        else:
            _remember(pairs, state, grad, history)
            direction, size = _direction(pairs, grad, float(state["scale"])), lr
        state["grad"], state["step"] = grad, direction * size
        if float(grad.dot(direction)) < 0:  # a descent direction, else stay put
            param.add_(state["step"].view_as(param))

    return step


def _remember(pairs: list[tuple[torch.Tensor, torch.Tensor, float]],
              state: dict[str, torch.Tensor | float], grad: torch.Tensor, history: int) -> None:
    """Keep the last step and the change of gradient it brought, where the curvature
    along it is positive; the initial inverse Hessian is y.s / y.y of the newest."""
    y, s = grad - state["grad"], state["step"]
    ys = float(y.dot(s))
    if ys > 1e-10:
        if len(pairs) == history:
            pairs.pop(0)
        pairs.append((s, y, 1.0 / ys))
        state["scale"] = ys / float(y.dot(y))


def _direction(pairs: list[tuple[torch.Tensor, torch.Tensor, float]], grad: torch.Tensor,
               scale: float) -> torch.Tensor:
    """-H grad by the two-loop recursion."""
    q, alphas = -grad, []
    for s, y, rho in reversed(pairs):
        alpha = rho * float(s.dot(q))
        q.add_(y, alpha=-alpha)
        alphas.append(alpha)
    r = q.mul_(scale)
    for (s, y, rho), alpha in zip(pairs, reversed(alphas)):
        r.add_(s, alpha=alpha - rho * float(y.dot(r)))
    return r
