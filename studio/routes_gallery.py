"""Gallery: past results, their files, deleting them."""
from __future__ import annotations

import json

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

from studio.gallery import delete_result, get_result, list_results, result_dir
from studio.routes_find import studio_of
from studio.routes_paint import MAX_BLEND

router = APIRouter()
# A blend's other paintings are painting-1, painting-2, ... (studio/paint_job.py).
FILES = {"result", "photo", "painting", "provenance"} | {f"painting-{n}"
                                                        for n in range(1, MAX_BLEND)}


def record(request: Request, result_id: str) -> dict:
    try:
        result_dir(studio_of(request).results, result_id)
    except ValueError:
        raise HTTPException(404, "no such result") from None
    found = get_result(studio_of(request).results, result_id)
    if found is None:
        raise HTTPException(404, "no such result")
    return found


@router.get("/results")
def results(request: Request) -> list[dict]:
    return list_results(studio_of(request).results)


@router.get("/results/{result_id}")
def result(request: Request, result_id: str) -> dict:
    found = record(request, result_id)
    folder = result_dir(studio_of(request).results, result_id)
    return found | json.loads((folder / "provenance.json").read_text())


@router.get("/results/{result_id}/{name}.png")
def result_file(request: Request, result_id: str, name: str, download: bool = False) -> FileResponse:
    record(request, result_id)
    path = result_dir(studio_of(request).results, result_id) / f"{name}.png"
    if name not in FILES or not path.is_file():
        raise HTTPException(404, "no such file")
    return FileResponse(path, media_type="image/png",
                        filename=f"artifier-{result_id[:8]}-{name}.png" if download else None)


@router.delete("/results/{result_id}")
def delete(request: Request, result_id: str) -> dict:
    record(request, result_id)
    delete_result(studio_of(request).results, result_id)
    return {"deleted": result_id}
