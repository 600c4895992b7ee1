"""The Python API: one session holds the network across calls, takes photos as paths, PIL
images or arrays, and raises the command line's own exception types."""
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import artifier
from artifier import session
from core.config import load_config

TINY = load_config(overrides=["transfer.size=96", 'transfer.schedule="fast"',
                              "transfer.schedules.fast.iterations=[2, 1, 1]"])


def test_retrieve_then_paint_loads_the_network_once(small_index, photo_path, tmp_path,
                                                    monkeypatch):
    loads = []
    real = session.backbone_from_config
    monkeypatch.setattr(session, "backbone_from_config",
                        lambda cfg: loads.append(1) or real(cfg))
    with artifier.Artifier(index=small_index, config=TINY) as art:
        matches = art.retrieve(photo_path, top=3)
        assert [m.rank for m in matches] == [1, 2, 3]
        painting = art.paint(photo_path, matches[0])
        again = art.retrieve(Image.open(photo_path), top=1)
    assert len(loads) == 1
    assert again[0].path == matches[0].path
    assert max(painting.image.size) == 96 and painting.painting_name == matches[0].name
    assert painting.settings["style"] == matches[0].path and painting.boxes is not None
    out = painting.save(tmp_path / "r.png")
    saved = Image.open(out)
    assert saved.size == painting.image.size and "artifier" in saved.text


def test_a_list_of_matches_paints_a_blend_that_names_them(small_index, photo_path, tmp_path):
    with artifier.Artifier(index=small_index, config=TINY) as art:
        matches = art.retrieve(photo_path, top=2)
        blend = art.paint(photo_path, matches, schedule="instant", strength=1.0)
    assert blend.painting_name == f"{matches[0].name} + {matches[1].name}"
    assert blend.settings["style"] == [matches[0].path, matches[1].path]
    assert [part["name"] for part in blend.settings["blend"]] == [m.name for m in matches]
    assert abs(sum(part["share"] for part in blend.settings["blend"]) - 1) < 1e-3
    assert set(np.unique(blend.painting_of)) <= {0, 1} and len(blend.others) == 1
    # The map shows the result and both paintings at its height, 8 px apart.
    height = blend.image.height
    widths = [round(p.width * height / p.height) for p in (blend.painting, *blend.others)]
    assert blend.provenance().size == (blend.image.width + sum(widths) + 16, height)
    saved = Image.open(blend.save(tmp_path / "blend.png"))
    assert '"blend"' in saved.text["artifier"]


def test_paint_takes_paths_pil_images_and_arrays_alike(photo_path, painting_path, tmp_path):
    art = artifier.Artifier(config=TINY)
    photo = Image.open(photo_path).convert("RGB")
    png = tmp_path / "photo.png"  # a JPEG path is decoded reduced in the DCT; a PNG is not
    photo.save(png)
    from_path = art.paint(png, painting_path, strength=0.5)
    from_pil = art.paint(photo, Image.open(painting_path), strength=0.5)
    from_array = art.paint(np.asarray(photo), painting_path, strength=0.5)
    assert from_path.image.tobytes() == from_pil.image.tobytes()
    assert from_array.image.tobytes() == from_pil.image.tobytes()
    assert from_pil.provenance() is not None and from_pil.triptych().width > 96 * 2


def test_errors_are_the_command_lines_types(photo_path, painting_path, tmp_path):
    art = artifier.Artifier(config=TINY)
    with pytest.raises(artifier.ImageError, match="no such file"):
        art.paint(tmp_path / "missing.jpg", painting_path)
    with pytest.raises(artifier.ImageError, match="non-finite"):
        art.paint(np.full((64, 64, 3), np.nan), painting_path)
    with pytest.raises(artifier.ConfigError, match="finite"):
        art.paint(photo_path, painting_path, strength=float("nan"))
    with pytest.raises(artifier.IndexMissingError, match="no index"):
        art.retrieve(photo_path)
    with pytest.raises(artifier.ConfigError, match="unknown setting"):
        artifier.Artifier(no_such_setting=1)
    with pytest.raises(artifier.OutputError, match="is the photo"):
        art.paint(photo_path, painting_path, strength=0.0).save(photo_path)
    assert artifier.Artifier(style_weight=30).cfg["transfer"]["style_weight"] == 30.0


def test_import_artifier_loads_no_torch_until_used():
    code = ("import sys, artifier; print('torch' in sys.modules); "
            "artifier.Artifier; print('torch' in sys.modules); help(artifier)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split()[:2] == ["False", "True"], out.stderr
    assert "Artifier(index=" in out.stdout and "build_index" in out.stdout
