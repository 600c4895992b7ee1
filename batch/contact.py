"""The contact page of a batch: a static, offline `index.html` (every picture a file
beside it) and the same rows as one `contact.png`."""
from __future__ import annotations

import html
import json
from pathlib import Path

from PIL import Image, ImageDraw

from batch.run import BatchReport
from core.images import save_png

ROW_HEIGHT = 160  # px of each picture in contact.png
GAP = 8


def label(result: dict) -> str:
    """"2. The Starry Night", or "blend of A + B" for a blend."""
    if result["rank"] == "blend":
        return f'blend of {html.escape(result["name"])}'
    return f'{result["rank"]}. {html.escape(result["name"])}'


def write_contact(report: BatchReport, out_dir: Path) -> tuple[Path, Path]:
    """index.html and contact.png in `out_dir`, naming only files that exist there."""
    page, sheet = out_dir / "index.html", out_dir / "contact.png"
    rows = []
    for entry in report.entries:
        cells = [f'<td class="photo"><b>{html.escape(entry.photo.name)}</b>']
        if entry.error:
            cells.append(f'<td class="error" colspan="2">{html.escape(entry.error)}</td>')
        else:
            cells[0] += _img(out_dir, f"{entry.folder}/photo.jpg", "photo")
            for r in entry.results:
                text = (f'{label(r)} · {html.escape(r["style"])} · score {r["score"]:.3f}')
                body = (html.escape(r["error"]) if r.get("error") else
                        _img(out_dir, f"{entry.folder}/{r['art']}", "painting")
                        + _img(out_dir, f"{entry.folder}/{r['file']}", "result"))
                cells.append(f"<td><div>{text}</div>{body}</td>")
        rows.append(f"<tr>{'</td>'.join(cells)}</td></tr>")
    failed = report.failed
    page.write_text(f"""<!doctype html><meta charset="utf-8"><title>Artifier batch</title>
<style>body{{font:14px sans-serif;margin:16px}}td{{vertical-align:top;padding:6px}}
img{{height:{ROW_HEIGHT}px;margin:2px}}.error{{color:#a00}}</style>
<h1>Artifier batch</h1>
<p>{len(report.entries)} photos; {report.painted} painted, {report.skipped} already done,
{len(failed)} failed; {report.seconds:.0f} s.</p>
<table>{''.join(rows)}</table>
""")
    (out_dir / "batch.json").write_text(json.dumps(
        [{"photo": str(e.photo), "folder": e.folder, "error": e.error, "results": e.results}
         for e in report.entries], indent=1))
    save_png(_sheet(report, out_dir), sheet)
    return page, sheet


def _img(out_dir: Path, rel: str, alt: str) -> str:
    return f'<img src="{html.escape(rel)}" alt="{alt}">' if (out_dir / rel).is_file() else ""


def _sheet(report: BatchReport, out_dir: Path) -> Image.Image:
    """Each photo's row: the photo, then each result, at one height."""
    rows = []
    for entry in report.entries:
        files = [f"{entry.folder}/photo.jpg"] + [f"{entry.folder}/{r['file']}"
                                                 for r in entry.results if not r.get("error")]
        pictures = [Image.open(out_dir / f).convert("RGB") for f in files
                    if (out_dir / f).is_file()]
        rows.append([p.resize((max(1, p.width * ROW_HEIGHT // p.height), ROW_HEIGHT))
                     for p in pictures] or [_failed_tile(entry.photo.name)])
    width = max(sum(p.width + GAP for p in row) for row in rows) + GAP
    sheet = Image.new("RGB", (width, len(rows) * (ROW_HEIGHT + GAP) + GAP), "white")
    for y, row in enumerate(rows):
        x = GAP
        for picture in row:
            sheet.paste(picture, (x, GAP + y * (ROW_HEIGHT + GAP)))
            x += picture.width + GAP
    return sheet


def _failed_tile(name: str) -> Image.Image:
    tile = Image.new("RGB", (ROW_HEIGHT * 2, ROW_HEIGHT), (250, 235, 235))
    ImageDraw.Draw(tile).text((8, 8), f"{name}: failed", fill=(160, 0, 0))
    return tile
