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

from transfer.matching import orient

TINT = 0.55  # share of the position colour in the tinted images
# A blend's paintings, one colour each in its map: far apart in hue, told apart at a glance.
BLEND_COLOURS = np.array([(0.92, 0.26, 0.21), (0.16, 0.47, 0.95), (0.2, 0.75, 0.3),
                          (0.98, 0.76, 0.1), (0.62, 0.3, 0.85), (0.1, 0.8, 0.82),
                          (0.95, 0.45, 0.75), (0.55, 0.4, 0.2)], dtype=np.float32)


def recording_collage(found: list[torch.Tensor],
                      make: Callable[..., tuple[torch.Tensor, torch.Tensor]]
                      ) -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
    """The engine's start (`make`: the collage, or the decoded swap), also appending its
    correspondence to `found`."""
    def collage(*args: Any) -> tuple[torch.Tensor, torch.Tensor]:
        canvas, positions = make(*args)
        found.append(positions)
        return canvas, positions
    return collage


def source_boxes(positions: torch.Tensor, painting_hw: tuple[int, int] | list[tuple[int, int]],
                 stride: int) -> np.ndarray:
    """(h, w, 4) boxes x0, y0, x1, y1 in 0..1 of the painting as painted: the block each
    result block was laid from. `painting_hw` is the painting's working size; a list of
    sizes is a blend's paintings, and the boxes are in the painting each block came from
    (the correspondence's first column)."""
    pos = positions.cpu()
    blend = isinstance(painting_hw, list)
    sizes = painting_hw if blend else [painting_hw] * (int(pos[..., 0].max()) + 1)
    boxes = np.empty((*pos.shape[:2], 4), dtype=np.float32)
    for which in pos[..., 0].unique().tolist():
        rows, cols = sizes[which][0] // stride, sizes[which][1] // stride
        grid = torch.stack(torch.meshgrid(torch.arange(rows), torch.arange(cols),
                                          indexing="ij"))
        here = pos[..., 0] == which
        r, c = (grid if blend else orient(grid, which))[:, pos[..., 1][here],
                                                       pos[..., 2][here]].numpy()
        boxes[here.numpy()] = np.stack((c / cols, r / rows, (c + 1) / cols, (r + 1) / rows), -1)
    return boxes


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


def side_by_side(images: list[Image.Image], height: int | None = None) -> Image.Image:
    """The images in a row at one height (the first's by default), 8 px apart on white."""
    height = height or images[0].height
    scaled = [im.resize((max(1, round(im.width * height / im.height)), height),
                        Image.Resampling.LANCZOS) if im.height != height else im
              for im in images]
    sheet = Image.new("RGB", (sum(im.width for im in scaled) + 8 * (len(scaled) - 1), height),
                      "white")
    x = 0
    for im in scaled:
        sheet.paste(im.convert("RGB"), (x, 0))
        x += im.width + 8
    return sheet


def blend_map(result: Image.Image, paintings: list[Image.Image],
              painting_of: np.ndarray) -> Image.Image:
    """A blend's result beside its paintings, one height, each painting tinted with its
    own colour and every result block with the colour of the painting it came from
    (`painting_of`, (h, w) indices into `paintings`)."""
    colours = BLEND_COLOURS[np.arange(len(paintings)) % len(BLEND_COLOURS)]
    blocks = Image.fromarray((colours[painting_of] * 255 + 0.5).astype(np.uint8), "RGB")
    per_pixel = np.asarray(blocks.resize(result.size, Image.Resampling.NEAREST),
                           dtype=np.float32) / 255
    tinted = []
    for painting, colour in zip(paintings, colours):
        scaled = side_by_side([painting], result.height)
        tinted.append(_tint(scaled, np.broadcast_to(colour, (scaled.height, scaled.width, 3))))
    return side_by_side([_tint(result, per_pixel), *tinted])
