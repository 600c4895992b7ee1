"""A relu5_3 map as L2-normalised 3x3 patch vectors, and the FAISS ids that name them.

Index and query must lay patches out identically, so both call this.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from core.patches import PATCH

POSITION_BITS = 16  # a FAISS id is artwork_id << 16 | patch position


def patch_vectors(fmap: np.ndarray) -> np.ndarray:
    """(h, w, C) map -> ((h-2)*(w-2), 9C) float32 rows of unit length."""
    windows = sliding_window_view(fmap.astype(np.float32, copy=False), (PATCH, PATCH), axis=(0, 1))
    vectors = windows.transpose(0, 1, 3, 4, 2).reshape(-1, PATCH * PATCH * fmap.shape[2])
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-6))


def patch_ids(artwork_id: int, count: int) -> np.ndarray:
    return (np.int64(artwork_id) << POSITION_BITS) + np.arange(count, dtype=np.int64)


def artwork_of(ids: np.ndarray) -> np.ndarray:
    return ids >> POSITION_BITS
