"""One knob for how much of the painting goes into the result: `--strength 0..1`.

0 returns the photo as it is; 0.5 is the tuned defaults
(the collage start and the configured weights); 1 quadruples the style, histogram and
colour weights and halves the content weight. Below 0.5 the start is a mix of photo and collage, so the painting fades in
smoothly rather than all at once.
"""
from __future__ import annotations

from typing import Any

import torch


def with_strength(cfg: dict[str, Any]) -> dict[str, Any]:
    """The transfer settings with the painting's weights scaled by (2 * strength)^2, and
    above 0.5 the photo's weight divided by 2 * strength."""
    scale = (2 * cfg["strength"]) ** 2
    painting = {key: cfg[key] * scale for key in ("style_weight", "hist_weight", "colour_weight")}
    return cfg | painting | {"content_weight": cfg["content_weight"]
                             / max(1.0, 2 * cfg["strength"])}


def start_image(collage: torch.Tensor, photo: torch.Tensor, strength: float) -> torch.Tensor:
    """The collage, faded towards the photo below strength 0.5."""
    mix = min(1.0, 2 * strength)
    return collage if mix == 1.0 else mix * collage + (1 - mix) * photo
