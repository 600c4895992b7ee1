"""The studio's web app: the page, its files, and the API routers, over one loaded Studio."""
from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from core.errors import ArtifierError, UploadError
from studio import routes_find, routes_gallery, routes_paint
from studio.state import Studio

STATIC = Path(__file__).resolve().parent / "static"
# Room for the multipart framing around an upload's bytes.
FORM_OVERHEAD = 64 * 1024


def create_app(studio: Studio) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        studio.close()

    app = FastAPI(title="Artifier Studio", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.studio = studio
    limit = studio.cfg["studio"]["max_upload_mb"] * 2**20

    @app.middleware("http")
    async def bound_uploads(request: Request, call_next):
        """Refuse an upload over the limit from its header, before reading its body."""
        if request.method == "POST" and request.url.path == "/api/uploads":
            length = request.headers.get("content-length")
            if length is None or not length.isdigit():
                return JSONResponse({"detail": "an upload needs a Content-Length"}, 411)
            if int(length) > limit + FORM_OVERHEAD:
                return JSONResponse({"detail": f"the upload is {int(length):,} bytes; the "
                                               f"limit is {limit:,}"}, 413)
        return await call_next(request)

    @app.exception_handler(ArtifierError)
    async def user_error(_request: Request, exc: ArtifierError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, 413 if isinstance(exc, UploadError) else 400)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (routes_find, routes_paint, routes_gallery):
        app.include_router(module.router, prefix="/api")
    return app
