"""Uploaded images: bounded in bytes, decoded with the CLI's guards, stored re-encoded as
PNG under a generated name. Nothing of the sender's file name or type is trusted."""
from __future__ import annotations

import re
import uuid
from pathlib import Path

from PIL import Image

from core.errors import ImageError, UploadError
from core.images import decode_image

# What names of stored uploads and results look like; anything else is never a file here.
ID_PATTERN = re.compile(r"[0-9a-f]{32}")


def new_id() -> str:
    return uuid.uuid4().hex


def store_upload(data: bytes, folder: Path, max_bytes: int, max_pixels: int) -> tuple[str, Image.Image]:
    """Check, decode and keep an uploaded image; its id and the decoded image.
    ImageError when it is empty or not a readable image within `max_pixels` (a request to
    fix, 400), UploadError when it is over `max_bytes` (413)."""
    if not data:
        raise ImageError("the upload is an empty file")
    if len(data) > max_bytes:
        raise UploadError(f"the upload is {len(data):,} bytes; the limit is {max_bytes:,}")
    image = decode_image(data, "the upload", max_pixels)
    folder.mkdir(parents=True, exist_ok=True)
    upload_id = new_id()
    image.save(upload_path(folder, upload_id), format="PNG")
    return upload_id, image


def upload_path(folder: Path, upload_id: str) -> Path:
    """Where an upload is kept; ValueError for anything that is not a generated id."""
    if not ID_PATTERN.fullmatch(upload_id):
        raise ValueError(f"not an upload id: {upload_id!r}")
    return folder / f"{upload_id}.png"
