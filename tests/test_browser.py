"""The web page in headless Chromium (Debian's package, driven by Playwright), against the
real server on loopback: Chromium's fake microphone plays recordings the test makes
(joe's voice), and the page records a reference and the consent phrase, enrolls, speaks,
plays and downloads the clone, then finds the watermark in the download."""

from __future__ import annotations

import shutil
import socket
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from voxclone.audio import Audio, load_audio, write_audio

from .conftest import opus_16k, piper_speak
from .server_helpers import Owner, add_owner

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed (apt-get install "
                                       "chromium; `make test` does it)")
playwright_api = pytest.importorskip("playwright.sync_api")
uvicorn = pytest.importorskip("uvicorn")


@pytest.fixture()
def server_url(_isolated_home: Path) -> Iterator[str]:
    from voxclone.server import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def microphone_plays(audio: Audio, path: Path) -> float:
    """Make Chromium's fake microphone play ``audio`` next time a recording starts."""
    write_audio(audio.resample(48_000), path)
    return audio.duration


def record(page: object, start: str, stop: str, seconds: float) -> None:
    page.click(start)  # type: ignore[attr-defined]
    page.wait_for_timeout(int((seconds + 0.8) * 1000))  # type: ignore[attr-defined]
    page.click(stop)  # type: ignore[attr-defined]


def test_enroll_speak_play_and_detect_in_the_browser(server_url: str, tmp_path: Path,
                                                     joe_reference: Audio) -> None:
    owner: Owner = add_owner("alice")
    microphone = tmp_path / "microphone.wav"
    seconds = microphone_plays(joe_reference, microphone)
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={microphone}%noloop",
            "--autoplay-policy=no-user-gesture-required"])
        page = browser.new_page(accept_downloads=True)
        page.goto(server_url)
        page.fill("#api-key", owner.key)
        page.click("#save-key")
        page.wait_for_selector("#key-status.good")

        page.fill("#voice-name", "ada")
        record(page, "#ref-record", "#ref-stop", seconds)
        assert "recorded" in page.inner_text("#ref-status")
        page.wait_for_function("document.getElementById('quality-report').textContent",
                               timeout=120_000)
        assert page.inner_text("#quality-report").startswith("Quality: ")
        page.select_option("#effort", "stock")
        for _attempt in range(3):  # like a person asked to read the phrase again
            page.click("#get-challenge")
            page.wait_for_function("document.getElementById('challenge-text').textContent")
            text = page.inner_text("#challenge-text")
            record(page, "#consent-record", "#consent-stop",
                   microphone_plays(piper_speak(text), microphone))
            page.click("#enroll")
            page.wait_for_function("['good', 'warn', 'error'].includes(document."
                                   "getElementById('enroll-status').className)",
                                   timeout=180_000)
            if "enrolled ada" in page.inner_text("#enroll-status"):
                break
        assert "enrolled ada" in page.inner_text("#enroll-status")

        page.fill("#speak-text", "Hello from the browser. This voice was cloned with consent.")
        page.click("#speak")
        page.wait_for_selector("#speak-status.good", timeout=120_000)
        assert page.inner_text("#speak-status").startswith("watermark ")
        # it played as it streamed (Web Audio), all of it; the player holds the whole file
        page.wait_for_function("playing.context.currentTime > 0.2", timeout=30_000)
        played = page.evaluate("playing.scheduled")
        page.wait_for_function("document.getElementById('player').duration > 0")
        duration = page.evaluate("document.getElementById('player').duration")
        assert 2.0 < duration < 15.0 and abs(played - duration) < 0.01
        # a second request while the first streams stops it: only the latest plays
        page.fill("#speak-text", "One more sentence, spoken twice over.")
        page.click("#speak")
        page.click("#speak")
        page.wait_for_selector("#speak-status.good", timeout=120_000)
        again = page.evaluate("document.getElementById('player').duration")
        assert abs(page.evaluate("playing.scheduled") - again) < 0.01 and again < duration
        page.fill("#speak-text", "Hello from the browser. This voice was cloned with consent.")
        page.click("#speak")
        page.wait_for_selector("#speak-status.good", timeout=120_000)

        with page.expect_download() as download:
            page.click("#download")
        saved = tmp_path / "clone.wav"
        download.value.save_as(saved)
        with wave.open(str(saved)) as wav:  # the streamed header's sizes were written
            assert wav.getnframes() * 2 == saved.stat().st_size - 44
        page.set_input_files("#detect-file", str(saved))
        page.wait_for_function("document.getElementById('detect-result').className "
                               "=== 'warn'", timeout=60_000)
        assert "voxclone watermark found" in page.inner_text("#detect-result")
        assert "voice ada" in page.inner_text("#detect-result")
        # the same speech as a low-bitrate voice message, which strips the mark: found by
        # the fingerprint the server stored
        message = tmp_path / "message.ogg"
        message.write_bytes(opus_16k(load_audio(saved), 0.97))
        page.set_input_files("#detect-file", str(message))
        page.wait_for_function("document.getElementById('detect-result').textContent"
                               ".includes('by its fingerprint')", timeout=60_000)
        assert page.evaluate("document.getElementById('detect-result').className") == "warn"
        assert "voice ada" in page.inner_text("#detect-result")
        # a person's voice message at that bitrate: "not found" is not a green light
        person = tmp_path / "person.ogg"
        person.write_bytes(opus_16k(piper_speak(
            "Call me back when you can, I will be at home all evening."), 0.97))
        page.set_input_files("#detect-file", str(person))
        page.wait_for_function("document.getElementById('detect-result').textContent"
                               ".includes('but the file is Opus at')", timeout=60_000)
        assert page.evaluate("document.getElementById('detect-result').className") == ""
        browser.close()
