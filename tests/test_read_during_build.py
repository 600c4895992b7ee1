"""Readers take no lock: a query that reads the manifest just before a build switches it
to a new FAISS file, and deletes the old one, opens the new file instead of failing."""
import shutil
import subprocess
import threading

from core.config import load_config
from index_build.faiss_index import index_name
from index_build.manifest import read_manifest, write_manifest
from retrieval.catalog_view import IndexView
from tests.cli import ARTIFIER
from tests.conftest import copy_collection, metadata_rows


def test_a_reader_that_loses_the_switch_opens_the_new_file(small_index, tmp_path, backbone):
    index_dir = tmp_path / "index"
    shutil.copytree(small_index, index_dir)
    view = IndexView(index_dir, backbone, load_config())
    manifest = read_manifest(index_dir)
    old = manifest["index_file"]
    new = index_name(manifest["generation"] + 1)
    (index_dir / old).rename(index_dir / new)  # what a build does, in the worst order
    write_manifest(index_dir, manifest | {"index_file": new,
                                          "generation": manifest["generation"] + 1})
    try:
        assert view.faiss.ntotal == manifest["patches"]
    finally:
        view.close()


def test_queries_against_a_build_that_adds_artworks(tmp_path, backbone):
    rows = metadata_rows()[:12]
    root = copy_collection(rows[:6], tmp_path / "art")
    index_dir = tmp_path / "index"
    cfg = load_config()
    build = [str(ARTIFIER), "index", "build", str(root), "--index", str(index_dir)]
    assert subprocess.run(build, capture_output=True).returncode == 0
    errors, reads, stop = [], [0], threading.Event()

    def read_loop() -> None:
        while not stop.is_set():
            try:
                view = IndexView(index_dir, backbone, cfg)
                try:
                    assert view.faiss.ntotal > 0
                    reads[0] += 1
                finally:
                    view.close()
            except Exception as exc:  # noqa: BLE001 - any failure of a reader is the defect
                errors.append(repr(exc))

    reader = threading.Thread(target=read_loop)
    reader.start()
    try:
        for count in range(7, 13):  # each build adds one artwork: a new FAISS generation
            copy_collection(rows[:count], root)
            done = subprocess.run(build, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr
    finally:
        stop.set()
        reader.join(timeout=60)
    assert not errors, errors[:3]
    assert reads[0] > 6 and read_manifest(index_dir)["generation"] >= 7
