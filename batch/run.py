"""Paint every photo with each of its top K matches: one retrieval per photo, the network
and index loaded once, a result already on disk never painted again, and a bad photo one
line of the report instead of the end of the run."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from artifier.session import Artifier
from core.errors import ArtifierError, CollectionError, ConfigError
from core.images import IMAGE_SUFFIXES, fit_long_side, load_image
from retrieval.search import Match
from transfer.provenance import side_by_side

# Long side of the photo and painting thumbnails the contact page shows.
THUMB_SIDE = 256


@dataclass
class Entry:
    """One photo of the run: its matches' results, or why it failed."""
    photo: Path
    folder: str
    results: list[dict] = field(default_factory=list)
    error: Optional[str] = None


@dataclass
class BatchReport:
    entries: list[Entry]
    painted: int = 0
    skipped: int = 0
    seconds: float = 0.0
    painting_seconds: float = 0.0

    @property
    def failed(self) -> list[str]:
        return [f"{e.photo}: {e.error}" for e in self.entries if e.error] + \
               [f"{e.photo} with {r['name']}: {r['error']}" for e in self.entries
                for r in e.results if r.get("error")]


def photos_of(sources: list[Path]) -> list[Path]:
    """The photos named, a folder standing for the image files in it (sorted)."""
    photos = []
    for source in sources:
        if source.is_dir():
            photos += sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            photos.append(source)
    if not photos:
        raise CollectionError(f"no photos in {', '.join(map(str, sources))}")
    return photos


def slug(text: str) -> str:
    """A file-name-safe form of an artwork's name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "artwork"


def result_name(rank: int, match: Match) -> str:
    return f"{rank:02d}-{slug(match.name)}.png"


def _folders(photos: list[Path]) -> list[str]:
    """One output folder per photo, by its stem; a stem met again gets its index."""
    seen: dict[str, int] = {}
    names = []
    for photo in photos:
        seen[photo.stem] = seen.get(photo.stem, 0) + 1
        names.append(photo.stem if seen[photo.stem] == 1 else f"{photo.stem}-{seen[photo.stem]}")
    return names


def check_blend(blend: Optional[int]) -> None:
    """A blend paints with two paintings or more; one is a painting of its own."""
    if blend is not None and blend < 2:
        raise ConfigError(f"--blend {blend}: a blend paints with 2 paintings or more")


def results_per_photo(top: int, blend: Optional[int]) -> int:
    """Each photo's results: its `top` paintings, and its blend when there is one."""
    return top + (1 if blend else 0)


def paint_batch(art: Artifier, photos: list[Path], out_dir: Path, top: int,
                on_result: Callable[[int, int], None] | None = None,
                blend: Optional[int] = None) -> BatchReport:
    """Paint each photo with its `top` matches into OUT_DIR/PHOTO/NN-ARTWORK.png, and
    with a blend of its first `blend` matches into OUT_DIR/PHOTO/blend-N.png;
    `on_result(done, total)` after each result, painted or found done."""
    start = time.monotonic()
    entries = [Entry(photo, folder) for photo, folder in zip(photos, _folders(photos))]
    per_photo = results_per_photo(top, blend)
    report, total, done = BatchReport(entries), len(photos) * per_photo, 0
    max_pixels = art.cfg["images"]["max_pixels"]
    for entry in entries:
        folder = out_dir / entry.folder
        try:
            photo = load_image(entry.photo, max_pixels, THUMB_SIDE)
            matches = art.retrieve(entry.photo, top=max(top, blend or 0))
        except ArtifierError as exc:
            entry.error, done = str(exc), done + per_photo
            if on_result:
                on_result(done, total)
            continue
        folder.mkdir(parents=True, exist_ok=True)
        thumb = folder / "photo.jpg"
        if not thumb.exists():
            fit_long_side(photo, THUMB_SIDE).save(thumb, quality=85)
        jobs: list[tuple[dict, Match | list[Match]]] = [
            (_result(folder / result_name(rank, match), rank, [match]), match)
            for rank, match in enumerate(matches[:top], start=1)]
        if blend and len(matches) >= 2:
            jobs.append((_result(folder / f"blend-{blend}.png", "blend", matches[:blend]),
                         matches[:blend]))
        for result, painting in jobs:
            _paint_one(art, entry.photo, painting, folder, result, report)
            entry.results.append(result)
            done += 1
            if on_result:
                on_result(done, total)
        done += per_photo - len(jobs)
    report.seconds = time.monotonic() - start
    return report


def _result(out: Path, rank: int | str, matches: list[Match]) -> dict:
    """What the contact page shows of one result: a rank, or "blend" with its paintings."""
    return {"rank": rank, "name": " + ".join(m.name for m in matches),
            "style": ", ".join(dict.fromkeys(m.style for m in matches)),
            # A blend's: its paintings' mean score.
            "score": round(sum(m.score for m in matches) / len(matches), 4),
            "file": out.name, "art": out.with_suffix(".art.jpg").name}


def _paint_one(art: Artifier, photo: Path, painting: Match | list[Match], folder: Path,
               result: dict, report: BatchReport) -> None:
    """Paint one result unless its PNG is there; a failure is written into `result`."""
    out = folder / result["file"]
    if out.exists():
        report.skipped += 1
        return
    began = time.monotonic()
    try:
        painted = art.paint(photo, painting)
        paintings = side_by_side([painted.painting, *painted.others])
        fit_long_side(paintings, THUMB_SIDE).save(folder / result["art"], quality=85)
        painted.save(out)
        report.painted += 1
    except ArtifierError as exc:
        result["error"] = str(exc)
    report.painting_seconds += time.monotonic() - began
