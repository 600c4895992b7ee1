"""Paint: queue a painting, follow it (state, progress events, previews), cancel it."""
from __future__ import annotations

import asyncio
import json
from typing import Optional, Union

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from core.config import with_overrides
from core.images import load_image
from index_build.sources import open_located
from studio.jobs import FINISHED, Job
from studio.paint_job import paint_job
from studio.routes_find import ArtId, artwork_file, existing_upload, studio_of
from studio.uploads import new_id
from transfer.budget import check_memory
from transfer.checks import check_settings
from transfer.engine import resolve_schedule

router = APIRouter()
EVENT_POLL_S = 0.25


# The most paintings a blend may take: each adds its features to the swap's memory and a
# target computation per scale; the page offers the first matches, a row of cards.
MAX_BLEND = 8


class PaintRequest(BaseModel):
    # Strict: JSON true is not the number 1 nor "yes" a true; a wrong type is refused.
    model_config = ConfigDict(strict=True)
    photo: str
    # The painting: an artwork of the index by id, an uploaded painting, or a blend of
    # artworks (transfer/blend.py).
    art: Optional[ArtId] = None
    painting: Optional[str] = None
    arts: Optional[list[ArtId]] = Field(None, min_length=2, max_length=MAX_BLEND)
    size: Optional[int] = Field(None, ge=1)
    schedule: Optional[str] = None
    strength: Union[float, str, None] = None
    preserve_colour: Optional[bool] = None


@router.post("/jobs")
def start(request: Request, ask: PaintRequest) -> dict:
    studio = studio_of(request)
    if sum(given is not None for given in (ask.art, ask.painting, ask.arts)) != 1:
        raise HTTPException(400, "name one painting: an artwork (art), an upload (painting) "
                                 "or artworks to blend (arts)")
    photo = existing_upload(studio, ask.photo)
    if ask.arts is not None:
        located = [artwork_file(studio, art) for art in ask.arts]
    elif ask.art is not None:
        located = [artwork_file(studio, ask.art)]
    else:
        located = [(str(existing_upload(studio, ask.painting)), "your painting")]
    cfg = with_overrides(studio.cfg, [f"transfer.{key}={json.dumps(value)}" for key, value in
                                      ask.model_dump(exclude={"photo", "art", "painting",
                                                              "arts"}).items()
                                      if value is not None])
    max_pixels = cfg["images"]["max_pixels"]
    photo_img = load_image(photo, max_pixels, cfg["transfer"]["size"])
    paintings = [(open_located(path, max_pixels), name) for path, name in located]
    check_memory(photo_img, cfg["transfer"], studio.device, len(paintings))
    check_settings(photo_img, [image for image, _ in paintings], cfg["transfer"])
    resolve_schedule(cfg["transfer"], studio.device)
    job = Job(new_id(), " + ".join(name for _, name in paintings))
    studio.jobs.submit(job, lambda j: paint_job(studio, j, (photo_img, photo.name), paintings,
                                                cfg))
    return job.public(studio.jobs.ahead_of(job))


@router.get("/jobs")
def waiting(request: Request) -> list[dict]:
    """Paintings queued or running, from any tab: a page opened later can follow them."""
    jobs = studio_of(request).jobs
    return [job.public(jobs.ahead_of(job)) for job in jobs.unfinished()]


def job_of(request: Request, job_id: str) -> Job:
    job = studio_of(request).jobs.get(job_id)
    if job is None:
        raise HTTPException(404, "no such painting job")
    return job


@router.get("/jobs/{job_id}")
def state(request: Request, job_id: str) -> dict:
    job = job_of(request, job_id)
    return job.public(studio_of(request).jobs.ahead_of(job))


@router.get("/jobs/{job_id}/events")
async def events(request: Request, job_id: str) -> StreamingResponse:
    """Server-sent events: the job's state each time it changes, until it ends."""
    job, jobs = job_of(request, job_id), studio_of(request).jobs

    async def stream():
        last = None
        while True:
            now = job.public(jobs.ahead_of(job))
            if now != last:
                yield f"data: {json.dumps(now)}\n\n"
                last = now
            if job.state in FINISHED or await request.is_disconnected():
                return
            await asyncio.sleep(EVENT_POLL_S)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


@router.get("/jobs/{job_id}/preview.png")
def preview(request: Request, job_id: str) -> Response:
    job = job_of(request, job_id)
    if job.preview is None:
        raise HTTPException(404, "no preview yet")
    return Response(job.preview, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.delete("/jobs/{job_id}")
def cancel(request: Request, job_id: str) -> dict:
    job = job_of(request, job_id)
    if not studio_of(request).jobs.cancel(job_id):
        raise HTTPException(409, f"the painting is already {job.state}")
    return {"cancelled": job_id}
