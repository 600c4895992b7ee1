import io
import json

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.studio_fixtures import png_header_only, studio_config, wait_for


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return tmp_path_factory.mktemp("studio") / "results"


@pytest.fixture(scope="module")
def client(small_index, results):
    from studio.app import create_app
    from studio.state import open_studio

    studio = open_studio(studio_config(results, "studio.max_upload_mb=1"), small_index, results)
    with TestClient(create_app(studio)) as test_client:
        yield test_client


def _upload(client, path_or_bytes, name="photo.jpg"):
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else path_or_bytes.read_bytes()
    return client.post("/api/uploads", files={"file": (name, data, "application/octet-stream")})


@pytest.fixture(scope="module")
def photo_id(client, photo_path):
    answer = _upload(client, photo_path)
    assert answer.status_code == 200, answer.text
    return answer.json()["id"]


def _paint(client, photo_id, **settings):
    answer = client.post("/api/jobs", json={"photo": photo_id, "size": 96, **settings})
    assert answer.status_code == 200, answer.text
    return answer.json()["id"]


def _events(client, job_id):
    with client.stream("GET", f"/api/jobs/{job_id}/events") as stream:
        return [json.loads(line[6:]) for line in stream.iter_lines() if line.startswith("data: ")]


def test_upload_is_kept_decoded_under_a_generated_name(client, photo_id, photo_path, results):
    assert list((results / "uploads").iterdir()) == [results / "uploads" / f"{photo_id}.png"]
    kept = Image.open(io.BytesIO(client.get(f"/api/uploads/{photo_id}.png").content))
    assert kept.size == Image.open(photo_path).size


def test_matches_come_ranked_and_filter_by_style(client, photo_id):
    every = client.post("/api/matches", json={"photo": photo_id, "top": 12}).json()["matches"]
    assert len(every) == 12 and [m["rank"] for m in every] == list(range(1, 13))
    assert all(a["score"] >= b["score"] for a, b in zip(every, every[1:]))
    assert "path" not in every[0] and every[0]["title"]
    styles = {s for s, _ in client.get("/api/info").json()["styles"]}
    assert styles == {"Ukiyo-e", "Pointillism", "Cubism", "Fauvism", "Baroque"}
    cubist = client.post("/api/matches", json={"photo": photo_id, "style": "Cubism"}).json()["matches"]
    assert len(cubist) == 8 and {m["style"] for m in cubist} == {"Cubism"}
    thumb = Image.open(io.BytesIO(client.get(f"/api/art/{cubist[0]['id']}?thumb=1").content))
    assert max(thumb.size) <= 256


