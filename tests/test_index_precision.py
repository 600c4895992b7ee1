"""bfloat16 features for index builds and queries: the same top 10 as float32, the manifest's
precision honoured by queries, and `auto` chosen by what the hardware has."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from core.config import load_config
from core.errors import ConfigError, IndexMismatchError
from index_build.build import build_index
from index_build.catalog import open_catalog
from index_build.manifest import build_precision, read_manifest
from index_build.store import FeatureStore
from retrieval.catalog_view import IndexView
from retrieval.search import photo_features, query_precision, retrieve
from tests.conftest import PHOTOS, copy_collection, metadata_rows

CPU = torch.device("cpu")
PHOTO_NAMES = ("kodak-kodim22.jpg", "kodak-kodim03.jpg", "kodak-kodim05.jpg")


def _hardware(monkeypatch, native: bool) -> None:
    monkeypatch.setattr(torch.cpu, "get_capabilities",
                        lambda: {"avx2": True, "avx512_bf16": native})


@pytest.fixture(scope="module")
def indexes(tmp_path_factory) -> dict[str, Path]:
    """One small collection (24 artworks of four styles) indexed in each precision."""
    rows = metadata_rows()
    chosen = []
    for style in ("Ukiyo-e", "Pointillism", "Cubism", "Baroque"):
        chosen += [r for r in rows if r["style"] == style][:6]
    root = copy_collection(chosen, tmp_path_factory.mktemp("art"))
    from core.backbone import load_backbone

    backbone = load_backbone("vgg19-caffe")
    built = {}
    for precision in ("float32", "bfloat16"):
        built[precision] = tmp_path_factory.mktemp(precision)
        cfg = load_config(overrides=[f'index.precision="{precision}"'])
        build_index(root, built[precision], cfg, backbone, CPU)
    return built


def test_each_index_is_made_and_recorded_in_its_precision(indexes):
    maps = {}
    for precision, index_dir in indexes.items():
        assert read_manifest(index_dir)["precision"] == precision
        with FeatureStore(index_dir) as store:
            db = open_catalog(index_dir, readonly=True)
            first = db.execute("SELECT shard, row, fh, fw FROM artworks WHERE state='done' "
                               "ORDER BY id LIMIT 1").fetchone()
            db.close()
            maps[precision] = store.read(*first).astype(np.float32)
    difference = np.linalg.norm(maps["bfloat16"] - maps["float32"])
    assert 0 < difference < 0.02 * np.linalg.norm(maps["float32"])


def test_a_bfloat16_index_keeps_the_float32_top_10(indexes):
    """Exact top 10 for shared photos, each index queried in its own precision: the same
    artworks, but for near ties at the cut. A score sums each photo patch's best cosine,
    so a tie is within 1e-3 a patch of the float32 10th score (a swap of two artworks
    0.3% apart happened here: bfloat16 moves scores by about that much)."""
    cfg = load_config()
    for name in PHOTO_NAMES:
        exact, half = (retrieve(PHOTOS / name, indexes[p], 12, True, cfg)
                       for p in ("float32", "bfloat16"))
        scores = {m.id: m.score for m in exact.matches}
        tenth, tie = exact.matches[9].score, 1e-3 * exact.photo_patches
        top, other = {m.id for m in exact.matches[:10]}, {m.id for m in half.matches[:10]}
        for swapped in top ^ other:
            assert abs(scores[swapped] - tenth) <= tie, (name, swapped)
        for m in half.matches[:10]:
            assert m.score == pytest.approx(scores[m.id], abs=tie)


def test_queries_take_the_precision_of_the_manifest(indexes, backbone, monkeypatch, tmp_path):
    _hardware(monkeypatch, native=True)
    cfg = load_config()
    photo = PHOTOS / PHOTO_NAMES[0]
    old = tmp_path / "old"
    shutil.copytree(indexes["bfloat16"], old)
    manifest = read_manifest(old)
    del manifest["precision"]  # an index from before the record: float32
    (old / "manifest.json").write_text(json.dumps(manifest))
    maps = {}
    for name, index_dir in (("bfloat16", indexes["bfloat16"]), ("float32", indexes["float32"]),
                            ("old", old)):
        view = IndexView(index_dir, backbone, cfg)
        maps[name] = photo_features(photo, backbone, view, CPU, 10**8)
        view.close()
    assert maps["bfloat16"].dtype == torch.float32
    assert torch.equal(maps["float32"], maps["old"])
    assert not torch.equal(maps["float32"], maps["bfloat16"])
    relative = (maps["bfloat16"] - maps["float32"]).norm() / maps["float32"].norm()
    assert relative < 0.02


def test_auto_follows_the_hardware_and_the_index(monkeypatch, tmp_path):
    bf16_index = {"backbone": "vgg19-caffe", "precision": "bfloat16"}
    old_index = {"backbone": "vgg19-caffe"}
    _hardware(monkeypatch, native=False)
    assert build_precision(tmp_path, {}, "auto", CPU) == "float32"
    assert build_precision(tmp_path, {}, "auto", torch.device("cuda")) == "bfloat16"
    assert query_precision("auto", bf16_index, CPU) == "float32"  # never emulated
    assert query_precision("bfloat16", old_index, CPU) == "bfloat16"  # unless asked for
    _hardware(monkeypatch, native=True)
    assert build_precision(tmp_path, {}, "auto", CPU) == "bfloat16"
    assert query_precision("auto", bf16_index, CPU) == "bfloat16"
    assert query_precision("auto", old_index, CPU) == "float32"
    # An index already begun keeps its precision, and refuses another.
    assert build_precision(tmp_path, old_index, "auto", CPU) == "float32"
    assert build_precision(tmp_path, old_index, "float32", CPU) == "float32"
    with pytest.raises(IndexMismatchError, match="precision='float32'"):
        build_precision(tmp_path, old_index, "bfloat16", CPU)


@pytest.mark.parametrize("key", ["index.precision", "retrieval.precision"])
def test_an_unknown_precision_is_one_clear_error(key):
    with pytest.raises(ConfigError, match=f"{key} must be one of auto, float32, bfloat16"):
        load_config(overrides=[f'{key}="half"'])
