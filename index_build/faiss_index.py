"""Train, fill and save the FAISS IVF-PQ index of relu5_3 patches.

4,608-d patches are too wide for product quantisation, so the factory string starts
with a PCA; it is trained on a smaller sample than the IVF and PQ stages, which work
in the reduced space, so training memory stays near 1 GB even at 50,000 artworks.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import faiss
import numpy as np
import torch

from core.errors import CollectionError, IndexDamagedError
from core.files import replace_durably
from core.patch_vectors import PATCH, patch_ids, patch_vectors
from index_build.ondisk import SUFFIX, ivfdata_of, read_ondisk
from index_build.store import FeatureStore

ADD_CHUNK = 65536
PATCH_DIM = PATCH * PATCH * 512
_PCA = re.compile(r"^PCA(R?)(\d+),(.+)$")


def resolve_factory(factory: str, n_patches: int) -> tuple[str, int]:
    """Fill {nlist}: the power of two nearest 2*sqrt(patches), within [64, 8192]."""
    nlist = 2 ** round(math.log2(max(1, 2 * math.sqrt(n_patches))))
    nlist = min(8192, max(64, nlist))
    return factory.format(nlist=nlist), nlist


def gpu_available() -> bool:
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


def is_fast_scan(index: faiss.Index) -> bool:
    """Whether the lists hold 4-bit codes packed in blocks for SIMD scanning (`PQ..x4fs`):
    FAISS keeps those in memory only, and has no GPU version of them."""
    return isinstance(faiss.downcast_index(faiss.extract_index_ivf(index)),
                      faiss.IndexIVFFastScan)


def _run_on_gpu(index: faiss.Index, work: Callable[[faiss.Index], None]) -> faiss.Index:
    """Do `work` on a GPU copy when faiss-gpu and CUDA are there (and FAISS has the index
    type there), and return a CPU index: the saved file is the same either way."""
    if not gpu_available() or is_fast_scan(index):
        work(index)
        return index
    gpu = faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, index)
    work(gpu)
    return faiss.index_gpu_to_cpu(gpu)


def sample_patches(store: FeatureStore, rows: Sequence[Any], count: int, seed: int = 0,
                   transform: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """About `count` patches from artworks drawn at random, a few from each, passed
    through `transform` artwork by artwork so a large sample never exists at 4,608-d."""
    rng = np.random.default_rng(seed)
    per_artwork = max(1, math.ceil(count / max(1, len(rows))))
    chunks, total = [], 0
    for i in rng.permutation(len(rows)):
        r = rows[i]
        vectors = patch_vectors(store.read(r["shard"], r["row"], r["fh"], r["fw"]))
        take = np.sort(rng.choice(len(vectors), min(per_artwork, len(vectors)), replace=False))
        chunk = vectors[take]
        chunks.append(transform(chunk) if transform else chunk)
        total += len(take)
        if total >= count:
            break
    return np.concatenate(chunks)[:count]


def fit_pca(sample: np.ndarray, d_out: int, rotate: bool, seed: int = 0) -> faiss.LinearTransform:
    """PCA to `d_out` dims (then a random rotation, which spreads variance evenly over the
    PQ sub-vectors) as a FAISS LinearTransform.

    FAISS's own PCAMatrix eigendecomposes the full 4,608 x 4,608 covariance: 44 s here.
    A randomised low-rank SVD finds the same leading subspace in under a second.
    """
    data = torch.from_numpy(sample)
    mean = data.mean(0)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    _, _, v = torch.svd_lowrank(data - mean, q=min(d_out + 32, *data.shape), niter=4)
    components = v[:, :d_out].t()
    if rotate:
        rotation, _ = torch.linalg.qr(torch.randn(d_out, d_out, generator=gen))
        components = rotation @ components
    transform = faiss.LinearTransform(sample.shape[1], d_out, True)
    faiss.copy_array_to_vector(components.contiguous().numpy().ravel(), transform.A)
    faiss.copy_array_to_vector((-(components @ mean)).numpy(), transform.b)
    transform.is_trained = True
    return transform


def _quiet_small_sample(index: faiss.Index, n_train: int) -> None:
    """FAISS prints a warning per k-means run when it has under 39 points per centroid;
    a small collection always does, and the build says so once instead."""
    ivf = faiss.extract_index_ivf(index)
    ivf.cp.min_points_per_centroid = min(39, max(1, n_train // ivf.nlist))
    inner = faiss.downcast_index(ivf)
    if hasattr(inner, "pq"):
        inner.pq.cp.min_points_per_centroid = min(39, max(1, n_train // inner.pq.ksub))


def small_sample_note(index: faiss.Index, n_train: int) -> str | None:
    """One line when the training sample is below FAISS's 39 points per centroid."""
    ivf = faiss.extract_index_ivf(index)
    inner = faiss.downcast_index(ivf)
    centroids = max(ivf.nlist, getattr(getattr(inner, "pq", None), "ksub", 0))
    if n_train >= 39 * centroids:
        return None
    return (f"small training sample: {n_train:,} patches for {centroids} centroids (FAISS "
            f"suggests {39 * centroids:,}); fine for a small collection")


