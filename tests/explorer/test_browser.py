"""The timbre explorer in a real browser: Debian's chromium driven by selenium through chromedriver (`make browser`
installs both). Opens the page, counts the map's points, clicks a point and checks that the audio element holds
jaxsynth's render of that point's decoded patch, moves a latent slider and checks the sound changes, exports the
patch and renders it in torchsynth, and saves a screenshot in the test's tmp folder; on a model that hears, a chosen
WAV lands on the map at once (a marker element at the encoder's position).

Without chromium it skips with the reason, except under CI=true, where it fails: CI must run it."""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
import time

import numpy as np
import pytest

from tests.explorer.helpers import expected_point_audio, expected_upload, pcm_wav, wav_samples
from explorer import Explorer, ExplorerConfig, ServerThread, create_app
from matching import read_patch


CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1400,900", "--autoplay-policy=no-user-gesture-required")
FETCH_AUDIO = """
const done = arguments[arguments.length - 1];
fetch(document.getElementById('player').src).then(r => r.arrayBuffer()).then(b => {
  let s = ''; const u = new Uint8Array(b);
  for (let i = 0; i < u.length; i += 8192) s += String.fromCharCode(...u.subarray(i, i + 8192));
  done(btoa(s));
}).catch(e => done('error: ' + e));
"""
FETCH_TEXT = """
const done = arguments[arguments.length - 1];
fetch(arguments[0]).then(r => r.text()).then(done).catch(e => done('error: ' + e));
"""


def _browser_paths() -> tuple[str | None, str | None, str | None]:
    """(chromium, chromedriver, None) when both are installed, else (.., .., what is missing and what to do)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver, None
    missing = ", ".join(n for n, p in (("chromium", chromium), ("chromedriver", driver)) if not p)
    return chromium, driver, (f"the explorer's browser test needs Debian's chromium and chromium-driver (missing: "
                              f"{missing}); run `make browser` (apt-get install -y chromium chromium-driver, as root)")


CHROMIUM, CHROMEDRIVER, MISSING = _browser_paths()
# Skipped before any fixture is built when the browser is missing, except under CI=true: there `driver` fails.
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(MISSING is not None and os.environ.get("CI") != "true", reason=str(MISSING))]


@pytest.fixture(scope="module")
def driver():
    if MISSING:
        pytest.fail(MISSING)
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the test extra: pip install -e '.[test]'")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="explorer-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.binary_location = CHROMIUM
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_script_timeout(60)
    yield browser
    browser.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def served(tiny_run):
    explorer = Explorer.open(tiny_run, ExplorerConfig(), progress=False)
    with ServerThread(create_app(explorer)) as server:
        yield explorer, server.url


def _wait(browser, script: str, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = browser.execute_script(script)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}: {script}")


def _player_audio(browser) -> np.ndarray:
    data = browser.execute_async_script(FETCH_AUDIO)
    assert not data.startswith("error"), data
    return wav_samples(base64.b64decode(data))[0]


def test_page_plays_slides_and_exports(driver, served, tmp_path, tb):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    explorer, url = served
    driver.get(url + "/")
    _wait(driver, "return document.body.dataset.ready", "the map to load")
    n = len(explorer.space)
    assert driver.execute_script("return window.explorer.state.points.length") == n
    assert driver.find_element("id", "point-count").get_attribute("data-n") == str(n)
    assert driver.find_element("id", "point-count").text.startswith(f"{n} points")

    # click a point: the page must play exactly jaxsynth's render of that point's decoded patch
    canvas = driver.find_element("id", "map")
    width, height = driver.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.width, r.height]",
                                          canvas)
    index = 9
    x, y = driver.execute_script(f"return window.explorer.screenPosition({index})")
    ActionChains(driver).move_to_element_with_offset(canvas, int(x - width / 2), int(y - height / 2)).click().perform()
    _wait(driver, f"return document.getElementById('player').dataset.origin === 'point {index} (decoded)'",
          "the point's sound")
    clicked = _player_audio(driver)
    np.testing.assert_array_equal(clicked, expected_point_audio(explorer, index))
    assert driver.find_element("id", "origin").text == f"point {index} (decoded)"
    assert "measured from this sound (what plays)" in driver.find_element("id", "sound-descriptors").text

    # the player shows its real time: the clip's length once loaded, the position after playing to the end
    seconds = explorer.run.synth_config.buffer_size_seconds
    _wait(driver, f"return document.getElementById('player-time').textContent.endsWith('/ {seconds:.2f} s')",
          "the player's duration")
    driver.execute_script("const p = document.getElementById('player'); p.currentTime = 0; p.play();")
    _wait(driver, "return document.getElementById('player').ended", "the end of the sound")
    assert driver.find_element("id", "player-time").text == f"{seconds:.2f} / {seconds:.2f} s"

    # the hover tooltip says it describes the training patch and what a click plays
    ActionChains(driver).move_to_element_with_offset(canvas, int(x - width / 2), int(y - height / 2)).perform()
    tip = _wait(driver, "const t = document.getElementById('tooltip'); return !t.hidden && t.textContent",
                "the tooltip")
    assert "the training patch (this point's own sound)" in tip and "click plays its decoded patch" in tip

    # colour by a sound descriptor: the legend is a colour bar with its unit and the measured min and max
    Select(driver.find_element("id", "color-by")).select_by_value("sound:loudness")
    loudness = np.asarray([v for v in explorer.descriptors["loudness"] if np.isfinite(v)])
    for end, expected in (("legend-min", loudness.min()), ("legend-max", loudness.max())):
        number, unit = driver.find_element("id", end).text.split()
        assert unit == "dBFS" and float(number) == pytest.approx(expected, abs=0.51)
    assert "loudness" in driver.find_element("id", "legend").text
    labels = [e.text for e in driver.find_elements("css selector", "#sliders .k")]
    assert labels == [s["label"] for s in explorer.slider_labels]

    # move a latent slider with the keyboard: a new sound, not the same samples
    first_id = driver.execute_script("return document.getElementById('player').dataset.soundId")
    slider = driver.find_element("id", "z0")
    before = float(slider.get_attribute("value"))
    slider.send_keys(Keys.PAGE_UP)
    slider.send_keys(Keys.PAGE_UP)
    assert float(slider.get_attribute("value")) > before
    _wait(driver, f"const p = document.getElementById('player'); return p.dataset.soundId !== '{first_id}' && "
                  "document.getElementById('origin').textContent === 'latent sliders'", "the slider's sound")
    _wait(driver, "return !window.explorer.state.sliderInFlight && !window.explorer.state.sliderPending",
          "the last slider render")
    moved = _player_audio(driver)
    assert moved.shape == clicked.shape and np.abs(moved - clicked).max() > 1e-4
    z = driver.execute_script("return window.explorer.state.current.z")
    assert z[0] == pytest.approx(float(slider.get_attribute("value")), abs=1e-4)

    # export: the link's patch.json loads into torchsynth and renders what jaxsynth renders
    href = driver.find_element("id", "export-json").get_attribute("href")
    assert driver.find_element("id", "export-json").get_attribute("download").endswith(".json")
    text = driver.execute_async_script(FETCH_TEXT, href)
    assert not text.startswith("error"), text
    path = tmp_path / "patch.json"
    path.write_text(text)
    params01, synth = read_patch(path)
    np.testing.assert_array_equal(params01, explorer.sound(href.rsplit("/", 1)[1].removesuffix(".json")).full01)
    noise = json.loads(text)["noise"]
    assert noise["row"] == 0
    _torchsynth_agrees(tb, params01, synth, noise["seed"], moved)

    screenshot = tmp_path / "explorer.png"
    assert driver.save_screenshot(str(screenshot))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 20_000
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


def _torchsynth_agrees(tb, params01: np.ndarray, synth, noise_seed: int, explorer_audio: np.ndarray) -> None:
    """torchsynth renders the exported patch; jaxsynth on torchsynth's noise agrees with it, and on its own noise
    reproduces the page's sound (the patch names the noise row)."""
    import dataclasses

    import jax.numpy as jnp

    from jaxsynth import Voice, render

    config = dataclasses.replace(synth, batch_size=32)
    voice = tb.torch_voice(config)
    theirs = tb.render_torch(voice, np.tile(params01[None], (32, 1)))[0]
    ours = np.asarray(render(jnp.asarray(params01[None]), jnp.asarray(tb.read_noise(voice)[:1]), config))[0]
    assert np.all(np.isfinite(theirs)) and np.abs(theirs).max() > 0
    rel = np.sqrt(np.mean((theirs - ours) ** 2)) / max(np.sqrt(np.mean(theirs ** 2)), 1e-12)
    assert rel < 1e-3, rel
    jax_voice = Voice(config, noise_seed)
    again = np.asarray(jax_voice.render(params01[None], jax_voice.noise_rows[:1]))[0]
    np.testing.assert_allclose(again, explorer_audio, atol=1e-6)