def test_paint_reports_progress_and_lands_in_the_gallery(client, photo_id, results):
    art = client.post("/api/matches", json={"photo": photo_id, "top": 1}).json()["matches"][0]
    job_id = _paint(client, photo_id, art=art["id"], strength=1.0)
    events = _events(client, job_id)
    running = [e for e in events if e["state"] == "running" and e["total"]]
    assert events[-1]["state"] == "done", events[-1]
    steps = [e["step"] for e in running]
    assert steps == sorted(steps) and len(set(steps)) > 2
    assert events[-1]["step"] == events[-1]["total"] == 9
    fractions = [e["fraction"] for e in running]
    assert fractions == sorted(fractions) and events[-1]["fraction"] == 1.0
    assert events[-1]["preview"] >= 2  # the start, then the image as it refines
    assert Image.open(io.BytesIO(client.get(f"/api/jobs/{job_id}/preview.png").content)).size[0] == 96

    listed = client.get("/api/results").json()
    assert [r["id"] for r in listed] == [events[-1]["result"]]
    record = client.get(f"/api/results/{listed[0]['id']}").json()
    result = Image.open(io.BytesIO(client.get(f"/api/results/{record['id']}/result.png").content))
    settings = json.loads(result.text["artifier"])  # the PNG says how it was made, as the CLI's
    assert settings["transfer"]["size"] == 96 and settings["transfer"]["strength"] == 1.0
    boxes = np.array(record["boxes"])
    assert boxes.shape == (result.height // 16, result.width // 16, 4)
    assert (boxes[..., 2] > boxes[..., 0]).all() and boxes.min() >= 0 and boxes.max() <= 1
    download = client.get(f"/api/results/{record['id']}/result.png?download=1")
    assert "attachment" in download.headers["content-disposition"]


def test_paint_with_an_uploaded_painting_then_delete_it(client, photo_id, painting_path, results):
    painting = _upload(client, painting_path, "starry.jpg").json()["id"]
    job_id = _paint(client, photo_id, painting=painting, preserve_colour=True)
    state = wait_for(lambda: client.get(f"/api/jobs/{job_id}").json())
    assert state["state"] == "done", state
    assert client.get(f"/api/results/{state['result']}").json()["painting_name"] == "your painting"
    assert (results / state["result"] / "provenance.png").is_file()
    assert client.delete(f"/api/results/{state['result']}").status_code == 200
    assert state["result"] not in [r["id"] for r in client.get("/api/results").json()]
    assert not (results / state["result"]).exists()
    assert client.get(f"/api/results/{state['result']}").status_code == 404


def test_matches_answer_while_one_paints_and_paintings_cancel(client, photo_id, painting_path):
    painting = _upload(client, painting_path, "starry.jpg").json()["id"]
    slow = {"painting": painting, "size": 128, "schedule": "long"}  # 560 steps
    first, second = _paint(client, photo_id, **slow), _paint(client, photo_id, **slow)
    assert client.get(f"/api/jobs/{second}").json()["ahead"] == 1
    assert client.delete(f"/api/jobs/{second}").status_code == 200
    wait_for(lambda: client.get(f"/api/jobs/{first}").json(), lambda s: s["step"] >= 1)
    found = client.post("/api/matches", json={"photo": photo_id, "top": 3})
    assert found.status_code == 200 and len(found.json()["matches"]) == 3
    assert client.get(f"/api/jobs/{first}").json()["state"] == "running"
    assert [job["id"] for job in client.get("/api/jobs").json()] == [first]  # for other tabs
    assert client.delete(f"/api/jobs/{first}").status_code == 200
    for job_id in (first, second):
        assert wait_for(lambda: client.get(f"/api/jobs/{job_id}").json())["state"] == "cancelled"
    assert client.delete(f"/api/jobs/{first}").status_code == 409


@pytest.mark.parametrize("data, status, words", [
    (b"this is not an image", 400, "not an image"),
    (png_header_only(100_000, 100_000), 400, "too large"),
    (b"\xff\xd8" + b"\0" * (2 * 2**20), 413, "limit"),
    (b"", 400, "empty file"),
])
def test_bad_uploads_are_refused_with_a_reason(client, results, data, status, words):
    before = sorted(p.name for p in results.rglob("*"))
    answer = _upload(client, data, "../../outside.png")
    assert answer.status_code == status and words in answer.json()["detail"], answer.text
    assert sorted(p.name for p in results.rglob("*")) == before
    assert not (results.parent / "outside.png").exists()


@pytest.mark.parametrize("url", [
    "/api/uploads/..%2F..%2Fgallery.sqlite.png", "/api/uploads/../../etc/passwd",
    "/static/../pyproject.toml", "/static/%2e%2e/%2e%2e/pyproject.toml",
    "/api/results/..%2Fuploads/result.png", "/api/results/0123/../../result.png",
    "/api/art/..%2F..%2Fetc%2Fpasswd", "/api/art/99999", "/api/art/99999999999999999999999",
    "/api/art/9223372036854775808", "/api/art/-1",
])
def test_only_the_collection_and_results_are_served(client, url):
    answer = client.get(url)
    assert 400 <= answer.status_code < 500 and b"root:" not in answer.content


@pytest.mark.parametrize("settings, words", [
    ({"size": 10}, "too small"), ({"strength": 2}, "strength"),
    ({"schedule": "forever"}, "schedule"), ({"art": 1}, "name one painting"),
])
def test_bad_paint_settings_are_refused_before_queueing(client, photo_id, settings, words):
    answer = client.post("/api/jobs", json={"photo": photo_id, "painting": photo_id, **settings})
    assert answer.status_code == 400 and words in answer.json()["detail"], answer.text


@pytest.mark.parametrize("art", [99999999999999999999999, 2**63, "1", True, 1.5])
def test_artwork_ids_past_sqlite_or_not_integers_are_refused(client, photo_id, art):
    answer = client.post("/api/jobs", json={"photo": photo_id, "art": art, "size": 96})
    assert answer.status_code == 422 and "art" in answer.text, answer.text


@pytest.mark.parametrize("field, value", [("size", True), ("size", "96"), ("size", 96.5),
                                          ("strength", True), ("preserve_colour", "yes"),
                                          ("preserve_colour", 1), ("schedule", 1)])
def test_paint_settings_of_the_wrong_type_are_refused_not_converted(client, photo_id, field,
                                                                     value):
    # true would otherwise paint at 1 px or full strength, "yes" keep the photo's colours.
    answer = client.post("/api/jobs", json={"photo": photo_id, "painting": photo_id,
                                            field: value})
    assert answer.status_code == 422 and field in answer.text, answer.text


@pytest.mark.parametrize("top", [True, "12", 2.5])
def test_a_match_count_that_is_not_an_integer_is_refused(client, photo_id, top):
    answer = client.post("/api/matches", json={"photo": photo_id, "top": top})
    assert answer.status_code == 422 and "top" in answer.text, answer.text


def test_an_unknown_style_is_refused_with_the_known_ones(client, photo_id):
    answer = client.post("/api/matches", json={"photo": photo_id, "style": "Impressionism"})
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert "Impressionism" in detail
    assert all(style in detail for style in ("Ukiyo-e", "Pointillism", "Cubism", "Fauvism", "Baroque"))


def test_serve_refuses_a_busy_port_in_one_line(tmp_path):
    import socket

    from tests.cli import artifier, assert_one_line_error

    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = artifier("serve", "--port", port, "--results", tmp_path / "r")
    assert_one_line_error(result, f"cannot serve on 127.0.0.1:{port}")


def test_without_an_index_the_studio_paints_with_an_uploaded_painting(tmp_path, photo_path,
                                                                       painting_path):
    from studio.app import create_app
    from studio.state import open_studio

    results = tmp_path / "results"
    studio = open_studio(studio_config(results), tmp_path / "no-index", results)
    with TestClient(create_app(studio)) as client:
        info = client.get("/api/info").json()
        assert info["no_index"] and "no index" in info["no_index"] and info["artworks"] == 0
        photo = _upload(client, photo_path).json()["id"]
        refused = client.post("/api/matches", json={"photo": photo})
        assert refused.status_code == 409 and "no index" in refused.json()["detail"]
        painting = _upload(client, painting_path).json()["id"]
        job_id = _paint(client, photo, painting=painting)
        assert wait_for(lambda: client.get(f"/api/jobs/{job_id}").json())["state"] == "done"


def test_instant_is_a_schedule_of_the_page(client, photo_id, results):
    assert client.get("/api/info").json()["schedules"][0] == "instant"
    art = client.post("/api/matches", json={"photo": photo_id, "top": 1}).json()["matches"][0]
    events = _events(client, _paint(client, photo_id, art=art["id"], schedule="instant"))
    assert events[-1]["state"] == "done" and events[-1]["step"] == events[-1]["total"] == 1
    record = client.get(f"/api/results/{events[-1]['result']}").json()
    result = Image.open(io.BytesIO(client.get(f"/api/results/{record['id']}/result.png").content))
    assert json.loads(result.text["artifier"])["schedule"] == "instant"
    # The swap's correspondence, at relu4_1 (8 px a position), is the provenance.
    assert np.array(record["boxes"]).shape == (result.height // 8, result.width // 8, 4)


def test_blend_the_selected_names_each_painting_of_its_pieces(client, photo_id, results):
    arts = [m["id"] for m in client.post("/api/matches", json={"photo": photo_id, "top": 2})
            .json()["matches"]]
    events = _events(client, _paint(client, photo_id, arts=arts, schedule="instant",
                                     strength=1.0))
    assert events[-1]["state"] == "done", events[-1]
    record = client.get(f"/api/results/{events[-1]['result']}").json()
    assert len(record["paintings"]) == 2 and " + " in record["painting_name"]
    painting_of = np.array(record["painting_of"])
    assert painting_of.shape == np.array(record["boxes"]).shape[:2]
    assert set(np.unique(painting_of)) == {0, 1} and abs(sum(record["shares"]) - 1) < 1e-6
    for name in ("painting", "painting-1", "provenance"):
        assert client.get(f"/api/results/{record['id']}/{name}.png").status_code == 200
    refused = client.post("/api/jobs", json={"photo": photo_id, "arts": arts[:1]})
    assert refused.status_code == 422
    both = client.post("/api/jobs", json={"photo": photo_id, "arts": arts, "art": arts[0]})
    assert both.status_code == 400 and "one painting" in both.json()["detail"]
