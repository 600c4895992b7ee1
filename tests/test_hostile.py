"""The second hostile battery: settings and paths that used to give a wrong answer, a lost
file or a traceback now give one line and a non-zero exit, before any work where possible."""
import json
import shutil

from PIL import Image

from tests.cli import artifier, assert_one_line_error

TINY = ["--size", "96", "--schedule", "fast", "--set", "transfer.schedules.fast.iterations=[2, 1, 1]"]


def test_nan_settings_are_refused_before_painting(tmp_path, photo_path, painting_path):
    for setting in ("transfer.strength=nan", "transfer.learning_rate=nan",
                    "transfer.tv_weight=inf"):
        out = tmp_path / "r.png"
        result = artifier("transfer", photo_path, "--style", painting_path, "-o", out, *TINY,
                          "--set", setting)
        assert_one_line_error(result, setting.split("=")[0], "finite")
        assert not out.exists()


def test_a_loss_that_overflows_stops_the_painting(tmp_path, photo_path, painting_path):
    out = tmp_path / "r.png"
    result = artifier("transfer", photo_path, "--style", painting_path, "-o", out, *TINY,
                      "--set", "transfer.content_weight=1e308")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the painting's loss became inf") and "content_weight" in last
    assert not out.exists()


def test_schedules_and_layers_that_cannot_work(tmp_path, photo_path, painting_path):
    for setting, words in (("transfer.schedules.fast.iterations=[-5, 5, 3]", "non-negative"),
                           ('transfer.schedules.fast.iterations=["x", 5, 3]', "non-negative"),
                           ('transfer.content_layer="bogus"', "unknown layer"),
                           ('transfer.content_layer="relu9_9"', "relu4_1")):
        result = artifier("transfer", photo_path, "--style", painting_path,
                          "-o", tmp_path / "r.png", "--set", setting)
        assert_one_line_error(result, words)


def test_an_output_never_replaces_an_input_or_another_output(tmp_path, photo_path, painting_path):
    photo = tmp_path / "cat.png"
    Image.open(photo_path).save(photo)
    before = photo.read_bytes()
    link = tmp_path / "link.png"
    link.hardlink_to(photo)
    for out in (photo, link, tmp_path / "." / "cat.png"):
        result = artifier("transfer", photo, "--style", painting_path, "-o", out, *TINY)
        assert_one_line_error(result, "is the photo")
    result = artifier("transfer", photo, "--style", painting_path, "-o", painting_path, *TINY)
    assert_one_line_error(result, "is the painting")
    same = tmp_path / "r.png"
    result = artifier("transfer", photo, "--style", painting_path, "-o", same,
                      "--provenance", same, *TINY)
    assert_one_line_error(result, "is also the output")
    assert_one_line_error(artifier("retrieve", photo, "--sheet", photo), "is the photo")
    assert photo.read_bytes() == before and not same.exists()


def test_k_past_the_index_size_is_bounded_by_it(small_index, photo_path):
    runs = [artifier("retrieve", photo_path, "--index", small_index, "--top", "3", "--json",
                     *sets) for sets in ([], ["--set", "retrieval.k=100000000000"])]
    assert all(run.returncode == 0 for run in runs), runs[1].stderr
    tops = [[m["path"] for m in json.loads(run.stdout)["matches"]] for run in runs]
    assert tops[0] == tops[1]


def test_a_missing_manifest_is_called_that_everywhere(small_index, tmp_path, photo_path):
    index_dir = tmp_path / "index"
    shutil.copytree(small_index, index_dir)
    (index_dir / "manifest.json").unlink()
    for args in (("index", "status", index_dir), ("retrieve", photo_path, "--index", index_dir)):
        assert_one_line_error(artifier(*args), "manifest.json is missing", "index build")
    verify = artifier("index", "verify", index_dir)
    assert verify.returncode == 1 and "manifest.json" in verify.stdout
    assert "missing" in verify.stdout
