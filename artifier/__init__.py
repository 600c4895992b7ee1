"""Artifier as a library: turn a photo into a painting with a painting it finds by itself.

    import artifier
    art = artifier.Artifier(index="indexes/art")   # the network loads once, the index on first use
    matches = art.retrieve("photo.jpg", top=5)     # [Match(name, artist, style, score, path), ...]
    painting = art.paint("photo.jpg", matches[0], size=512)
    painting.image                                 # a PIL image; .settings, .boxes, .provenance()
    painting.save("out.png")                       # the PNG the command line writes
    artifier.build_index("art/", "indexes/art")    # or resume, grow and repair one
    artifier.verify_index("indexes/art")           # [] when sound

Photos and paintings may be paths, PIL images or arrays. Every mistake a user can make
raises one of the exception types below, the same the command line prints as one line.
Nothing heavy (torch, FAISS) is imported until a name that needs it is used.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

from core.errors import (ArtifierError, CollectionError, ConfigError, EngineError, ImageError,
                         IndexDamagedError, IndexLockedError, IndexMismatchError,
                         IndexMissingError, OutputError, UploadError, WeightsError)

# Each public name and the module that holds it, imported on first use.
_LAZY = {"Artifier": "artifier.session", "Painting": "artifier.painting",
         "Match": "retrieval.search", "build_index": "artifier.indexing",
         "verify_index": "artifier.indexing"}

__all__ = [*_LAZY, "ArtifierError", "CollectionError", "ConfigError", "EngineError",
           "ImageError", "IndexDamagedError", "IndexLockedError", "IndexMismatchError",
           "IndexMissingError", "OutputError", "UploadError", "WeightsError"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'artifier' has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
