import os
import shutil
from pathlib import Path

import faiss
import numpy as np
import pytest

from core.config import load_config
from core.errors import (CollectionError, IndexDamagedError, IndexMismatchError,
                             IndexMissingError)
from core.patch_vectors import artwork_of, patch_vectors
from index_build import catalog as cat
from index_build.build import build_index
from index_build.faiss_index import resolve_factory
from index_build.manifest import check_compatible, read_manifest, require_index
from index_build.scan import scan
from index_build.store import FeatureStore
from tests.cli import artifier, assert_one_line_error
from tests.conftest import copy_collection, metadata_rows

SUBSET = 12


def _subset(n: int = SUBSET) -> list[dict]:
    return [r for r in metadata_rows() if r["source_repo"].startswith("jalpv1")][:n]


@pytest.fixture
def collection(tmp_path, art_dir) -> Path:
    """A few shared artworks, their metadata.csv rows, one text file and one truncated JPEG."""
    rows = _subset()
    root = copy_collection(rows, tmp_path / "art")
    (root / "readme.jpg").write_text("not a picture")
    data = (art_dir / rows[0]["file"]).read_bytes()
    (root / "cut.jpg").write_bytes(data[: len(data) // 2])
    return root


@pytest.fixture(scope="module")
def cfg():
    return load_config(overrides=["index.workers=1", "index.shard_size=4", "index.batch_size=4"])


def _rows(index_dir: Path) -> list[dict]:
    db = cat.open_catalog(index_dir)
    rows = [dict(r) for r in db.execute("SELECT * FROM artworks ORDER BY id")]
    db.close()
    return rows


def _state(index_dir: Path) -> dict:
    rows = _rows(index_dir)
    manifest = read_manifest(index_dir)
    index = faiss.read_index(str(index_dir / manifest["index_file"]))
    with FeatureStore(index_dir) as store:
        feats = {r["path"]: store.read(r["shard"], r["row"], r["fh"], r["fw"])
                 for r in rows if r["state"] == "done"}
        query = np.concatenate([patch_vectors(f) for f in list(feats.values())[:3]])
    faiss.extract_index_ivf(index).nprobe = 8
    distances, ids = index.search(query, 5)
    keep = ("id", "path", "hash", "artist", "title", "style", "width", "height", "state",
            "error", "fh", "fw", "indexed")
    return {"rows": [{k: r[k] for k in keep} for r in rows], "feats": feats,
            "ntotal": index.ntotal, "ids": ids, "distances": distances}


def test_metadata_from_csv(collection):
    found = {a.path: a for a in scan(collection)}
    row = _subset()[0]
    assert found[row["file"]].artist == row["artist"]
    assert found[row["file"]].title == row["title"]
    assert found[row["file"]].style == row["style"]
    assert found["readme.jpg"].title == "Readme"


def test_metadata_from_wikiart_layout_and_file_names(tmp_path, art_dir):
    src = art_dir / _subset(1)[0]["file"]
    (tmp_path / "Art_Nouveau_Modern").mkdir()
    shutil.copy(src, tmp_path / "Art_Nouveau_Modern" / "alphonse-mucha_the-seasons-1896.jpg")
    (tmp_path / "loose" / "deeper").mkdir(parents=True)
    shutil.copy(src, tmp_path / "loose" / "deeper" / "sunset.png")
    found = {a.path: a for a in scan(tmp_path)}
    mucha = found["Art_Nouveau_Modern/alphonse-mucha_the-seasons-1896.jpg"]
    assert (mucha.artist, mucha.title, mucha.style, mucha.year) == (
        "Alphonse Mucha", "The seasons", "Art Nouveau Modern", "1896")
    loose = found["loose/deeper/sunset.png"]
    assert (loose.artist, loose.title, loose.style) == ("", "Sunset", "")


def test_build_reports_bad_files_and_indexes_the_rest(collection, tmp_path, cfg, backbone):
    index_dir = tmp_path / "index"
    report = build_index(collection, index_dir, cfg, backbone, "cpu")
    assert report.counts == {"pending": 0, "done": SUBSET, "failed": 2, "missing": 0,
                             "indexed": SUBSET}
    failed = dict(report.failures)
    assert "not an image" in failed["readme.jpg"]
    assert "truncated" in failed["cut.jpg"]
    manifest = require_index(index_dir)
    assert manifest["layer"] == "relu5_3" and manifest["image_size"] == 224
    index = faiss.read_index(str(index_dir / manifest["index_file"]))
    state = _state(index_dir)
    assert index.ntotal == sum((r["fh"] - 2) * (r["fw"] - 2) for r in state["rows"]
                               if r["state"] == "done")
    faiss.extract_index_ivf(index).nprobe = 8
    with FeatureStore(index_dir) as store:
        for r in [r for r in state["rows"] if r["state"] == "done"][:3]:
            own = patch_vectors(store.read(*[
                next(x for x in _rows(index_dir) if x["id"] == r["id"])[k]
                for k in ("shard", "row", "fh", "fw")]))
            _, ids = index.search(own, 1)
            assert (artwork_of(ids[:, 0]) == r["id"]).mean() > 0.8

    again = build_index(collection, index_dir, cfg, backbone, "cpu")
    assert (again.added, again.extracted, again.indexed_now) == (0, 0, 0)
    assert read_manifest(index_dir)["generation"] == manifest["generation"]


def test_interrupted_build_resumes_to_the_same_result(collection, tmp_path, cfg, backbone):
    whole = tmp_path / "whole"
    build_index(collection, whole, cfg, backbone, "cpu")

    broken = tmp_path / "broken"
    seen = []

    def crash(artwork_id: int) -> None:
        seen.append(artwork_id)
        if len(seen) == 7:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_index(collection, broken, cfg, backbone, "cpu", on_artwork=crash)
    db = cat.open_catalog(broken)
    partial = cat.counts(db)
    db.close()
    assert 0 < partial["done"] + partial["failed"] < SUBSET + 2, "some work must be kept"
    resumed = build_index(collection, broken, cfg, backbone, "cpu")
    assert resumed.extracted + resumed.failed_now == SUBSET + 2 - partial["done"] - partial["failed"]

    a, b = _state(whole), _state(broken)
    assert a["rows"] == b["rows"]
    assert a["feats"].keys() == b["feats"].keys()
    for key in a["feats"]:
        assert np.array_equal(a["feats"][key], b["feats"][key])
    assert a["ntotal"] == b["ntotal"]
    assert np.array_equal(a["ids"], b["ids"])
    assert np.allclose(a["distances"], b["distances"])


def test_new_images_are_added_alone(collection, tmp_path, cfg, backbone, art_dir):
    index_dir = tmp_path / "index"
    first = build_index(collection, index_dir, cfg, backbone, "cpu")
    extra = _subset(SUBSET + 2)[SUBSET:]
    for row in extra:
        shutil.copy(art_dir / row["file"], collection / row["file"])
    second = build_index(collection, index_dir, cfg, backbone, "cpu")
    assert (second.added, second.extracted, second.indexed_now) == (2, 2, 2)
    assert second.counts["indexed"] == first.counts["indexed"] + 2
    manifest = read_manifest(index_dir)
    assert manifest["patches"] == sum((r["fh"] - 2) * (r["fw"] - 2)
                                      for r in _state(index_dir)["rows"] if r["state"] == "done")


def test_changed_image_replaces_its_patches(collection, tmp_path, cfg, backbone, art_dir):
    index_dir = tmp_path / "index"
    build_index(collection, index_dir, cfg, backbone, "cpu")
    before = read_manifest(index_dir)["patches"]
    target = collection / _subset(1)[0]["file"]
    shutil.copy(art_dir / _subset(SUBSET + 1)[SUBSET]["file"], target)
    report = build_index(collection, index_dir, cfg, backbone, "cpu")
    assert (report.changed, report.extracted, report.indexed_now) == (1, 1, 1)
    assert read_manifest(index_dir)["patches"] == before


def test_mismatched_settings_are_refused(collection, tmp_path, cfg, backbone):
    index_dir = tmp_path / "index"
    build_index(collection, index_dir, cfg, backbone, "cpu")
    other = load_config(overrides=["index.image_size=320"])
    with pytest.raises(IndexMismatchError, match="image_size=224"):
        build_index(collection, index_dir, other, backbone, "cpu")
    with pytest.raises(IndexMismatchError, match="layer"):
        check_compatible(index_dir, read_manifest(index_dir), {"layer": "relu5_1"})
    with pytest.raises(IndexMissingError, match="no index"):
        require_index(tmp_path / "nowhere")
    with pytest.raises(CollectionError, match="no such folder"):
        build_index(tmp_path / "nothing", index_dir, cfg, backbone, "cpu")


def test_nlist_follows_the_collection_size():
    assert resolve_factory("PCAR256,IVF{nlist},PQ32np", 2249 * 144) == (
        "PCAR256,IVF1024,PQ32np", 1024)
    assert resolve_factory("IVF{nlist},Flat", 50_000 * 144)[1] == 4096
    assert resolve_factory("IVF{nlist},Flat", 100)[1] == 64


def test_cli_build_and_status(collection, tmp_path):
    index_dir = tmp_path / "index"
    result = artifier("index", "build", collection, "--index", index_dir)
    assert result.returncode == 0, result.stderr
    assert f"{SUBSET} done, 2 failed" in result.stdout
    status = artifier("index", "status", index_dir)
    assert status.returncode == 0
    assert "failed 2" in status.stdout and "cut.jpg" in status.stdout
    assert_one_line_error(artifier("index", "status", tmp_path / "none"), "no index")
    assert_one_line_error(artifier("index", "build", tmp_path / "none", "--index", index_dir),
                          "no such folder")


def test_read_many_and_stack_equal_reading_one_by_one(collection, tmp_path, cfg, backbone):
    index_dir = tmp_path / "index"
    build_index(collection, index_dir, cfg, backbone, "cpu")
    rows = [r for r in _rows(index_dir) if r["state"] == "done"]
    picked = rows[::-1][:3] + rows[5:9]
    assert len({r["shard"] for r in picked}) > 1
    with FeatureStore(index_dir) as store:
        many = store.read_many(picked)
        stacked = store.stack(picked)
        assert stacked.shape[0] == len(picked)
        for r, fmap, row in zip(picked, many, stacked):
            one = store.read(r["shard"], r["row"], r["fh"], r["fw"])
            assert np.array_equal(fmap, one) and np.array_equal(row, one)


def test_mapped_and_chunked_shards_read_alike_and_a_cut_one_is_damaged(collection, tmp_path,
                                                                       cfg, backbone):
    """New shards are memory-mapped; a chunked one (built before 2026-11-25) goes through
    HDF5 and reads the same; a shard cut short is reported, not read past its end, also
    when it is cut after the store opened it."""
    import h5py

    index_dir = tmp_path / "index"
    build_index(collection, index_dir, cfg, backbone, "cpu")
    rows = [r for r in _rows(index_dir) if r["state"] == "done"]
    shard = index_dir / "features" / rows[0]["shard"]
    mine = [r for r in rows if r["shard"] == rows[0]["shard"]]
    with FeatureStore(index_dir) as store:
        mapped = [np.array(m) for m in store.read_many(mine)]
        assert isinstance(store._dataset(rows[0]["shard"]), np.memmap)
    with h5py.File(shard, "r") as handle:
        flat = handle["feats"][:]
    with h5py.File(shard, "w") as handle:
        handle.create_dataset("feats", data=flat, chunks=(64, flat.shape[1]))
    with FeatureStore(index_dir) as store:
        assert not isinstance(store._dataset(rows[0]["shard"]), np.memmap)
        for a, b, c in zip(mapped, store.read_many(mine), store.stack(mine)):
            assert np.array_equal(a, b) and np.array_equal(a, c)
    with h5py.File(shard, "w") as handle:
        handle.create_dataset("feats", data=flat)
    with FeatureStore(index_dir) as store:
        store.stack(mine[:1])
        with open(shard, "r+b") as handle:  # cut while the store has it open
            handle.truncate(shard.stat().st_size - 4096)
        with pytest.raises(IndexDamagedError, match="shorter than the catalog says"):
            store.stack(mine)
    for read in (FeatureStore.read_many, FeatureStore.stack):
        with FeatureStore(index_dir) as store, pytest.raises(IndexDamagedError, match="repair"):
            read(store, mine)


def test_a_name_that_is_not_utf8_is_skipped_with_a_note(collection, tmp_path, cfg, backbone,
                                                         art_dir):
    shutil.copy(art_dir / _subset()[0]["file"], collection / os.fsdecode(b"caf\xe9.jpg"))
    report = build_index(collection, tmp_path / "index", cfg, backbone, "cpu")
    assert report.counts["done"] == SUBSET
    assert any("not UTF-8" in note and "caf\\xe9.jpg" in note for note in report.notes)


def test_too_few_patches_to_train_is_one_line(tmp_path):
    root = copy_collection(_subset(1), tmp_path / "one")
    result = artifier("index", "build", root, "--index", tmp_path / "index")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]  # after the features progress line
    assert last.startswith("error:") and "needs at least 256" in last and "add artworks" in last
