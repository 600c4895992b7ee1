"""The studio under a burst of match requests, on a real server on the loopback: the page
and the gallery keep answering, the queue of searches is bounded, a photo is searched once.
Retrieval is replaced by a sleep: what is tested is the scheduling, not the search."""
import asyncio
import time

import httpx2 as httpx
import pytest

from tests.studio_fixtures import served, studio_config

SEARCH_S = 0.5  # each search sleeps this long
BURST = 120  # match requests at once, each for a different number of matches
PAGE_WITHIN_S = 1.0


@pytest.fixture(scope="module")
def server(small_index, tmp_path_factory):
    """The studio on a real server; its URL and config."""
    from studio.state import open_studio

    results = tmp_path_factory.mktemp("load") / "results"
    cfg = studio_config(results)
    with served(open_studio(cfg, small_index, results)) as url:
        yield url, cfg


@pytest.fixture
def searches(monkeypatch) -> list:
    """Retrieval as a sleep; the list grows by one for each search run."""
    from artifier.session import Artifier

    class Found:
        def as_dict(self) -> dict:
            return {"matches": [], "photo_patches": 0}

    ran = []

    def search(*_args, **_kwargs) -> Found:
        ran.append(1)
        time.sleep(SEARCH_S)
        return Found()

    monkeypatch.setattr(Artifier, "search", search)
    return ran


def _photo(base: str, photo_path) -> str:
    answer = httpx.post(f"{base}/api/uploads", timeout=30,
                        files={"file": ("photo.jpg", photo_path.read_bytes(), "image/jpeg")})
    assert answer.status_code == 200, answer.text
    return answer.json()["id"]


def _code(answer) -> int | str:
    """A status code, or what became of a request that got none."""
    return answer.status_code if isinstance(answer, httpx.Response) else repr(answer)


async def _burst(base: str, asks: list[dict], probes: list[str]):
    """Send `asks` to /api/matches at once; while they are answered, time a GET of each
    probe on a connection of its own. The answers with their status codes, the probe
    times, and whether matches were still unanswered when the probes began."""
    limits = httpx.Limits(max_connections=len(asks))
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as burst, \
            httpx.AsyncClient(base_url=base, timeout=PAGE_WITHIN_S * 5) as probe:
        tasks = [asyncio.create_task(burst.post("/api/matches", json=ask)) for ask in asks]
        try:
            await asyncio.sleep(SEARCH_S)  # the burst is in and searching
            seconds, busy = {}, not all(task.done() for task in tasks)
            for path in probes:
                start = time.monotonic()
                try:
                    assert (await probe.get(path)).status_code == 200
                    seconds[path] = time.monotonic() - start
                except httpx.TimeoutException:
                    seconds[path] = float("inf")  # no answer within the probe's timeout
            answers = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)
            return [_code(a) for a in answers], answers, seconds, busy
        finally:
            for task in tasks:
                task.cancel()


def test_the_page_answers_during_a_match_burst_and_the_queue_is_bounded(server, searches,
                                                                         photo_path):
    base, cfg = server
    photo = _photo(base, photo_path)
    asks = [{"photo": photo, "top": top} for top in range(1, BURST + 1)]
    page = ["/", "/static/studio.js", "/api/results", "/api/info"]
    thumb = "/api/art/1?thumb=1"  # its lookup waits for the running search, not the queue
    codes, answers, seconds, busy = asyncio.run(_burst(base, asks, [*page, thumb]))
    assert busy, "the burst was over before the page was asked for"
    assert all(seconds[path] < PAGE_WITHIN_S for path in page), seconds
    assert seconds[thumb] < SEARCH_S + PAGE_WITHIN_S, seconds
    assert set(codes) == {200, 429}, codes
    assert codes.count(200) == len(searches) >= cfg["studio"]["match_queue"]
    refused = [a for a in answers if a.status_code == 429]
    assert all(int(a.headers["retry-after"]) >= 1 for a in refused)
    assert "busy" in refused[0].json()["detail"]


def test_a_photo_asked_for_many_times_at_once_is_searched_once(server, searches, photo_path):
    base, _ = server
    ask = {"photo": _photo(base, photo_path), "top": 5}
    codes, answers, _, _ = asyncio.run(_burst(base, [ask] * 30, []))
    assert codes == [200] * 30
    assert len({a.text for a in answers}) == 1 and len(searches) == 1
    assert httpx.post(f"{base}/api/matches", json=ask, timeout=30).status_code == 200
    assert len(searches) == 1
