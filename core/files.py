"""File helpers: checksums (weights, catalog, index files) and durable renames."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from core.errors import OutputError


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_record(path: Path) -> dict[str, Any]:
    """Size and SHA-256 of a file, as the manifest lists them for `index verify`."""
    return {"size": path.stat().st_size, "sha256": file_sha256(path)}


def replace_durably(tmp: Path, dest: Path) -> dict[str, Any]:
    """Flush `tmp` to disk and rename it to `dest`, so `dest` is whole or absent after a
    crash; returns its file_record."""
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    record = file_record(tmp)
    os.replace(tmp, dest)
    return record


def refuse_overwrite(outputs: dict[str, Path | None], inputs: dict[str, Path | None]) -> None:
    """Refuse, before any work, an output that is one of the inputs (the same file by inode,
    so a link or another spelling of the path counts) or that another output also names:
    either would lose a file without a word."""
    seen: dict[Path, str] = {}
    for name, path in outputs.items():
        if path is None:
            continue
        where = Path(os.path.abspath(path))
        if where in seen:
            raise OutputError(f"{name} {path} is also the {seen[where]}; give each its own file")
        seen[where] = name
        for input_name, source in inputs.items():
            if source is not None and path.exists() and source.exists() and \
                    os.path.samefile(path, source):
                raise OutputError(f"{name} {path} is the {input_name}; writing it would "
                                  "replace that file, so name another")