def _check_enough(index: faiss.Index, patches: int, factory: str, pca_dims: int = 0) -> None:
    """Refuse a sample with fewer patches than IVF lists, PQ centroids or PCA dimensions:
    training cannot work below that."""
    ivf = faiss.extract_index_ivf(index)
    ksub = getattr(getattr(faiss.downcast_index(ivf), "pq", None), "ksub", 0)
    needed = max(ivf.nlist, ksub, pca_dims)
    if patches < needed:
        raise CollectionError(
            f"the collection gives {patches:,} patches; training the index ({factory}) needs at "
            f"least {needed:,}: add artworks (one at 224 px gives 100 to 144)")


def train_index(factory: str, store: FeatureStore, rows: Sequence[Any], pca_train: int,
                ivf_train: int) -> faiss.Index:
    """An empty, trained index for `factory`; a leading PCA{R}n is fitted here (see fit_pca)."""
    dim = PATCH_DIM
    pca = _PCA.match(factory)
    if not pca:
        sample = sample_patches(store, rows, ivf_train)
        index = faiss.index_factory(dim, factory)
        _check_enough(index, len(sample), factory)
        _quiet_small_sample(index, len(sample))
        return _run_on_gpu(index, lambda i: i.train(sample))
    rotate, d_out, rest = pca.group(1) == "R", int(pca.group(2)), pca.group(3)
    inner = faiss.index_factory(d_out, rest)
    sample = sample_patches(store, rows, pca_train)
    _check_enough(inner, len(sample), factory, d_out)
    transform = fit_pca(sample, d_out, rotate)
    reduced = sample_patches(store, rows, ivf_train, seed=1, transform=transform.apply)
    _quiet_small_sample(inner, len(reduced))
    inner = _run_on_gpu(inner, lambda i: i.train(reduced))
    index = faiss.IndexPreTransform(transform, inner)
    transform.this.disown()
    inner.this.disown()
    index.own_fields = True
    return index


def add_artworks(index: faiss.Index, store: FeatureStore, rows: Iterable[Any],
                 max_positions: int, on_artwork: Callable[[], None] | None = None
                 ) -> faiss.Index:
    """Add the patches of `rows` after removing any they already have, so re-adding the
    artworks of a build that died after saving the index leaves no duplicates."""
    rows = list(rows)
    remove_artworks(index, [r["id"] for r in rows], max_positions)

    def add_all(target: faiss.Index) -> None:
        vectors, ids, pending = [], [], 0
        for r in rows:
            v = patch_vectors(store.read(r["shard"], r["row"], r["fh"], r["fw"]))
            vectors.append(v)
            ids.append(patch_ids(r["id"], len(v)))
            pending += len(v)
            if pending >= ADD_CHUNK or r is rows[-1]:
                target.add_with_ids(np.concatenate(vectors), np.concatenate(ids))
                vectors, ids, pending = [], [], 0
            if on_artwork:
                on_artwork()

    return _run_on_gpu(index, add_all)


def remove_artworks(index: faiss.Index, artwork_ids: Sequence[int], max_positions: int) -> None:
    """Remove every patch the artworks may have in the index."""
    if len(artwork_ids):
        old = np.concatenate([patch_ids(i, max_positions) for i in artwork_ids])
        index.remove_ids(faiss.IDSelectorBatch(old))


def index_name(generation: int) -> str:
    return f"index-{generation:06d}.faiss"


def drop_generations(index_dir: Path, keep: int | None) -> None:
    """Delete the FAISS files (index and on-disk lists) of every generation but `keep`."""
    for path in [*index_dir.glob("index-*.faiss"), *index_dir.glob(f"index-*{SUFFIX}")]:
        if keep is None or path.stem != Path(index_name(keep)).stem:
            path.unlink()


def save_index(index: faiss.Index, index_dir: Path,
               generation: int) -> tuple[str, dict[str, Any]]:
    """Write under a new name so the manifest can switch to it in one rename; returns the
    name, size and SHA-256 for `index verify`."""
    name = index_name(generation)
    tmp = index_dir / f".{name}.tmp"
    faiss.write_index(index, str(tmp))
    return name, replace_durably(tmp, index_dir / name)


def read_index(path: Path, mmap: bool = False) -> faiss.Index:
    """The index at `path`, memory-mapped for queries where FAISS can (not fast-scan
    lists); IndexDamagedError when unreadable. Without `mmap` its lists are in memory even
    when they were on disk (ondisk.py)."""
    flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
    try:
        if ivfdata_of(path).is_file():
            return read_ondisk(path, in_memory=not mmap)
        return faiss.read_index(str(path), flags)
    except RuntimeError:
        raise IndexDamagedError(
            f"{path} is damaged (missing, truncated or not a FAISS index); run `artifier index "
            f"build ART_DIR --index {path.parent}` to rebuild it") from None
