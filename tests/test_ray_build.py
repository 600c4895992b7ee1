"""`index build --engine ray`: the same index as the local build, resumable, on a local Ray."""
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.config import load_config
from index_build import catalog as cat
from index_build.build import build_index
from index_build.faiss_index import is_fast_scan, read_index
from index_build.manifest import read_manifest
from index_build.ondisk import ivfdata_of
from index_build.store import FeatureStore
from index_build.verify import verify_index
from retrieval.search import retrieve
from tests.cli import ARTIFIER, artifier, assert_one_line_error
from tests.conftest import ART, PHOTOS, copy_collection, metadata_rows
from tests.test_sources import write_shard

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.cluster

SETS = ["index.shard_size=4", "index.batch_size=4", "index.workers=1"]
# Lists merged on disk; the default fast-scan index merges in memory (test_shard_merge.py,
# and test_parquet_shards_through_ray through Ray).
ON_DISK = SETS + ['index.factory="PCAR256,IVF{nlist},PQ32np"']
QUERIES = ["kodak-kodim22.jpg", "chelsea-cat.jpg", "kodak-kodim05.jpg"]


def _slice() -> list[dict]:
    """20 WikiArt squares and 4 Chicago paintings of other shapes (maps of several sizes)."""
    rows = metadata_rows()
    return ([r for r in rows if r["source_repo"].startswith("jalpv1")][::97][:20]
            + [r for r in rows if r["source_repo"] == "klv4de/ArtWall"][:4])


@pytest.fixture(scope="module")
def cfg() -> dict:
    return load_config(overrides=ON_DISK)


