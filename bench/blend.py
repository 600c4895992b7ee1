"""Blend benchmark: each quality-bench photo painted with each of its top 3 matches alone
and with the three blended, judged side by side.

    python bench/blend.py [--index indexes/demo] [--size 512] [--schedule instant]
                          [--out bench/results/blend]

For every photo the judge's content distance (to the photo) and style and colour
distances to each of the three paintings (their mean) are printed per row, with the
blend's share of pieces from each painting; a sheet per photo (photo | the three
singles | the blend, paintings above) is saved to look at for seams and muddy colour.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from statistics import mean, median

from PIL import Image

from artifier.session import Artifier
from core.images import fit_long_side, load_image, save_png
from judge.metrics import judge_all
from judge.network import load_judge
from quality import PAIRS, SHARED, ROOT
from transfer.provenance import side_by_side

TOP = 3


def scores(judge, result: Image.Image, photo: Image.Image,
           paintings: list[Image.Image]) -> dict[str, float]:
    """Content to the photo; style and colour to each painting, averaged."""
    each = [judge_all(judge, result, photo, p) for p in paintings]
    return {"content": each[0]["content"], "style": mean(e["style"] for e in each),
            "colour": mean(e["colour"] for e in each), "grid": each[0]["grid"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "indexes" / "demo")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--schedule", default="instant")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "blend")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    judge = load_judge()
    rows: dict[str, list[dict[str, float]]] = {f"top {n + 1}": [] for n in range(TOP)}
    rows["blend"] = []
    with Artifier(args.index) as art:
        for photo_name, _ in PAIRS:
            photo = load_image(SHARED / "photos" / photo_name)
            matches = art.retrieve(photo, top=TOP)
            singles = [art.paint(photo, m, size=args.size, schedule=args.schedule)
                       for m in matches]
            blend = art.paint(photo, matches, size=args.size, schedule=args.schedule)
            paintings = [blend.painting, *blend.others]
            for n, single in enumerate(singles):
                rows[f"top {n + 1}"].append(scores(judge, single.image, photo, paintings))
            rows["blend"].append(scores(judge, blend.image, photo, paintings))
            shares = " ".join(f"{part['share']:.2f}" for part in blend.settings["blend"])
            print(f"  {photo_name:42s} blend shares {shares}  " + " ".join(
                f"{k} {v:.3f}" for k, v in rows["blend"][-1].items()), flush=True)
            height = min(blend.image.height, 256)
            sheet = side_by_side([fit_long_side(p, 256) for p in paintings], height)
            results = side_by_side([photo, *(s.image for s in singles), blend.image], height)
            page = Image.new("RGB", (max(sheet.width, results.width), 2 * height + 8), "white")
            page.paste(sheet, (0, 0))
            page.paste(results, (0, height + 8))
            save_png(page, args.out / f"{Path(photo_name).stem}-blend.png")
    print(f"\nmedians over {len(PAIRS)} photos, {args.schedule} at {args.size} px; style and "
          f"colour are the mean distance to the top {TOP} paintings (lower is closer)")
    print("| row | content | style | colour | grid |\n|---|---|---|---|---|")
    for name, found in rows.items():
        print(f"| {name} | " + " | ".join(f"{median(r[k] for r in found):.3f}"
                                         for k in ("content", "style", "colour", "grid")) + " |")


if __name__ == "__main__":
    main()
