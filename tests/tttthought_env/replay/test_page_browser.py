"""The replay page as a person sees it, in a real headless browser (Debian's ``chromium`` and
``chromium-driver``, driven by Selenium): it loads with no console error, its controls step through every
frame showing that frame's caption and board, and a hostile episode file runs no script.

Skipped, with the reason, where chromium, chromedriver or selenium is missing (``.ci/run`` installs them).
Selenium Manager never runs: the driver and the browser are given by path, so nothing is downloaded.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import gymnasium
import numpy as np
import pytest

import tttthought_env  # noqa: F401  (registers the ids)
from tttthought_env.render import SYMBOLS
from tttthought_env.replay import RecordEpisode, episode_frames, load_episode, write_html


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    return found or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").is_file() else None)


CHROMIUM, CHROMEDRIVER = _binary("chromium"), _binary("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip("headless-browser tests need Debian's chromium and chromium-driver "
                "(apt-get install chromium chromium-driver)", allow_module_level=True)

from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

HOSTILE = ['<img src=x onerror="document.title=\'pwned\';window.__pwned=1">',
           "</script><script>document.title='pwned';window.__pwned=1</script>",
           '"><script>window.__pwned=1</script>',
           "javascript:document.title='pwned'",
           "' onmouseover='window.__pwned=1' x='",
           "<svg/onload=window.__pwned=1>",
           "{{ 7*7 }}{% raw %}<!--"]


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    """One headless Chromium for the module, its console log captured."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--disable-extensions", "--no-first-run", "--window-size=1200,1000",
                     f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(20)
    yield browser
    browser.quit()


@pytest.fixture(scope="module")
def episode(tmp_path_factory) -> Path:
    """A recorded Full-v0 game with every kind of thought, moves, the opponent's replies and an ending."""
    folder = tmp_path_factory.mktemp("episode")
    env = RecordEpisode(gymnasium.make("tttthought/Full-v0", opponent="minimax", opponent_epsilon=0.0), folder)
    base = env.unwrapped
    env.reset(seed=3)
    for channel, arg in (("propose", 4), ("negate", 0), ("marker", 1), ("move", 4), ("forget", 4)):
        env.step(base.encode_action(channel, arg))
    rng, done = np.random.default_rng(0), False
    while not done:
        _, _, terminated, truncated, _ = env.step(int(rng.choice(np.flatnonzero(base.game.board == 0))))
        done = terminated or truncated
    env.close()
    return env.paths[-1]


def _open(driver, page: Path) -> None:
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(page.resolve().as_uri())
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")


def _severe(driver) -> list[dict]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _expected_cells(frame) -> list[str]:
    """What a person reads in each board cell: X, O, or the number of an empty cell."""
    return [SYMBOLS[int(v)].replace(".", "") or str(cell) for cell, v in enumerate(frame.game.board)]


# What is on screen, read in one round trip: the displayed frames, and the rendered text (innerText: what a
# person reads) of the first one's caption, board cells and store headings, and of the controls.
_SCREEN = """
var shown = Array.prototype.filter.call(document.querySelectorAll('section.frame'),
    function (s) { return getComputedStyle(s).display !== 'none'; });
function texts(root, selector) {
  return root ? Array.prototype.map.call(root.querySelectorAll(selector), function (e) { return e.innerText; }) : [];
}
return {ids: shown.map(function (s) { return s.id; }), caption: texts(shown[0], '.caption'),
        cells: texts(shown[0], 'table.board td'), stores: texts(shown[0], 'h3'),
        pos: document.getElementById('pos').innerText, slider: document.getElementById('slider').value,
        current: texts(document, 'ol.log li.current')};
"""


def _assert_shows(driver, frames, index: int) -> dict:
    """Exactly frame ``index`` is on screen, with its caption and board, and the controls agree."""
    screen = driver.execute_script(_SCREEN)
    caption = frames[index].caption
    assert screen["ids"] == [f"f{index}"], f"frame {index} ({caption}) should be the one shown"
    assert screen["caption"] == [caption]
    assert screen["cells"] == _expected_cells(frames[index]), f"frame {index}: {caption}"
    assert (screen["pos"], screen["slider"], screen["current"]) == (f"{index + 1} / {len(frames)}", str(index),
                                                                    [caption])
    return screen


def _no_script_ran(driver, expected_title: str) -> None:
    try:
        text = driver.switch_to.alert.text
    except NoAlertPresentException:
        pass
    else:
        pytest.fail(f"an alert is open: {text!r}")
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    assert driver.title == expected_title != "pwned"
    assert driver.execute_script("return document.scripts.length") == 1, "only the page's own script"
    assert driver.find_elements(By.CSS_SELECTOR, "img, svg, iframe, object, embed, a[href], [onerror], "
                                                 "[onload], [onmouseover]") == []


@pytest.fixture(scope="module")
def page(episode, tmp_path_factory) -> tuple[Path, list]:
    """The page of the recorded episode, and the frames it should show."""
    records = load_episode(episode)
    frames = episode_frames(records)
    assert len(frames) >= 10 and {"start", "propose", "negate", "marker", "forget", "move", "reply"} <= \
        {f.event for f in frames}
    return write_html(records, tmp_path_factory.mktemp("page") / "page.html"), frames


