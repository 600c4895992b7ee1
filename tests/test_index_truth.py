"""An index that tells the truth: deletions, damage, moves, locks and one-line errors."""
import json
import os
import shutil
import sqlite3
from pathlib import Path

import faiss
import pytest

from artifier.session import Artifier
from core.config import load_config
from core.errors import IndexDamagedError
from core.patch_vectors import artwork_of, patch_vectors
from index_build.build import build_index
from index_build.lock import index_lock
from index_build.manifest import read_manifest
from index_build.store import FeatureStore
from index_build.verify import verify_index
from retrieval.search import retrieve
from tests.cli import artifier, assert_one_line_error
from tests.conftest import copy_collection, metadata_rows

SUBSET = 12


def _rows() -> list[dict]:
    return [r for r in metadata_rows() if r["source_repo"].startswith("jalpv1")][:SUBSET]


@pytest.fixture(scope="module")
def cfg():
    return load_config(overrides=["index.workers=0", "index.shard_size=4", "index.batch_size=4"])


@pytest.fixture(scope="module")
def built(tmp_path_factory, cfg, backbone) -> tuple[Path, Path]:
    """A 12-artwork collection and its index (three shards), built once; tests copy both."""
    root = copy_collection(_rows(), tmp_path_factory.mktemp("art") / "art")
    index_dir = tmp_path_factory.mktemp("index") / "index"
    build_index(root, index_dir, cfg, backbone, "cpu")
    return root, index_dir


@pytest.fixture
def fresh(built, tmp_path) -> tuple[Path, Path]:
    """A private copy of the built collection and index, the manifest pointing at the copy."""
    root = shutil.copytree(built[0], tmp_path / "art")
    index_dir = shutil.copytree(built[1], tmp_path / "index")
    manifest = json.loads((index_dir / "manifest.json").read_text())
    manifest["collection"] = str(root)
    (index_dir / "manifest.json").write_text(json.dumps(manifest))
    return root, index_dir


def _done(index_dir: Path) -> list[sqlite3.Row]:
    db = sqlite3.connect(index_dir / "catalog.sqlite")
    db.row_factory = sqlite3.Row
    rows = db.execute("SELECT * FROM artworks WHERE state='done' ORDER BY id").fetchall()
    db.close()
    return rows


def _own_hits(index_dir: Path, row: sqlite3.Row) -> float:
    """Share of an artwork's own patches whose nearest FAISS patch is its own."""
    index = faiss.read_index(str(index_dir / read_manifest(index_dir)["index_file"]))
    faiss.extract_index_ivf(index).nprobe = 64
    with FeatureStore(index_dir) as store:
        own = patch_vectors(store.read(row["shard"], row["row"], row["fh"], row["fw"]))
    _, ids = index.search(own, 1)
    return float((artwork_of(ids[:, 0]) == row["id"]).mean())


def _top(photo: Path, index_dir: Path, exact: bool, n: int = 5) -> list[str]:
    return [m.path for m in retrieve(photo, index_dir, n, exact, load_config()).matches]


def test_deleted_artwork_leaves_the_index(fresh, cfg, backbone, tmp_path):
    root, index_dir = fresh
    victim = _done(index_dir)[5]
    query = tmp_path / "query.jpg"
    shutil.copy(root / victim["path"], query)
    assert _top(query, index_dir, False)[0] == str(root / victim["path"])
    (root / victim["path"]).unlink()

    report = build_index(root, index_dir, cfg, backbone, "cpu")
    assert report.gone == 1
    assert report.counts["done"] == SUBSET - 1 and report.counts["indexed"] == SUBSET - 1
    for exact in (False, True):
        assert str(root / victim["path"]) not in _top(query, index_dir, exact, SUBSET)
    assert _own_hits(index_dir, victim) == 0.0
    index = faiss.read_index(str(index_dir / read_manifest(index_dir)["index_file"]))
    assert index.ntotal == sum((r["fh"] - 2) * (r["fw"] - 2) for r in _done(index_dir))

    shutil.copy(query, root / victim["path"])
    back = build_index(root, index_dir, cfg, backbone, "cpu")
    assert back.counts["indexed"] == SUBSET
    assert _top(query, index_dir, False)[0] == str(root / victim["path"])


