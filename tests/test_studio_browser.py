"""The studio in a real headless browser: Debian's chromium driven by selenium, through
find, paint, the result and its provenance. Screenshots of each step go to out/."""
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.studio_fixtures import served, studio_config

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
SHOTS = ROOT / "out"
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="needs the system chromium and chromedriver (Debian: apt-get install chromium "
           "chromium-driver; `make install` does it where it can)")


@pytest.fixture(scope="module")
def server(small_index, tmp_path_factory):
    from studio.state import open_studio

    results = tmp_path_factory.mktemp("browser") / "results"
    studio = open_studio(studio_config(results, "studio.preview_seconds=0.5"), small_index, results)
    with served(studio) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1280,1400"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def _shot(browser, name: str) -> Path:
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"studio-{name}.png"
    browser.save_screenshot(str(path))
    return path


def test_find_paint_and_trace_a_piece_back(server, browser, photo_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import Select, WebDriverWait

    wait = WebDriverWait(browser, 300)
    browser.get(server)
    wait.until(lambda b: "artworks" in b.find_element(By.ID, "info").text)
    _shot(browser, "1-start")

    browser.find_element(By.ID, "photo-file").send_keys(str(photo_path))
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, ".card.match")) == 12)
    wait.until(lambda b: all(img.get_property("naturalWidth") > 0 for img in
                             b.find_elements(By.CSS_SELECTOR, ".card.match img")))
    assert browser.find_element(By.CSS_SELECTOR, ".card.match.chosen")
    _shot(browser, "2-matches")

    Select(browser.find_element(By.ID, "style-filter")).select_by_value("Ukiyo-e")
    wait.until(lambda b: "in Ukiyo-e" in b.find_element(By.ID, "match-status").text)
    cards = browser.find_elements(By.CSS_SELECTOR, ".card.match")
    assert len(cards) == 8 and all("Ukiyo-e" in c.text for c in cards)
    cards[1].click()

    Select(browser.find_element(By.ID, "size")).select_by_value("128")
    browser.find_element(By.ID, "paint-button").click()
    wait.until(lambda b: b.find_element(By.ID, "t-result").get_property("naturalWidth") > 0)
    _shot(browser, "3-painting")
    wait.until(ready.visibility_of_element_located((By.ID, "result-links")))
    assert browser.find_element(By.ID, "paint-error").text == ""
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, ".card.result")) == 1)

    result = browser.find_element(By.ID, "t-result")
    ActionChains(browser).move_to_element_with_offset(result, -result.size["width"] // 4,
                                                      -result.size["height"] // 4).perform()
    highlight = browser.find_element(By.ID, "highlight")
    wait.until(lambda b: highlight.is_displayed())
    painting = browser.find_element(By.ID, "t-painting")
    assert 0 < highlight.size["width"] < painting.size["width"]
    assert 0 < highlight.size["height"] < painting.size["height"]
    _shot(browser, "4-provenance")

    Select(browser.find_element(By.ID, "schedule")).select_by_value("instant")
    browser.find_element(By.ID, "paint-top-button").click()
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, ".card.result")) == 6)
    assert browser.find_element(By.ID, "paint-error").text == ""
    _shot(browser, "5-top-five")

    # Blend the selected: tick two matches, paint them together, point at the result.
    ticks = browser.find_elements(By.CSS_SELECTOR, ".card.match .blend-tick input")
    ticks[0].click()
    ticks[1].click()
    blend = browser.find_element(By.ID, "blend-button")
    assert blend.is_enabled() and "(2)" in blend.text
    blend.click()
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, ".card.result")) == 7)
    wait.until(ready.visibility_of_element_located((By.ID, "result-links")))
    assert browser.find_element(By.ID, "paint-error").text == ""
    assert " + " in browser.find_element(By.ID, "t-painting-name").text
    result = browser.find_element(By.ID, "t-result")
    names = set()
    for fraction in (-0.4, -0.2, 0.0, 0.2, 0.4):
        for other in (-0.4, 0.0, 0.4):
            ActionChains(browser).move_to_element_with_offset(
                result, int(result.size["width"] * fraction),
                int(result.size["height"] * other)).perform()
            names.add(browser.find_element(By.ID, "t-painting-name").text)
    assert any("(1 of 2)" in n for n in names) and any("(2 of 2)" in n for n in names)
    _shot(browser, "6-blend")
