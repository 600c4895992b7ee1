import json

from PIL import Image

from tests.cli import artifier, assert_one_line_error

TINY = ["--size", "96", "--schedule", "fast", "--set", "transfer.schedules.fast.iterations=[3, 2, 1]"]


def test_transfer_end_to_end(tmp_path, photo_path, painting_path):
    out = tmp_path / "result.png"
    result = artifier("transfer", photo_path, "--style", painting_path, "-o", out, *TINY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    img = Image.open(out)
    assert max(img.size) == 96 and img.mode == "RGB"
    settings = json.loads(img.text["artifier"])
    assert settings["transfer"]["size"] == 96
    assert settings["style"] == str(painting_path)
    assert settings["backbone"] == "vgg19-caffe"


def test_triptych_is_three_panels_at_one_height(tmp_path, photo_path, painting_path):
    out = tmp_path / "trip.png"
    result = artifier("transfer", photo_path, "--style", painting_path, "-o", out, "--triptych",
                      "--seed", "3", *TINY)
    assert result.returncode == 0, result.stderr
    img = Image.open(out)
    photo, painting = Image.open(photo_path), Image.open(painting_path)
    result_h = round(96 * photo.height / photo.width / 16) * 16
    # photo | painting | result, each result_h high, 8 px gaps, a caption strip below
    assert img.height > result_h
    expected = (round(result_h * photo.width / photo.height) * 2 + 16
                + round(result_h * painting.width / painting.height))
    assert abs(img.width - expected) <= 2
    assert json.loads(img.text["artifier"])["transfer"]["seed"] == 3


def test_seed_makes_runs_repeatable(tmp_path, photo_path, painting_path):
    outs = [tmp_path / f"{i}.png" for i in range(2)]
    for out in outs:
        assert artifier("transfer", photo_path, "--style", painting_path, "-o", out,
                        *TINY).returncode == 0
    assert Image.open(outs[0]).tobytes() == Image.open(outs[1]).tobytes()


def test_bad_inputs_are_one_line_errors(tmp_path, photo_path, painting_path):
    assert_one_line_error(artifier("transfer", tmp_path / "missing.jpg", "--style", painting_path),
                          "missing.jpg", "no such file")
    text = tmp_path / "text.png"
    text.write_text("hello")
    assert_one_line_error(artifier("transfer", photo_path, "--style", text), "not an image")
    assert_one_line_error(artifier("transfer", photo_path, "--style", painting_path,
                                   "--set", "transfer.size=big"), "must be int")
    assert_one_line_error(artifier("transfer", photo_path, "--style", painting_path,
                                   "--backbone", "vgg16-torchvision", "--weights",
                                   tmp_path / "none.pth"), "weights file not found")
    assert_one_line_error(artifier("transfer", photo_path, "--style", painting_path,
                                   "--schedule", "slow"), "unknown schedule")
    assert_one_line_error(artifier("transfer", photo_path, "--style", painting_path,
                                   "--size", "32"), "too small")


def test_mask_from_the_command_line(tmp_path, photo_path, painting_path):
    photo = Image.open(photo_path)
    mask = Image.new("L", photo.size, 0)
    mask.paste(255, (0, 0, photo.width // 2, photo.height))
    mask_path = tmp_path / "mask.png"
    mask.save(mask_path)
    out = tmp_path / "masked.png"
    result = artifier("transfer", photo_path, "--style", painting_path, "--mask", mask_path,
                      "-o", out, *TINY)
    assert result.returncode == 0, result.stderr
    assert json.loads(Image.open(out).text["artifier"])["mask"] == str(mask_path)
    assert_one_line_error(artifier("transfer", photo_path, "--style", painting_path, "--mask",
                                   tmp_path / "nomask.png", *TINY), "nomask.png", "no such file")


def test_strength_zero_returns_the_photo_and_flags_are_recorded(tmp_path, photo_path,
                                                                painting_path):
    from core.images import fit_blocks, load_image

    out = tmp_path / "kept.png"
    result = artifier("transfer", photo_path, "--style", painting_path, "-o", out,
                      "--strength", "0", "--preserve-colour", *TINY)
    assert result.returncode == 0, result.stderr
    img = Image.open(out)
    assert img.tobytes() == fit_blocks(load_image(photo_path, long_side=96), 96, 16).tobytes()
    settings = json.loads(img.text["artifier"])["transfer"]
    assert settings["strength"] == 0 and settings["preserve_colour"] is True
    assert_one_line_error(artifier("transfer", photo_path, "--style", painting_path,
                                   "--strength", "2"), "transfer.strength", "between 0 and 1")


def test_blend_from_the_command_line_with_its_map(tmp_path, photo_path, small_index):
    out, provenance = tmp_path / "blend.png", tmp_path / "map.png"
    result = artifier("transfer", photo_path, "--blend", "2", "--index", small_index, "-o", out,
                      "--provenance", provenance, *TINY)
    assert result.returncode == 0, result.stderr
    made = json.loads(Image.open(out).text["artifier"])
    assert len(made["style"]) == 2 and [part["name"] for part in made["blend"]]
    # The map: the result, then both paintings, at one height.
    assert Image.open(provenance).width > 2 * Image.open(out).width
    refused = artifier("transfer", photo_path, "--blend", "2", "--pick", "2", "--index",
                       small_index, "-o", tmp_path / "b.png", *TINY)
    assert_one_line_error(refused, "no --style or --pick")