def test_artwork_deleted_after_the_build_is_not_returned(fresh, tmp_path):
    root, index_dir = fresh
    victim = _done(index_dir)[2]
    query = tmp_path / "query.jpg"
    shutil.move(root / victim["path"], query)
    result = retrieve(query, index_dir, 3, False, load_config())
    assert str(root / victim["path"]) not in [m.path for m in result.matches]
    assert len(result.matches) == 3 and result.gone == 1


@pytest.mark.parametrize("mode", ["faiss", "exact"])
def test_more_best_matches_gone_than_spares_still_fills_the_top(fresh, tmp_path, monkeypatch,
                                                                mode):
    """The re-rank's exact pass scores the best `top` + `rescore` by estimate, and
    resident mode returns the best `top` + GONE_SPARES: when more of those than the
    spares have left the collection, both reach further down."""
    from retrieval import search

    root, index_dir = fresh
    query = tmp_path / "query.jpg"
    shutil.copy(root / _done(index_dir)[0]["path"], query)
    ranking = [m.path for m in retrieve(query, index_dir, SUBSET, True, load_config()).matches]
    for path in ranking[:3]:
        Path(path).unlink()
    monkeypatch.setattr(search, "GONE_SPARES", 1)
    cfg = load_config(overrides=[f"retrieval.shortlist={SUBSET}", "retrieval.rescore=1",
                                 f'retrieval.mode="{mode}"'])
    result = retrieve(query, index_dir, 3, False, cfg)
    assert [m.path for m in result.matches] == ranking[3:6]
    assert result.gone == 3


def test_lost_manifest_is_rebuilt_from_the_catalog(fresh, cfg, backbone, photo_path):
    root, index_dir = fresh
    before = _top(photo_path, index_dir, False)
    (index_dir / "manifest.json").unlink()
    assert_one_line_error(artifier("retrieve", photo_path, "--index", index_dir),
                          "manifest.json", "index build")
    report = build_index(root, index_dir, cfg, backbone, "cpu")
    assert any("manifest.json" in line for line in report.repairs)
    assert read_manifest(index_dir)["index_file"]
    assert _top(photo_path, index_dir, False) == before
    assert verify_index(index_dir) == []


def test_fast_path_ranks_every_artwork(fresh, photo_path):
    _, index_dir = fresh
    few_hits = load_config(overrides=["retrieval.k=2", "retrieval.nprobe=1",
                                      "retrieval.shortlist=2"])
    fast = retrieve(photo_path, index_dir, 100, False, few_hits).matches
    exact = retrieve(photo_path, index_dir, 100, True, load_config()).matches
    assert [m.id for m in fast] == [m.id for m in exact]
    assert len(fast) == SUBSET
    # --pick SUBSET, as `artifier transfer` takes it: the last of a fast retrieval.
    with Artifier(index_dir, config=few_hits) as art:
        assert art.retrieve(photo_path, top=SUBSET)[SUBSET - 1].path == exact[-1].path


def _truncate_faiss(index_dir: Path) -> str:
    path = index_dir / read_manifest(index_dir)["index_file"]
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path.name


def _delete_shard(index_dir: Path) -> str:
    path = index_dir / "features" / _done(index_dir)[0]["shard"]
    path.unlink()
    return path.name


def _garble_manifest(index_dir: Path) -> str:
    (index_dir / "manifest.json").write_text('{"format": 1, "backbone": ')
    return "manifest.json"


