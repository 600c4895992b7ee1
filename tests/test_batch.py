"""A batch: every photo with each of its top matches, resumable, failures collected, and a
contact page that names only files beside it."""
import json
import re
import shutil
import signal
import subprocess
import time

from PIL import Image

from tests.cli import ARTIFIER, artifier
from tests.conftest import PHOTOS

FAST = ["--size", "96", "--schedule", "instant"]


def _photos(tmp_path, names=("chelsea-cat.jpg", "kodak-kodim22.jpg")):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in names:
        shutil.copy(PHOTOS / name, folder / name)
    return folder


def _results(out):
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("[0-9][0-9]-*.png"))


def test_top_two_a_bad_photo_a_rerun_and_the_contact_page(small_index, tmp_path):
    photos = _photos(tmp_path)
    (photos / "broken.jpg").write_bytes(b"not a jpeg")
    out = tmp_path / "out"
    run = artifier("transfer", photos, "--top", "2", "--index", small_index, "-o", out, *FAST)
    assert run.returncode == 2, run.stderr  # some failed: the broken photo
    assert "failed: " in run.stderr and "broken.jpg" in run.stderr
    assert len(_results(out)) == 4 and {p.split("/")[0] for p in _results(out)} == \
        {"chelsea-cat", "kodak-kodim22"}
    for photo in ("chelsea-cat", "kodak-kodim22"):
        order = artifier("retrieve", PHOTOS / f"{photo}.jpg", "--index", small_index, "--top", "2",
                         "--json")
        wanted = [m["path"] for m in json.loads(order.stdout)["matches"]]
        painted = [json.loads(Image.open(p).text["artifier"])["style"]
                   for p in sorted((out / photo).glob("[0-9][0-9]-*.png"))]
        assert painted == wanted
    page = (out / "index.html").read_text()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all((out / s).is_file() for s in sources)
    assert "http" not in page and "broken.jpg" in page
    assert Image.open(out / "contact.png").height > 2 * 160

    again = artifier("transfer", photos, "--top", "2", "--index", small_index, "-o", out, *FAST)
    assert "0 painted, 4 already done" in again.stderr, again.stderr


def test_a_killed_batch_resumes_to_the_same_files(small_index, tmp_path):
    photos = _photos(tmp_path)
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    args = ["transfer", photos, "--top", "2", "--index", small_index, *FAST]
    assert artifier(*args, "-o", whole).returncode == 0
    job = subprocess.Popen([str(ARTIFIER), *map(str, args), "-o", str(cut)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not _results(cut) and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    job.send_signal(signal.SIGKILL)
    job.wait()
    assert len(_results(cut)) < 4
    assert artifier(*args, "-o", cut).returncode == 0
    assert _results(cut) == _results(whole)
    for name in _results(whole):
        assert Image.open(cut / name).tobytes() == Image.open(whole / name).tobytes()


def test_blend_two_in_a_batch_names_both_paintings_on_the_page(small_index, tmp_path):
    photos = _photos(tmp_path, ("chelsea-cat.jpg",))
    out = tmp_path / "out"
    run = artifier("transfer", photos, "--top", "1", "--blend", "2", "--index", small_index,
                   "-o", out, *FAST)
    assert run.returncode == 0, run.stderr
    order = artifier("retrieve", PHOTOS / "chelsea-cat.jpg", "--index", small_index, "--top",
                     "2", "--json")
    wanted = [m["path"] for m in json.loads(order.stdout)["matches"]]
    made = json.loads(Image.open(out / "chelsea-cat" / "blend-2.png").text["artifier"])
    assert made["style"] == wanted and len(made["blend"]) == 2
    page = (out / "index.html").read_text()
    assert "blend of " in page and all((out / s).is_file()
                                       for s in re.findall(r'src="([^"]+)"', page))
    again = artifier("transfer", photos, "--top", "1", "--blend", "2", "--index", small_index,
                     "-o", out, *FAST)
    assert "0 painted, 2 already done" in again.stderr, again.stderr


def test_a_blend_of_one_is_refused(small_index, tmp_path):
    run = artifier("transfer", PHOTOS / "chelsea-cat.jpg", "--blend", "1", "--index",
                   small_index, "-o", tmp_path / "x.png", *FAST)
    assert run.returncode != 0 and "2 paintings or more" in run.stderr
    assert "Traceback" not in run.stderr
