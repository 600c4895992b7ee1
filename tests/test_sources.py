"""Collections as users download them: huggan/wikiart parquet shards and the ArtGAN tree."""
import json
import re
import os
import shutil
from pathlib import Path

import pytest

from core.config import load_config
from core.errors import CollectionError, ImageError
from index_build import catalog as cat
from index_build.artgan import canonical
from index_build.build import build_index
from index_build.sources import detect, open_located, scan
from retrieval.search import retrieve
from tests.conftest import ART, metadata_rows

STYLES = ["Abstract_Expressionism", "Baroque", "Impressionism", "Ukiyo_e"]
ARTISTS = ["Unknown Artist", "claude-monet", "katsushika-hokusai"]


@pytest.fixture(scope="module")
def cfg():
    return load_config(overrides=["index.workers=1", "index.shard_size=4", "index.batch_size=4"])


def _files(n: int, skip: int = 0) -> list[Path]:
    rows = [r for r in metadata_rows() if r["source_repo"].startswith("jalpv1")]
    return [ART / r["file"] for r in rows[skip:skip + n]]


def write_shard(path: Path, images: list[bytes | None], with_names: bool = True) -> None:
    """A shard in the huggan/wikiart schema: the image as an Image struct, class ids, and
    the class names in the `huggingface` schema metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = len(images)
    features = {"image": {"_type": "Image"},
                "artist": {"names": ARTISTS, "_type": "ClassLabel"},
                "genre": {"names": ["landscape", "portrait"], "_type": "ClassLabel"},
                "style": {"names": STYLES, "_type": "ClassLabel"}}
    table = pa.table({
        "image": pa.array([{"bytes": data, "path": None} for data in images],
                          pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
        "artist": pa.array([i % len(ARTISTS) for i in range(n)], pa.int64()),
        "genre": pa.array([i % 2 for i in range(n)], pa.int64()),
        "style": pa.array([i % len(STYLES) for i in range(n)], pa.int64()),
    })
    if with_names:
        table = table.replace_schema_metadata(
            {"huggingface": json.dumps({"info": {"features": features}})})
    pq.write_table(table, path, row_group_size=3)


@pytest.fixture
def shards(tmp_path) -> Path:
    root = tmp_path / "wikiart-parquet" / "data"
    root.mkdir(parents=True)
    first = [p.read_bytes() for p in _files(5)]
    first[2] = b"not an image at all"
    write_shard(root / "train-00000-of-00002.parquet", first)
    write_shard(root / "train-00001-of-00002.parquet", [p.read_bytes() for p in _files(4, 5)])
    return root.parent


def test_parquet_rows_are_artworks_with_class_names(shards):
    assert detect(shards) == "parquet"
    found = scan(shards, "parquet")
    assert [a.path for a in found[:2]] == ["data/train-00000-of-00002.parquet#0",
                                           "data/train-00000-of-00002.parquet#1"]
    assert len(found) == 9
    assert [a.style for a in found[:4]] == ["Abstract Expressionism", "Baroque", "Impressionism",
                                           "Ukiyo e"]
    assert [a.artist for a in found[:3]] == ["Unknown Artist", "Claude Monet", "Katsushika Hokusai"]
    row = open_located(shards / found[4].path, 10**8)
    assert row.size == open_located(_files(5)[4], 10**8).size
    with pytest.raises(ImageError, match="#2: not an image"):
        open_located(shards / found[2].path, 10**8)


def test_shards_beside_image_files_are_refused(shards):
    shutil.copy(_files(1)[0], shards / "stray.jpg")
    with pytest.raises(CollectionError, match="both parquet shards and image files"):
        detect(shards)


def test_parquet_without_names_uses_the_ids(tmp_path):
    write_shard(tmp_path / "s.parquet", [p.read_bytes() for p in _files(2)], with_names=False)
    assert [a.style for a in scan(tmp_path, "parquet")] == ["0", "1"]


def test_parquet_build_reports_the_bad_row_resumes_and_grows(shards, tmp_path, cfg, backbone):
    index_dir = tmp_path / "index"
    report = build_index(shards, index_dir, cfg, backbone, "cpu")
    assert report.counts["done"] == 8 and report.counts["failed"] == 1
    assert report.failures[0][0] == "data/train-00000-of-00002.parquet#2"
    assert "not an image" in report.failures[0][1]

    again = build_index(shards, index_dir, cfg, backbone, "cpu")
    assert (again.added, again.changed, again.gone, again.extracted) == (0, 0, 0, 0)

    write_shard(shards / "data" / "train-00002.parquet", [p.read_bytes() for p in _files(2, 9)])
    grown = build_index(shards, index_dir, cfg, backbone, "cpu")
    assert (grown.added, grown.extracted, grown.counts["done"]) == (2, 2, 10)

    first = shards / "data" / "train-00000-of-00002.parquet"
    os.utime(first, (0, 0))  # touched, not changed: read again, nothing to redo
    touched = build_index(shards, index_dir, cfg, backbone, "cpu")
    assert (touched.changed, touched.extracted) == (0, 0)

    crop = tmp_path / "crop.png"
    open_located(_files(4, 5)[1], 10**8).crop((10, 10, 200, 200)).save(crop)
    best = retrieve(crop, index_dir, 1, False, load_config()).matches[0]
    assert best.path == str(shards / "data" / "train-00001-of-00002.parquet#1")
    assert best.style == "Baroque" and best.artist == "Claude Monet"


def _artgan_tree(tmp_path: Path) -> Path:
    """`wikiart/` with a folder per style, one name mangled by a cp437 unzip, and
    `wikiart_csv/` with splits and class lists naming it correctly."""
    root = tmp_path / "artgan"
    files = _files(5)
    layout = {"Impressionism/claude-monet_the-pond-1880.jpg": files[0],
              "Impressionism/françois-bonvin_still-life.jpg".encode().decode("cp437"): files[1],
              "Art_Nouveau_Modern/alphonse-mucha_spring-1896.jpg": files[2],
              "Art_Nouveau_Modern/alphonse-mucha_summer-1896.jpg": files[3],
              "Art_Nouveau_Modern/unlisted_piece.jpg": files[4]}
    for rel, src in layout.items():
        (root / "wikiart" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, root / "wikiart" / rel)
    lists = root / "wikiart_csv"
    lists.mkdir()
    (lists / "style_class.txt").write_text("0 Art_Nouveau\n1 Impressionism\n")
    (lists / "style_train.csv").write_text(
        "Impressionism/claude-monet_the-pond-1880.jpg,1\n"
        "Art_Nouveau_Modern/alphonse-mucha_spring-1896.jpg,0\n")
    (lists / "style_val.csv").write_text(
        "Impressionism/françois-bonvin_still-life.jpg,1\n"
        "Art_Nouveau_Modern/alphonse-mucha_summer-1896.jpg,0\n", encoding="utf-8")
    (lists / "artist_class.txt").write_text("0 Claude_Monet\n1 François_Bonvin\n")
    (lists / "artist_train.csv").write_text(
        "Impressionism/claude-monet_the-pond-1880.jpg,0\n"
        "Impressionism/françois-bonvin_still-life.jpg,1\n", encoding="utf-8")
    return root


def test_artgan_tree_takes_classes_from_its_lists(tmp_path):
    root = _artgan_tree(tmp_path)
    assert detect(root) == "artgan"
    found = {canonical(a.path): a for a in scan(root, "artgan")}
    assert len(found) == 5
    bonvin = found["wikiart/Impressionism/françois-bonvin_still-life.jpg"]
    assert (bonvin.artist, bonvin.style) == ("François Bonvin", "Impressionism")
    unlisted = found["wikiart/Art_Nouveau_Modern/unlisted_piece.jpg"]
    assert unlisted.style == "Art Nouveau"  # the class its folder holds, not the folder's name
    monet = found["wikiart/Impressionism/claude-monet_the-pond-1880.jpg"]
    assert (monet.artist, monet.title, monet.year) == ("Claude Monet", "The pond", "1880")


def test_artgan_build_indexes_every_image(tmp_path, cfg, backbone):
    report = build_index(_artgan_tree(tmp_path), tmp_path / "index", cfg, backbone, "cpu")
    assert report.counts["done"] == 5 and not report.failures
    db = cat.open_catalog(tmp_path / "index")
    styles = sorted(r[0] for r in db.execute("SELECT style FROM artworks"))
    db.close()
    assert styles == ["Art Nouveau"] * 3 + ["Impressionism"] * 2


def test_a_truncated_shard_is_a_failure_and_the_others_are_indexed(shards, tmp_path, cfg,
                                                                   backbone):
    cut = shards / "data" / "train-00001-of-00002.parquet"
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    index_dir = tmp_path / "index"
    for _ in range(2):  # and again on a re-run: the bad shard never blocks the rest
        report = build_index(shards, index_dir, cfg, backbone, "cpu")
        assert report.counts["done"] == 4 and report.counts["failed"] == 2
        failed = dict(report.failures if report.failures else [])
    assert "not a readable parquet file" in failed["data/train-00001-of-00002.parquet"]


@pytest.mark.parametrize("row, words", [("-1", "'-1' is not a row number"),
                                        ("abc", "'abc' is not a row number"),
                                        ("99", "the shard has 5 rows")])
def test_a_style_row_that_is_not_a_row_says_so(shards, row, words):
    shard = shards / "data" / "train-00000-of-00002.parquet"
    with pytest.raises(ImageError, match=re.escape(words)):
        open_located(f"{shard}#{row}", 10**8)
