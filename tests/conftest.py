from __future__ import annotations

from pathlib import Path

import pytest

from artifier.backbone import Backbone, load_backbone

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
