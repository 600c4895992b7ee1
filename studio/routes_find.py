"""Find: upload a photo or a painting, list the matches, serve the collection's images."""
from __future__ import annotations

import asyncio
import io
import os
from functools import partial
from pathlib import Path
from typing import Annotated, Optional

from fastapi import APIRouter, File, HTTPException, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from index_build.sources import located_exists, open_located

from studio.matcher import MatchQueueFull
from studio.state import Studio
from studio.uploads import store_upload, upload_path
from transfer.engine import INSTANT

router = APIRouter()
THUMB = 256
# Artwork ids are SQLite rowids, 1 to 2**63 - 1: a larger number cannot even be looked up
# (it was a 500), so it is refused with the other malformed requests (422).
FIRST_ART_ID, LAST_ART_ID = 1, 2**63 - 1
ArtId = Annotated[int, Field(strict=True, ge=FIRST_ART_ID, le=LAST_ART_ID)]


def studio_of(request: Request) -> Studio:
    return request.app.state.studio


def existing_upload(studio: Studio, upload_id: str) -> Path:
    try:
        path = upload_path(studio.uploads, upload_id)
    except ValueError:
        raise HTTPException(404, "no such upload") from None
    if not path.is_file():
        raise HTTPException(404, "no such upload")
    return path


@router.get("/info")
def info(request: Request) -> dict:
    studio = studio_of(request)
    t = studio.cfg["transfer"]
    return {"index": str(studio.index_dir), "no_index": studio.no_index,
            "artworks": studio.artworks, "styles": studio.styles, "device": str(studio.device),
            "defaults": {"size": t["size"], "schedule": t["schedule"], "strength": t["strength"],
                         "preserve_colour": t["preserve_colour"],
                         "matches": studio.cfg["studio"]["matches"]},
            "schedules": [INSTANT, *sorted(t["schedules"])]}


@router.post("/uploads")
async def upload(request: Request, file: UploadFile = File(...)) -> dict:
    studio = studio_of(request)
    limit = studio.cfg["studio"]["max_upload_mb"] * 2**20
    data = await file.read(limit + 1)
    upload_id, image = await run_in_threadpool(store_upload, data, studio.uploads, limit,
                                               studio.cfg["images"]["max_pixels"])
    return {"id": upload_id, "width": image.width, "height": image.height}


@router.get("/uploads/{upload_id}.png")
def uploaded(request: Request, upload_id: str) -> FileResponse:
    return FileResponse(existing_upload(studio_of(request), upload_id), media_type="image/png")


class MatchRequest(BaseModel):
    # Strict: JSON true is not the number 1 nor "yes" a true; a wrong type is refused.
    model_config = ConfigDict(strict=True)
    photo: str
    top: int = Field(12, ge=1, le=200)
    style: Optional[str] = None


def find_matches(studio: Studio, photo: Path, top: int, style: Optional[str]) -> dict:
    """Search the index for a photo (on the index thread); the matches as the page gets
    them, without the files' paths."""
    found = studio.art.search(photo, top, False, style).as_dict()
    for match in found["matches"]:
        match.pop("path")
    return found


@router.post("/matches")
async def matches(request: Request, ask: MatchRequest) -> dict:
    """Async, so a request waiting for its search holds none of the threads that serve the
    page, its files and the gallery."""
    studio = studio_of(request)
    if studio.view is None:
        raise HTTPException(409, f"no index to search: {studio.no_index}")
    known = [name for name, _ in studio.styles]
    if ask.style is not None and ask.style not in known:
        raise HTTPException(422, f"no style {ask.style!r} in the index; its styles are "
                                 f"{', '.join(known)}")
    photo = existing_upload(studio, ask.photo)
    try:
        answer = studio.matcher.find((ask.photo, ask.top, ask.style),
                                     partial(find_matches, studio, photo, ask.top, ask.style))
    except MatchQueueFull as full:
        raise HTTPException(429, str(full), {"Retry-After": str(full.retry_after)}) from None
    # Shielded: a client that leaves does not cancel a search that others may wait for.
    return await asyncio.shield(asyncio.wrap_future(answer))


def artwork_file(studio: Studio, art_id: int) -> tuple[str, str]:
    """An artwork's locator, only if it lies inside the indexed collection; and its name."""
    from retrieval.search import artwork_name

    if studio.view is None:
        raise HTTPException(404, "no index")
    rows = studio.on_index(lambda view: view.rows([art_id]))
    if not rows:
        raise HTTPException(404, "no such artwork")
    # Checked by name, not by where links lead: a collection of links is a collection.
    collection = Path(os.path.abspath(studio.view.collection))
    locator = os.path.normpath(collection / rows[0]["path"])
    if not Path(locator).is_relative_to(collection) or not located_exists(locator):
        raise HTTPException(404, "no such artwork")
    row = rows[0]
    return locator, artwork_name(row["artist"], row["title"], locator)


@router.get("/art/{art_id}")
def artwork(request: Request,
            art_id: Annotated[int, PathParam(ge=FIRST_ART_ID, le=LAST_ART_ID)],
            thumb: bool = False) -> Response:
    studio = studio_of(request)
    locator, _ = artwork_file(studio, art_id)
    image = open_located(locator, studio.cfg["images"]["max_pixels"])
    if thumb:
        image.thumbnail((THUMB, THUMB))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=88 if thumb else 95)
    return Response(buffer.getvalue(), media_type="image/jpeg",
                    headers={"Cache-Control": "max-age=3600"})
