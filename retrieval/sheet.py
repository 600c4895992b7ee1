"""A contact sheet: the photo, then the top matches, each named under its thumbnail."""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from core.images import load_image, save_png
from index_build.sources import open_located
from retrieval.search import Match

THUMB = 200
COLUMNS = 4
CAPTION = 44


def _caption_lines(draw: ImageDraw.ImageDraw, lines: list[str], font) -> list[str]:
    fitted = []
    for line in lines:
        while line and draw.textlength(line, font=font) > THUMB - 4:
            line = line[:-2] + "…"
        fitted.append(line)
    return fitted


def contact_sheet(photo: Path, matches: list[Match], out: Path, max_pixels: int) -> Path:
    tiles = [(load_image(photo, max_pixels), ["photo", photo.name])]
    for m in matches:
        tiles.append((open_located(m.path, max_pixels),
                      [f"{m.rank}. {m.artist or 'unknown artist'}", f"{m.title} ({m.score:.1f})"]))
    rows = -(-len(tiles) // COLUMNS)
    sheet = Image.new("RGB", (COLUMNS * (THUMB + 8), rows * (THUMB + CAPTION + 8)), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=12)
    for i, (img, lines) in enumerate(tiles):
        img.thumbnail((THUMB, THUMB), Image.Resampling.LANCZOS)
        x = (i % COLUMNS) * (THUMB + 8) + 4
        y = (i // COLUMNS) * (THUMB + CAPTION + 8) + 4
        sheet.paste(img, (x + (THUMB - img.width) // 2, y + (THUMB - img.height) // 2))
        for j, line in enumerate(_caption_lines(draw, lines, font)):
            draw.text((x, y + THUMB + 4 + 16 * j), line, fill="black", font=font)
    return save_png(sheet, out)
