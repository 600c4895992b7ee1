from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from core.backbone import Backbone, load_backbone

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
ART = SHARED / "art"
PHOTOS = SHARED / "photos"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"shared data missing: {path} (CI and developers have ../shared beside the repo)")
    return path


@pytest.fixture(scope="session")
def backbone() -> Backbone:
    return load_backbone("vgg19-caffe")


@pytest.fixture(scope="session")
def photo_path() -> Path:
    return _require(PHOTOS / "kodak-kodim22.jpg")


@pytest.fixture(scope="session")
def painting_path() -> Path:
    return _require(ART / "vincent-van-gogh_the-starry-night-1889.jpg")


@pytest.fixture(scope="session")
def art_dir() -> Path:
    return _require(ART)


def metadata_rows() -> list[dict]:
    with open(_require(ART / "metadata.csv"), newline="") as handle:
        return list(csv.DictReader(handle))


def copy_collection(rows: list[dict], root: Path) -> Path:
    """Copy the artworks of `rows` into `root` with a metadata.csv of those rows."""
    root.mkdir(parents=True, exist_ok=True)
    for row in rows:
        shutil.copy(ART / row["file"], root / row["file"])
    with open(root / "metadata.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return root


@pytest.fixture(scope="session")
def small_index(tmp_path_factory, backbone) -> Path:
    """An index of 40 shared artworks (Ukiyo-e, Pointillism, Cubism, Fauvism, Baroque), built once."""
    from core.config import load_config
    from index_build.build import build_index

    rows = metadata_rows()
    chosen = []
    for style in ("Ukiyo-e", "Pointillism", "Cubism", "Fauvism", "Baroque"):
        chosen += [r for r in rows if r["style"] == style][:8]
    root = copy_collection(chosen, tmp_path_factory.mktemp("art"))
    index_dir = tmp_path_factory.mktemp("index")
    build_index(root, index_dir, load_config(), backbone, "cpu")
    return index_dir
