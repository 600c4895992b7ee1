"""Where each part of the result came from: the collage's correspondence, made readable.

The collage lays every result block from one painting block; the optimisation then
refines the pixels but keeps that layout. `source_boxes` turns the correspondence into
painting rectangles (in the painting as painted, whatever orientation a piece was taken
in), and `provenance_map` draws it: the painting tinted by position, and the result
tinted block by block with the colour of the place its piece came from.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
from PIL import Image

from transfer.collage import collage_and_matches
from transfer.matching import orient

TINT = 0.55  # share of the position colour in the tinted images


def recording_collage(found: list[torch.Tensor],
                      make: Callable[..., tuple[torch.Tensor, torch.Tensor]] = collage_and_matches
                      ) -> Callable[..., torch.Tensor]:
    """The engine's start (`make`: the collage, or the decoded swap), also appending its
    correspondence to `found`."""
    def collage(*args: Any) -> torch.Tensor:
        canvas, positions = make(*args)
        found.append(positions)
        return canvas
    return collage


def source_boxes(positions: torch.Tensor, painting_hw: tuple[int, int],
                 stride: int) -> np.ndarray:
    """(h, w, 4) boxes x0, y0, x1, y1 in 0..1 of the painting as painted: the block each
    result block was laid from. `painting_hw` is the painting's working size."""
    rows, cols = painting_hw[0] // stride, painting_hw[1] // stride
    grid = torch.stack(torch.meshgrid(torch.arange(rows), torch.arange(cols), indexing="ij"))
    pos = positions.cpu()
    source = torch.empty(*pos.shape[:2], 2, dtype=torch.long)
    for which in pos[..., 0].unique().tolist():
        here = pos[..., 0] == which
        turned = orient(grid, which)
        source[here] = turned[:, pos[..., 1][here], pos[..., 2][here]].T
    r, c = source[..., 0].numpy(), source[..., 1].numpy()
    return np.stack((c / cols, r / rows, (c + 1) / cols, (r + 1) / rows), -1).astype(np.float32)


def position_colours(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A colour for each place in 0..1 x 0..1: red grows to the right, green downwards,
    blue towards the top left, so nearby places get nearby colours and far ones differ."""
    return np.stack((x, y, 1 - (x + y) / 2), -1)


def _tint(image: Image.Image, colours: np.ndarray) -> Image.Image:
    grey = np.asarray(image.convert("L"), dtype=np.float32)[..., None] / 255
    mixed = (1 - TINT) * grey + TINT * colours
    return Image.fromarray((mixed.clip(0, 1) * 255 + 0.5).astype(np.uint8), "RGB")


def provenance_map(result: Image.Image, painting: Image.Image, boxes: np.ndarray) -> Image.Image:
    """Result and painting side by side, one height, tinted so that a colour on the
    result marks where in the painting it came from."""
    height = result.height
    painting = painting.resize((max(1, round(painting.width * height / painting.height)), height),
                               Image.Resampling.LANCZOS)
    ys, xs = np.mgrid[0:height, 0:painting.width]
    painted = _tint(painting, position_colours((xs + 0.5) / painting.width, (ys + 0.5) / height))
    centres = position_colours((boxes[..., 0] + boxes[..., 2]) / 2, (boxes[..., 1] + boxes[..., 3]) / 2)
    block_colours = Image.fromarray((centres * 255 + 0.5).astype(np.uint8), "RGB")
    per_pixel = np.asarray(block_colours.resize(result.size, Image.Resampling.NEAREST),
                           dtype=np.float32) / 255
    sheet = Image.new("RGB", (result.width + 8 + painting.width, height), "white")
    sheet.paste(_tint(result, per_pixel), (0, 0))
    sheet.paste(painted, (result.width + 8, 0))
    return sheet
