"""A synthetic collection at the original's scale, made from a real index's features.

The first artworks are the real ones, unchanged; the rest are noisy copies (per-channel
gain, additive noise, random mirror), so the FAISS stage and retrieval run at 50,000
artworks without 8 hours of feature extraction, and every real artwork has look-alikes.
Its collection is a folder of links to the source images, since queries skip matches
whose file is gone.

    python bench/synthetic.py indexes/art indexes/synthetic-50k --artworks 50000
"""
from __future__ import annotations

import argparse
import sqlite3
import time
from pathlib import Path

import numpy as np
import torch

from index_build import catalog as cat
from index_build.manifest import BINDING, read_manifest, write_manifest
from index_build.store import FeatureStore, write_shard

SHARD = 512


def noisy_copy(fmap: torch.Tensor, gen: torch.Generator, noise: float) -> np.ndarray:
    """A look-alike of an (H, W, C) map: per-channel gain, additive noise, mirrored half
    the time. Drawn on the map's device (a GPU makes 50,000 in seconds)."""
    f = fmap.float()
    gain = 1.0 + 0.25 * torch.randn(f.shape[-1], generator=gen, device=f.device)
    f = f * gain + noise * f.std() * torch.randn(f.shape, generator=gen, device=f.device)
    if torch.rand((), generator=gen, device=f.device) < 0.5:
        f = f.flip(1)
    return f.clamp_min(0).half().cpu().numpy()


def make_synthetic(src: Path, dst: Path, artworks: int, noise: float = 0.5, seed: int = 0,
                   device: str = "cpu") -> int:
    """Write DST's catalog, feature shards and manifest (no FAISS index yet)."""
    manifest = read_manifest(src)
    if manifest is None:
        raise SystemExit(f"no index at {src}: run `make index` first")
    source = sqlite3.connect(src / cat.CATALOG_FILE)
    source.row_factory = sqlite3.Row
    rows = source.execute("SELECT * FROM artworks WHERE state='done' ORDER BY id").fetchall()
    source.close()
    db = cat.open_catalog(dst)
    if db.execute("SELECT COUNT(*) FROM artworks").fetchone()[0] == artworks:
        db.close()
        return artworks
    db.execute("DELETE FROM artworks")
    gen = torch.Generator(device).manual_seed(seed)
    with FeatureStore(src) as store:
        real_maps = [np.array(m) for m in store.read_many(rows)]  # read once, kept past close
    for start in range(0, artworks, SHARD):
        maps, meta = [], []
        for i in range(start, min(artworks, start + SHARD)):
            r, fmap = rows[i % len(rows)], real_maps[i % len(rows)]
            real = i < len(rows)
            maps.append(fmap if real else
                        noisy_copy(torch.from_numpy(fmap).to(device), gen, noise))
            meta.append((r["path"] if real else f"synthetic/{i:06d}/{r['path']}", r, fmap.shape))
        name = f"shard-{start // SHARD + 1:06d}.h5"
        offsets, record = write_shard(dst, name, maps)
        with db:
            db.execute("INSERT OR REPLACE INTO shards (name, size, sha256) VALUES (?, ?, ?)",
                       (name, record["size"], record["sha256"]))
            for (path, r, shape), row in zip(meta, offsets):
                db.execute(
                    "INSERT INTO artworks (path, hash, size, mtime, artist, title, style, year,"
                    " state, shard, row, fh, fw) VALUES (?, '', 0, 0, ?, ?, ?, ?, 'done', ?, ?, ?, ?)",
                    (path, r["artist"], r["title"], r["style"], r["year"], name, row,
                     shape[0], shape[1]))
    db.close()
    collection = _link_collection(dst, manifest["collection"])
    # The copies are in the source's precision (a bfloat16 build's maps stay bfloat16's).
    kept = [k for k in (*BINDING, "format", "factory_template", "precision") if k in manifest]
    write_manifest(dst, {k: manifest[k] for k in kept}
                   | {"created": manifest["created"], "synthetic_from": str(src),
                      "collection": str(collection.resolve())})
    return artworks


def _link_collection(dst: Path, source: str) -> Path:
    """DST/collection: a link to each artwork's source image under its catalog path."""
    root = dst / "collection"
    db = sqlite3.connect(dst / cat.CATALOG_FILE)
    for (path,) in db.execute("SELECT path FROM artworks"):
        link = root / path
        if not link.is_symlink():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(Path(source).resolve() / path.split("/", 2)[-1]
                            if path.startswith("synthetic/") else Path(source).resolve() / path)
    db.close()
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path)
    parser.add_argument("dst", type=Path)
    parser.add_argument("--artworks", type=int, default=50_000)
    parser.add_argument("--noise", type=float, default=0.5)
    parser.add_argument("--device", default="cpu", help="where the noise is drawn")
    args = parser.parse_args()
    start = time.perf_counter()
    make_synthetic(args.src, args.dst, args.artworks, args.noise, device=args.device)
    print(f"{args.artworks} artworks in {args.dst} ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
