"""Quality benchmark: how much of the painting and of the photo a result keeps, by a judge.

    python bench/quality.py [--size 512] [--pairs 12] [--rows a,b,c] [--out bench/results/quality]
    python bench/quality.py --device cuda --schedule long --paint-only DIR   # on a GPU machine
    python bench/quality.py --schedule long --judge-from DIR                 # then here
    python bench/quality.py --rows instant,instant-full,instant-scratch       # one pass each

The judge is EfficientNet-Lite0 (ImageNet), a network the optimisation never sees
(`judge/`). Every row paints the same fixed photo/painting pairs; the script prints a
per-pair table for each metric and the medians side by side, and saves a triptych per
pair and row to look at. Lower is closer on every metric; grid near 1 means no block grid.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from statistics import median
from typing import Any, Callable, Iterable, Iterator, Sequence

import torch
import torch.nn.functional as F
from PIL import Image

from core.backbone import load_backbone
from core.config import load_config
from core.images import load_image, save_png, to_pil
from judge.metrics import judge_all
from judge.network import load_judge
from transfer.engine import paint
from transfer.instant import instant_paint
from transfer.matching import flat_index, match_positions
from transfer.triptych import triptych

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
# (photo, painting): portrait, animals, landscape, city, interior, objects; paintings of
# eleven styles, flat (cut-outs, Ukiyo-e, Cubism) and busy (Starry Night, Pointillism).
PAIRS = [
    ("astronaut.jpg", "vincent-van-gogh_the-starry-night-1889.jpg"),  # Post-Impressionism
    ("chelsea-cat.jpg", "edvard-munch_the-scream-1893.jpg"),  # Expressionism
    ("kodak-kodim23.jpg", "henri-matisse_the-maritime-wildlife-1950.jpg"),  # cut-out, flat
    ("kodak-kodim13.jpg", "katsushika-hokusai_the-great-wave-off-kanagawa-1831.jpg"),
    ("kodak-kodim08.jpg", "piet-mondrian_composition-cubist-period.jpg"),  # Cubism
    ("coffee.jpg", "georges-seurat_oil-sketch-for-a-sunday-on-la-grande-jatte-1884.jpg"),
    ("library-of-congress-ceiling.jpg", "ludovico-carracci_the-vision-of-saint-francis-1602.jpg"),
    ("kodak-kodim22.jpg", "andre-derain_boats-at-collioure-1905.jpg"),  # Fauvism
    ("kodak-kodim03.jpg", "claude-monet_the-beach-at-sainte-adresse-1867.jpg"),  # Impressionism
    ("washington-monument-cherry-blossoms.jpg",
     "giovanni-domenico-ferretti-da-imola_sketch-for-a-ceiling-fresco-1740.jpg"),  # Rococo
    ("kodak-kodim06.jpg", "henri-rousseau_alleyway-in-the-park-of-saint-cloud-1908.jpg"),
    ("kodak-kodim17.jpg", "jean-francois-millet_the-woodchopper-1858.jpg"),  # Realism
]
METRICS = ("content", "style", "colour", "grid")


def hard_collage(photo: torch.Tensor, painting: torch.Tensor, backbone, layer: str,
                 stride: int, orientations: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The original's start: each matched painting block pasted whole, edges and all; and
    the correspondence."""
    with torch.no_grad():
        positions = match_positions(backbone(photo, [layer])[layer][0],
                                    [backbone(painting, [layer])[layer][0]])
    blocks = F.unfold(painting, stride, stride=stride)
    index = flat_index([(painting.shape[2] // stride, painting.shape[3] // stride)], positions)
    h, w = positions.shape[:2]
    return F.fold(blocks[:, :, index], (h * stride, w * stride), stride, stride=stride), positions


BEFORE = ["transfer.painting_share=0.0", "transfer.border_pad=0", "transfer.colour_weight=0.0",
          "transfer.strength=0.5", "transfer.orientations=1", "transfer.match_palette=false"]
# name: (what it is, config overrides, start: None for the schedule's own)
ROWS: dict[str, tuple[str, list[str], Callable | None]] = {
    "a": ("original recipe: hard 16-px collage, matched Gram, content, TV, Adam",
          [*BEFORE, "transfer.hist_weight=0", "transfer.chroma_denoise=false"], hard_collage),
    "b": ("defaults before the quality work", BEFORE, None),
    "c": ("today's defaults", [], None),
    "c-fixed-strength": ("c with strength 0.5 for every pair instead of auto",
                         ["transfer.strength=0.5"], None),
    "c-8-orientations": ("c with the painting's pieces also turned and mirrored",
                         ["transfer.orientations=8"], None),
    "c-matched": ("c, style and histogram targets from matched features only",
                  ["transfer.painting_share=0.0"], None),
    "c-no-colour": ("c without the pixel colour histogram", ["transfer.colour_weight=0.0"],
                    None),
    "c-zero-pad": ("c with VGG's zero padding at the border", ["transfer.border_pad=0"],
                   None),
    "c-no-denoise": ("c without chroma denoising", ["transfer.chroma_denoise=false"],
                     None),
    "c-no-palette": ("c without the final palette match", ["transfer.match_palette=false"],
                     None),
    "c-no-relu1-hist": ("c without the relu1_1 histogram (a fifth of a GPU step)",
                        ['transfer.hist_layers=["relu4_1"]'], None),
}
# name: (what it is, config overrides): painted in one pass by transfer/instant.py.
# The first sketch: none of what came after it (descriptor, centring, the per-position
# share, the moments, the lattice, the recolour, the palette's rotation passes).
SCRATCH = ["transfer.instant.nnst=false", "transfer.instant.centre=false",
           "transfer.instant.keep_photo_power=0", "transfer.instant.painting_moments=0",
           "transfer.instant.even_lattice=false", "transfer.instant.recolour_photo=0",
           "transfer.instant.palette_rotations=0"]
INSTANT_ROWS: dict[str, tuple[str, list[str]]] = {
    "instant": ("instant painting: NNST descriptor, centred, auto strength", []),
    "instant-linear": ("instant, blend share the strength itself",
                       ["transfer.instant.strength_power=1.0"]),
    "instant-fixed": ("instant at strength 0.5 for every pair (blend share 0.84)",
                      ["transfer.strength=0.5"]),
    "instant-full": ("instant at strength 1, the full swap", ["transfer.strength=1.0"]),
    "instant-relu4": ("instant-full, relu4_1 alone", ["transfer.strength=1.0",
                                                      "transfer.instant.nnst=false"]),
    "instant-scratch": ("instant-full, relu4_1 alone, not centred (the first sketch)",
                        ["transfer.strength=1.0", *SCRATCH]),
    "instant-one-palette": ("instant with the palette matched along the painting's own "
                            "axes only", ["transfer.instant.palette_rotations=0"]),
}


def describe(name: str) -> str:
    return (ROWS.get(name) or INSTANT_ROWS[name])[0]


def paint_row(name: str, pairs: list[tuple[str, str]], size: int, schedule: str,
              device: torch.device, backbone, extra: Sequence[str] = ()
              ) -> Iterator[tuple[str, Image.Image, float]]:
    """Each pair's result under row `name` (and the `extra` overrides), with the seconds
    it took."""
    overrides, collage = ROWS[name][1:] if name in ROWS else (INSTANT_ROWS[name][1], None)
    cfg = load_config(overrides=[f"transfer.size={size}", f'transfer.schedule="{schedule}"',
                                 *overrides, *extra])
    for photo_name, art_name in pairs:
        photo = load_image(SHARED / "photos" / photo_name)
        painting = load_image(SHARED / "art" / art_name)
        start = time.perf_counter()
        result = to_pil(paint(photo, painting, backbone, cfg["transfer"], device,
                              collage=collage) if name in ROWS else
                        instant_paint(photo, painting, backbone, cfg["transfer"], device)[0])
        yield photo_name, result, time.perf_counter() - start


def judge_row(name: str, pairs: list[tuple[str, str]],
              results: Iterable[tuple[str, Image.Image, float]], out: Path,
              judge) -> list[dict[str, Any]]:
    rows = []
    for (photo_name, art_name), (_, result, seconds) in zip(pairs, results):
        photo = load_image(SHARED / "photos" / photo_name)
        painting = load_image(SHARED / "art" / art_name)
        scores = judge_all(judge, result, photo, painting)
        save_png(triptych(photo, painting, result, ("photo", art_name[:40], f"row {name}")),
                 out / f"{Path(photo_name).stem}-{name}.png")
        rows.append({"pair": photo_name, **scores, "seconds": seconds})
        print(f"  {name} {photo_name:42s} " + " ".join(f"{k} {scores[k]:.3f}" for k in METRICS)
              + f" ({seconds:.1f} s)", flush=True)
    return rows


def saved_results(folder: Path, name: str, pairs: list[tuple[str, str]]
                  ) -> Iterator[tuple[str, Image.Image, float]]:
    """Results painted elsewhere with --paint-only (a GPU machine), to judge here."""
    seconds = json.loads((folder / "seconds.json").read_text())
    for photo_name, _ in pairs:
        key = f"{Path(photo_name).stem}-{name}"
        yield photo_name, load_image(folder / f"{key}.png"), seconds[key]


def paint_only(names: list[str], pairs: list[tuple[str, str]], args: argparse.Namespace) -> None:
    """Paint and save every result, with no judge: for a machine that has no judge."""
    backbone = load_backbone("vgg19-caffe", device=args.device)
    seconds: dict[str, float] = {}
    for name in names:
        for photo_name, result, took in paint_row(name, pairs, args.size, args.schedule,
                                                  torch.device(args.device), backbone, args.set):
            key = f"{Path(photo_name).stem}-{name}"
            save_png(result, args.paint_only / f"{key}.png")
            seconds[key] = took
            print(f"  {key}: {took:.1f} s", flush=True)
            (args.paint_only / "seconds.json").write_text(json.dumps(seconds, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--pairs", type=int, default=len(PAIRS))
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--schedule", default="fast")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a config override for every row, after the row's own "
                             "(e.g. a candidate schedule)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "quality")
    parser.add_argument("--paint-only", type=Path, metavar="DIR",
                        help="save the results to DIR and judge nothing (a GPU machine)")
    parser.add_argument("--judge-from", type=Path, metavar="DIR",
                        help="judge the results saved in DIR by --paint-only instead of painting")
    args = parser.parse_args()
    names = args.rows.split(",")
    unknown = [n for n in names if n not in ROWS and n not in INSTANT_ROWS]
    if unknown:
        raise SystemExit(f"unknown rows {unknown}; known: {', '.join([*ROWS, *INSTANT_ROWS])}")
    pairs = PAIRS[:args.pairs]
    if args.paint_only:
        paint_only(names, pairs, args)
        return
    judge = load_judge()
    backbone = None if args.judge_from else load_backbone("vgg19-caffe", device=args.device)
    results = {}
    for name in names:
        print(f"row {name}: {describe(name)}", flush=True)
        painted = (saved_results(args.judge_from, name, pairs) if args.judge_from else
                   paint_row(name, pairs, args.size, args.schedule, torch.device(args.device),
                             backbone, args.set))
        results[name] = judge_row(name, pairs, painted, args.out, judge)
        (args.out / "quality.json").write_text(json.dumps(results, indent=2))
        print_table(results, args)


def print_table(results: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> None:
    """Medians per row, with ratios to row b where it ran; printed after every row."""
    print(f"\nmedians over {args.pairs} pairs at {args.size} px, {args.schedule} schedule "
          "(lower is closer; ratio to row b)")
    base = results.get("b")
    print(f"| row | {' | '.join(METRICS)} | s per image | what |\n|---|" + "---|" * 6)
    for name, rows in results.items():
        cells = []
        for k in METRICS:
            value = median(r[k] for r in rows)
            ratio = (f" ({value / median(r[k] for r in base):.2f}x)" if base and k != "grid"
                     else "")
            cells.append(f"{value:.3f}{ratio}")
        seconds = median(r["seconds"] for r in rows)
        print(f"| {name} | {' | '.join(cells)} | {seconds:.0f} | {describe(name)} |", flush=True)
    print(flush=True)


if __name__ == "__main__":
    main()
