import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from core.errors import ImageError, OutputError
from core.images import fit_blocks, fit_long_side, load_image, save_png, to_pil, to_tensor


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_missing_file(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "nope.jpg")


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("this is not a picture")
    with pytest.raises(ImageError, match="not an image"):
        load_image(path)


def test_truncated_jpeg(tmp_path, photo_path):
    data = photo_path.read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(ImageError, match="cut.jpg: truncated or corrupt"):
        load_image(path)


def test_zero_size_png(tmp_path):
    ihdr = struct.pack(">IIBBBBB", 0, 10, 8, 2, 0, 0, 0)
    png = (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
           + _png_chunk(b"IDAT", zlib.compress(b"")) + _png_chunk(b"IEND", b""))
    path = tmp_path / "empty.png"
    path.write_bytes(png)
    with pytest.raises(ImageError, match="empty.png"):
        load_image(path)


def test_sixteen_bit_png_keeps_its_range(tmp_path):
    ramp = np.linspace(0, 65535, 64 * 8).astype(np.uint16).reshape(8, 64)
    path = tmp_path / "deep.png"
    Image.fromarray(ramp).save(path)
    assert Image.open(path).mode.startswith("I")
    rgb = np.asarray(load_image(path))
    assert rgb.shape == (8, 64, 3)
    expected = np.round(ramp / 65535 * 255)
    assert np.abs(rgb[..., 0].astype(float) - expected).max() <= 1
    assert rgb[..., 0].min() == 0 and rgb[..., 0].max() == 255


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    path = tmp_path / "cmyk.jpg"
    Image.new("RGB", (32, 32), (200, 30, 40)).convert("CMYK").save(path, quality=95)
    assert Image.open(path).mode == "CMYK"
    rgb = np.asarray(load_image(path)).reshape(-1, 3).mean(0)
    assert np.abs(rgb - [200, 30, 40]).max() < 12


def test_alpha_is_composited_on_white(tmp_path):
    path = tmp_path / "alpha.png"
    Image.new("RGBA", (8, 8), (255, 0, 0, 0)).save(path)
    assert np.asarray(load_image(path)).min() == 255


def test_palette_and_grey_modes(tmp_path):
    for mode in ("L", "P", "LA"):
        path = tmp_path / f"{mode}.png"
        Image.new("RGB", (8, 8), (90, 90, 90)).convert(mode).save(path)
        assert load_image(path).mode == "RGB"


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("RGB", (40, 20), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    path = tmp_path / "rotated.jpg"
    img.save(path, exif=exif)
    assert load_image(path).size == (20, 40)


def test_pixel_guard(tmp_path):
    path = tmp_path / "big.png"
    Image.new("RGB", (200, 200)).save(path)
    with pytest.raises(ImageError, match="too large"):
        load_image(path, max_pixels=10_000)


def test_fit_long_side_rounds_to_multiple():
    img = Image.new("RGB", (1000, 600))
    out = fit_long_side(img, 512, 16)
    assert out.size == (512, 304)


def test_png_roundtrip_keeps_settings(tmp_path):
    img = to_pil(to_tensor(Image.new("RGB", (4, 4), (1, 2, 3))))
    path = save_png(img, tmp_path / "r.png", {"artifier": {"size": 64}})
    reread = Image.open(path)
    assert reread.text["artifier"] == '{"size": 64}'
    assert np.asarray(reread)[0, 0].tolist() == [1, 2, 3]


def test_unwritable_output_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot write"):
        save_png(Image.new("RGB", (2, 2)), blocker / "out.png")


def test_a_large_jpeg_is_decoded_reduced_for_a_small_long_side(tmp_path, photo_path):
    """A JPEG shrunk in the DCT to at least twice the long side asked for, oriented, and
    once shrunk to that side alike to the whole decode shrunk; other formats whole."""
    big = Image.open(photo_path).convert("RGB").resize((3072, 2048), Image.Resampling.BICUBIC)
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned: 2048 x 3072
    big.save(tmp_path / "big.jpg", quality=92, exif=exif)
    big.save(tmp_path / "big.png")
    whole = load_image(tmp_path / "big.jpg")
    reduced = load_image(tmp_path / "big.jpg", long_side=224)
    assert whole.size == (2048, 3072) and reduced.size == (512, 768)
    small = [to_tensor(fit_long_side(img, 224, 16)) for img in (whole, reduced)]
    assert small[0].shape == small[1].shape
    assert (small[0] - small[1]).abs().mean() < 0.01
    assert load_image(tmp_path / "big.png", long_side=224).size == (3072, 2048)


@pytest.mark.parametrize("size, long_side", [((451, 300), 128), ((300, 170), 64)])
def test_rounding_to_the_block_does_not_stretch(size, long_side):
    """A centred white square stays square when the sides are rounded to 16 px."""
    img = Image.new("RGB", size, "black")
    side = min(size) // 2
    left, top = (size[0] - side) // 2, (size[1] - side) // 2
    img.paste((255, 255, 255), (left, top, left + side, top + side))
    out = np.asarray(fit_blocks(img, long_side, 16).convert("L")) > 127
    assert out.shape[1] == long_side and out.shape[0] % 16 == 0
    rows, cols = out.any(axis=1).sum(), out.any(axis=0).sum()
    assert abs(cols / rows - 1) < 0.04, (cols, rows)