@pytest.fixture(scope="module")
def collection(tmp_path_factory) -> Path:
    rows = _slice()
    root = copy_collection(rows, tmp_path_factory.mktemp("art"))
    data = (ART / rows[0]["file"]).read_bytes()
    (root / "cut.jpg").write_bytes(data[: len(data) // 3])
    return root


@pytest.fixture(scope="module")
def local(tmp_path_factory, collection, cfg, backbone) -> Path:
    index_dir = tmp_path_factory.mktemp("local")
    build_index(collection, index_dir, cfg, backbone, "cpu")
    return index_dir


@pytest.fixture(scope="module")
def on_ray(tmp_path_factory, collection) -> Path:
    """Built as a user would: the CLI starts Ray on this machine's 2 CPUs, then stops it."""
    index_dir = tmp_path_factory.mktemp("ray")
    result = artifier("index", "build", collection, "--index", index_dir, "--engine", "ray",
                      *[arg for s in ON_DISK for arg in ("--set", s)])
    assert result.returncode == 0, result.stderr
    assert "ray: " in result.stdout and "1 failed" in result.stdout
    return index_dir


@pytest.fixture(scope="module")
def ray_here():
    """Ray in this process for the tests that call the engine directly; builds use it as is."""
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=500 * 2**20,
             log_to_driver=False)
    yield
    ray.shutdown()


def _rows(index_dir: Path) -> list[dict]:
    db = cat.open_catalog(index_dir)
    rows = [dict(r) for r in db.execute("SELECT * FROM artworks ORDER BY id")]
    db.close()
    return rows


def _catalog(index_dir: Path) -> list[dict]:
    """What must agree between engines; not where a map sits in which feature shard."""
    keep = ("id", "path", "hash", "state", "error", "width", "height", "fh", "fw", "indexed")
    return [{k: r[k] for k in keep} for r in _rows(index_dir)]


def _faiss(index_dir: Path):
    return read_index(index_dir / read_manifest(index_dir)["index_file"], mmap=True)


def test_ray_build_equals_the_local_build(local, on_ray, tmp_path):
    rows = _catalog(local)
    assert rows == _catalog(on_ray)
    assert [r["state"] for r in rows].count("failed") == 1
    assert len({(r["fh"], r["fw"]) for r in rows if r["state"] == "done"}) > 1, "several sizes"
    assert _faiss(on_ray).ntotal == _faiss(local).ntotal == read_manifest(on_ray)["patches"]
    name = read_manifest(on_ray)["index_file"]
    assert ivfdata_of(on_ray / name).name in read_manifest(on_ray)["files"], "merged on disk"
    assert verify_index(on_ray) == []

    damaged = shutil.copytree(on_ray, tmp_path / "damaged")
    with open(ivfdata_of(damaged / name), "r+b") as handle:
        handle.truncate(100)
    assert [p.file for p in verify_index(damaged)] == [ivfdata_of(damaged / name).name]

    with FeatureStore(local) as a, FeatureStore(on_ray) as b:
        for p, q in zip(_rows(local), _rows(on_ray)):
            if p["state"] == "done":
                want = a.read(p["shard"], p["row"], p["fh"], p["fw"]).astype(np.float32)
                got = b.read(q["shard"], q["row"], q["fh"], q["fw"]).astype(np.float32)
                assert np.allclose(got, want, rtol=1e-2, atol=1e-2), p["path"]

    qcfg = load_config()
    for photo in QUERIES:
        for exact in (True, False):
            want = retrieve(PHOTOS / photo, local, 10, exact, qcfg).matches
            got = retrieve(PHOTOS / photo, on_ray, 10, exact, qcfg).matches
            assert [m.path for m in got] == [m.path for m in want], (photo, exact)
            assert np.allclose([m.score for m in got], [m.score for m in want], rtol=1e-3)


def test_rerun_adds_nothing_then_updates_by_shards(on_ray, collection, tmp_path, cfg, backbone,
                                                   ray_here):
    from index_build.ray_engine import build_on_ray

    index_dir = tmp_path / "index"
    shutil.copytree(on_ray, index_dir)
    again = build_on_ray(collection, index_dir, cfg, backbone)
    assert (again.added, again.extracted, again.indexed_now) == (0, 0, 0)
    assert read_manifest(index_dir)["generation"] == 1

    grown = tmp_path / "art"
    shutil.copytree(collection, grown)
    extra = [r for r in metadata_rows() if r["source_repo"].startswith("jalpv1")][1::97][:3]
    for r in extra:
        (grown / r["file"]).write_bytes((ART / r["file"]).read_bytes())
    gone = sorted(p for p in grown.glob("*.jpg") if p.name != "cut.jpg")[0]
    gone.unlink()
    report = build_on_ray(grown, index_dir, cfg, backbone)
    assert (report.added, report.gone, report.extracted, report.removed_now) == (3, 1, 3, 1)
    assert report.worker_peak_mb and all(200 < mb < 8000 for mb in report.worker_peak_mb)
    db = cat.open_catalog(index_dir)
    expected = cat.indexed_patches(db)
    db.close()
    assert _faiss(index_dir).ntotal == expected
    assert sorted(p.name for p in index_dir.glob("index-*")) == ["index-000002.faiss",
                                                                "index-000002.ivfdata"]
    assert verify_index(index_dir) == []

    # The local engine takes over an index merged on disk: its lists move back to memory.
    (grown / extra[0]["file"]).unlink()
    local = build_index(grown, index_dir, cfg, backbone, "cpu")
    assert local.removed_now == 1
    assert sorted(p.name for p in index_dir.glob("index-*")) == ["index-000003.faiss"]
    assert _faiss(index_dir).ntotal < expected
    assert verify_index(index_dir) == []


def test_interrupted_ray_build_resumes(collection, local, tmp_path, cfg, backbone, ray_here):
    from index_build.ray_engine import build_on_ray

    seen = []

    def crash(artwork_id: int) -> None:
        seen.append(artwork_id)
        if len(seen) == 10:
            raise KeyboardInterrupt

    index_dir = tmp_path / "index"
    with pytest.raises(KeyboardInterrupt):
        build_on_ray(collection, index_dir, cfg, backbone, on_artwork=crash)
    db = cat.open_catalog(index_dir)
    kept = cat.counts(db)
    db.close()
    assert 0 < kept["done"] + kept["failed"] < 10, "whole shards are kept, the rest redone"
    resumed = build_on_ray(collection, index_dir, cfg, backbone)
    assert resumed.extracted + resumed.failed_now == 25 - kept["done"] - kept["failed"]
    assert _catalog(index_dir) == _catalog(local)
    assert _faiss(index_dir).ntotal == _faiss(local).ntotal


def test_parquet_shards_through_ray(tmp_path, backbone, ray_here):
    from index_build.ray_engine import build_on_ray

    files = [ART / r["file"] for r in metadata_rows() if r["source_repo"].startswith("jalpv1")]
    root = tmp_path / "wikiart" / "data"
    root.mkdir(parents=True)
    first = [p.read_bytes() for p in files[:5]]
    first[2] = b"not an image at all"
    write_shard(root / "train-00000-of-00002.parquet", first)
    write_shard(root / "train-00001-of-00002.parquet", [p.read_bytes() for p in files[5:9]])
    report = build_on_ray(root.parent, tmp_path / "index", load_config(overrides=SETS),
                          backbone)
    assert report.counts["done"] == 8 and report.counts["failed"] == 1
    assert is_fast_scan(_faiss(tmp_path / "index")) and verify_index(tmp_path / "index") == []
    assert not list((tmp_path / "index").glob("*.ivfdata")), "fast-scan lists stay in memory"
    assert report.failures[0][0] == "data/train-00000-of-00002.parquet#2"

    crop = tmp_path / "crop.png"
    Image.open(files[6]).crop((10, 10, 200, 200)).save(crop)
    best = retrieve(crop, tmp_path / "index", 1, False, load_config()).matches[0]
    assert best.path == str(root / "train-00001-of-00002.parquet#1")


def test_engine_mistakes_are_one_line(tmp_path, collection):
    fake = tmp_path / "no-ray" / "ray"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError(\"No module named 'ray'\")\n")
    env = os.environ | {"PYTHONPATH": str(fake.parent)}
    result = subprocess.run([str(ARTIFIER), "index", "build", str(collection), "--index",
                             str(tmp_path / "i"), "--engine", "ray"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert_one_line_error(result, "pip install -e '.[cluster]'")
    assert_one_line_error(artifier("index", "build", collection, "--index", tmp_path / "i",
                                   "--engine", "spark"), "--engine must be local or ray")
    assert_one_line_error(artifier("index", "build", collection, "--index", tmp_path / "i",
                                   "--address", "10.0.0.1:6379"), "--engine ray")
    assert_one_line_error(artifier("index", "build", collection, "--index", tmp_path / "i",
                                   "--set", "index.ray_workers=-1"), "index.ray_workers")
