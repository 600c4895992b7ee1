"""photo | painting | result side by side at one height, as the original showed results."""
from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

CAPTION_HEIGHT = 28


def triptych(photo: Image.Image, painting: Image.Image, result: Image.Image,
             captions: tuple[str, str, str] = ("photo", "painting", "result")) -> Image.Image:
    height = result.height
    panels = [im.resize((max(1, round(im.width * height / im.height)), height),
                        Image.Resampling.LANCZOS) for im in (photo, painting, result)]
    gap = 8
    width = sum(p.width for p in panels) + gap * (len(panels) - 1)
    sheet = Image.new("RGB", (width, height + CAPTION_HEIGHT), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=14)
    x = 0
    for panel, caption in zip(panels, captions):
        sheet.paste(panel, (x, 0))
        text = caption
        while text and draw.textlength(text, font=font) > panel.width - 4:
            text = text[:-2] + "…" if len(text) > 2 else ""
        draw.text((x + 2, height + 6), text, fill="black", font=font)
        x += panel.width + gap
    return sheet