@pytest.fixture(scope="module")
def served_hearing(tiny_timbre_run):
    explorer = Explorer.open(tiny_timbre_run, ExplorerConfig(match_budget_s=2.0, match_starts=2), progress=False)
    with ServerThread(create_app(explorer)) as server:
        yield explorer, server.url


@pytest.mark.slow
def test_an_uploaded_wav_lands_on_the_map_at_once(driver, served_hearing, tmp_path):
    explorer, url = served_hearing
    rate = explorer.run.synth_config.sample_rate
    t = np.arange(explorer.run.synth_config.buffer_size) / rate
    path = tmp_path / "uploaded.wav"
    path.write_bytes(pcm_wav(0.3 * np.sin(2 * np.pi * 330 * t) * np.exp(-4 * t), rate))
    driver.get(url + "/")
    _wait(driver, "return document.body.dataset.ready", "the map to load")
    assert driver.find_element("id", "upload-marker").get_attribute("hidden")
    driver.execute_script("document.getElementById('match-file').hidden = false")   # as if chosen with the button
    driver.find_element("id", "match-file").send_keys(str(path))
    xy = _wait(driver, "const u = window.explorer.state.upload; return u && u.xy", "the upload's position")
    _, expected_xy = expected_upload(explorer, path)
    np.testing.assert_allclose(xy, expected_xy, atol=1e-5)
    marker = driver.find_element("id", "upload-marker")
    assert marker.is_displayed()
    centre = driver.execute_script("""
        const m = document.getElementById('upload-marker').getBoundingClientRect();
        const c = document.getElementById('map').getBoundingClientRect();
        return [m.left + m.width / 2 - c.left, m.top + m.height / 2 - c.top];""")
    assert centre == pytest.approx(driver.execute_script("return window.explorer.screenOf(arguments[0])", xy), abs=1.0)
    _wait(driver, "return document.getElementById('player').dataset.soundId === window.explorer.state.upload.id",
          "the upload's decoded sound")
    # then sound matching refines it (the slower route); the marker stays where the encoder put it
    _wait(driver, "return window.explorer.state.match !== null", "the match", timeout=180)
    assert driver.find_element("id", "upload-marker").is_displayed()