@pytest.mark.parametrize("damage", [_truncate_faiss, _delete_shard, _garble_manifest])
def test_damage_is_found_and_repaired(fresh, cfg, backbone, photo_path, damage):
    root, index_dir = fresh
    assert verify_index(index_dir) == []
    assert artifier("index", "verify", index_dir).returncode == 0
    before = _top(photo_path, index_dir, True)
    name = damage(index_dir)
    problems = [str(p) for p in verify_index(index_dir)]
    assert problems and any(name in p for p in problems), problems
    checked = artifier("index", "verify", index_dir)
    assert checked.returncode == 1 and name in checked.stdout + checked.stderr
    assert_one_line_error(artifier("retrieve", photo_path, "--index", index_dir), name)

    report = build_index(root, index_dir, cfg, backbone, "cpu")
    assert any(name in line for line in report.repairs), report.repairs
    assert verify_index(index_dir) == []
    assert report.counts["indexed"] == SUBSET
    assert _top(photo_path, index_dir, True) == before
    assert _top(photo_path, index_dir, False)[:3] == before[:3]


def test_damaged_catalog_is_one_line_everywhere(fresh, photo_path):
    root, index_dir = fresh
    (index_dir / "catalog.sqlite").write_bytes(os.urandom(4096))
    for wal in index_dir.glob("catalog.sqlite-*"):
        wal.unlink()
    for args in (("retrieve", photo_path, "--index", index_dir),
                 ("index", "status", index_dir), ("index", "verify", index_dir),
                 ("index", "build", root, "--index", index_dir)):
        assert_one_line_error(artifier(*args), "catalog.sqlite")
    with pytest.raises(IndexDamagedError, match="catalog.sqlite"):
        verify_index(index_dir)


def test_collection_path_is_absolute_and_a_move_is_one_line(built, tmp_path, photo_path):
    shutil.copytree(built[0], tmp_path / "work" / "art")
    made = artifier("index", "build", "art", "--index", "idx", "--set", "index.shard_size=4",
                    cwd=tmp_path / "work")
    assert made.returncode == 0, made.stderr
    index_dir = tmp_path / "work" / "idx"
    elsewhere = artifier("retrieve", photo_path, "--index", index_dir, "--json", cwd=tmp_path)
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert Path(json.loads(elsewhere.stdout)["matches"][0]["path"]).is_file()

    shutil.move(tmp_path / "work" / "art", tmp_path / "moved")
    assert_one_line_error(artifier("retrieve", photo_path, "--index", index_dir),
                          "moved", "index build")
    again = artifier("index", "build", tmp_path / "moved", "--index", index_dir)
    assert again.returncode == 0, again.stderr
    assert "0 new, 0 changed" in again.stdout
    found = artifier("retrieve", photo_path, "--index", index_dir, "--json")
    assert json.loads(found.stdout)["matches"][0]["path"].startswith(str(tmp_path / "moved"))


@pytest.mark.parametrize("content", [b"\x89\xff\x00\x13garbage\xfe" * 40,
                                     "file,artist\nx.jpg,Dürer\n".encode("latin-1")])
def test_metadata_that_is_not_utf8_is_one_line(fresh, tmp_path, content):
    root, _ = fresh
    (root / "metadata.csv").write_bytes(content)
    assert_one_line_error(artifier("index", "build", root, "--index", tmp_path / "new"),
                          "metadata.csv", "UTF-8")


def test_second_writer_is_refused(fresh):
    root, index_dir = fresh
    with index_lock(index_dir):
        assert_one_line_error(artifier("index", "build", root, "--index", index_dir),
                              "another process")
    assert artifier("index", "build", root, "--index", index_dir).returncode == 0


def test_small_build_prints_no_faiss_warnings(built, tmp_path):
    result = artifier("index", "build", built[0], "--index", tmp_path / "idx")
    assert result.returncode == 0, result.stderr
    assert "WARNING clustering" not in result.stderr


def test_nothing_indexable_exits_non_zero(tmp_path):
    root = tmp_path / "art"
    root.mkdir()
    for name in ("a.jpg", "b.png"):
        (root / name).write_text("not a picture")
    result = artifier("index", "build", root, "--index", tmp_path / "idx")
    assert result.returncode == 1
    assert "a.jpg" in result.stdout and "not an image" in result.stdout
    assert result.stderr.strip().splitlines()[-1].startswith("error: nothing could be indexed")