@pytest.fixture
def shown(driver, page):
    """The page freshly loaded at its first frame: ``(frames, last index)``; no console error by the end."""
    path, frames = page
    _open(driver, path)
    _assert_shows(driver, frames, 0)
    yield frames, len(frames) - 1
    assert _severe(driver) == []


def _button(driver, name: str):
    return driver.find_element(By.ID, name)


def test_the_console_log_is_read(driver, tmp_path):
    """The check below would see an error: a page that throws logs a SEVERE entry."""
    probe = tmp_path / "probe.html"
    probe.write_text("<!DOCTYPE html><title>probe</title><script>throw new Error('probe')</script>")
    _open(driver, probe)
    assert any("probe" in entry["message"] for entry in _severe(driver))


def test_the_page_loads_with_no_console_error(driver, page):
    path, frames = page
    _open(driver, path)
    assert _severe(driver) == []
    assert driver.title == driver.find_element(By.TAG_NAME, "h1").text == "tttthought replay: tttthought/Full-v0"
    _assert_shows(driver, frames, 0)
    assert [li.text for li in driver.find_elements(By.CSS_SELECTOR, "ol.log li")] == [f.caption for f in frames]
    assert driver.find_element(By.ID, "slider").get_attribute("max") == str(len(frames) - 1)


def test_the_buttons_step_through_every_frame(driver, shown):
    frames, last = shown
    for index in range(1, last + 1):
        _button(driver, "next").click()
        _assert_shows(driver, frames, index)
    _button(driver, "next").click()  # stays on the last frame
    _assert_shows(driver, frames, last)
    for index in range(last - 1, -1, -1):
        _button(driver, "prev").click()
        _assert_shows(driver, frames, index)
    _button(driver, "prev").click()
    _assert_shows(driver, frames, 0)
    _button(driver, "last").click()
    _assert_shows(driver, frames, last)
    _button(driver, "first").click()
    _assert_shows(driver, frames, 0)


def test_the_arrow_keys_step_through_every_frame(driver, shown):
    frames, last = shown
    body = driver.find_element(By.TAG_NAME, "body")
    for index in range(1, last + 1):
        body.send_keys(Keys.ARROW_RIGHT)
        _assert_shows(driver, frames, index)
    for index in range(last - 1, -1, -1):
        body.send_keys(Keys.ARROW_LEFT)
        _assert_shows(driver, frames, index)


def test_the_slider_steps_through_every_frame(driver, shown):
    frames, last = shown
    slider = driver.find_element(By.ID, "slider")
    move = "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'));"
    slider.click()  # focused: then each arrow key moves it, and the page, one frame
    driver.execute_script(move, slider, 0)
    _assert_shows(driver, frames, 0)
    for index in range(1, last + 1):
        slider.send_keys(Keys.ARROW_RIGHT)
        _assert_shows(driver, frames, index)
    for index in range(last - 1, -1, -1):
        slider.send_keys(Keys.ARROW_LEFT)
        _assert_shows(driver, frames, index)
    for index in (3, last, 0):  # dragged to a position
        driver.execute_script(move, slider, index)
        _assert_shows(driver, frames, index)


def test_the_log_lines_and_play(driver, shown):
    frames, last = shown
    items = driver.find_elements(By.CSS_SELECTOR, "ol.log li")
    for index in (last, 2, 0):  # a line of the log shows its frame
        items[index].click()
        _assert_shows(driver, frames, index)
    _button(driver, "play").click()  # play advances by itself; pressed again it pauses
    WebDriverWait(driver, 5, poll_frequency=0.05).until(
        lambda d: d.find_element(By.ID, "pos").text == f"2 / {len(frames)}")
    _button(driver, "play").click()
    _assert_shows(driver, frames, 1)


@pytest.mark.parametrize("payload", HOSTILE)
def test_a_hostile_file_runs_no_script_and_shows_its_text(driver, episode, tmp_path, payload):
    lines = [json.loads(text) for text in episode.read_text().splitlines()]
    header = lines[0]
    agent = header["agent"]
    header.update(env_id=payload, names={str(agent): payload, str(1 - agent): payload + " 2"},
                  note=payload)  # a key the schema does not know: kept, never shown
    hostile = tmp_path / "hostile.jsonl"
    hostile.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    records = load_episode(hostile)  # the schema accepts these strings: they are names and an env id
    frames = episode_frames(records)
    _open(driver, write_html(records, tmp_path / "hostile.html"))
    title = f"tttthought replay: {payload}"
    _no_script_ran(driver, title)
    assert driver.find_element(By.TAG_NAME, "h1").text == title  # the payload, shown as text
    assert any(payload in f.caption for f in frames)
    next_button = driver.find_element(By.ID, "next")
    for index in range(len(frames)):  # every frame, with the pointer over its text
        if index:
            next_button.click()
        stores = _assert_shows(driver, frames, index)["stores"]
        assert stores[agent].startswith(f"{'XO'[agent]} ({payload}) store")
        assert stores[1 - agent].startswith(f"{'XO'[1 - agent]} ({payload} 2) store")
        caption = driver.find_element(By.CSS_SELECTOR, f"#f{index} .caption")
        webdriver.ActionChains(driver, duration=0).move_to_element(caption).perform()
    _no_script_ran(driver, title)
    assert _severe(driver) == []
