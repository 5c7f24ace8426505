"""A headless Chromium driven by Selenium, for tests that look at pages as a person would.

Debian's ``chromium`` and ``chromium-driver`` packages provide the browser and
its driver (``.ci/install-chromium`` installs them); Selenium is pointed at
both, so Selenium Manager never downloads anything. Without them the tests
fail, telling what to run: a skipped browser test would hide a broken page.

``BROWSER_SCREENSHOTS`` (a directory) makes the tests save a full-page
screenshot of each page they open, for a person to look at; nothing is saved
otherwise.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

# The report fixtures: files in a temporary MEDIA_ROOT, and django-q2 running tasks in-process.
from tests.reports.conftest import q_sync  # noqa: F401

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,1600",
)


def require_binaries(*paths: Path) -> None:
    """Fail (never skip) the test when the browser or its driver is not installed."""
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        pytest.fail(f"{' and '.join(missing)} missing: run .ci/install-chromium (as root) to install them")


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    require_binaries(CHROMIUM, CHROMEDRIVER)
    # Selenium Manager must not look for (or fetch) a driver or browser of its own.
    os.environ.setdefault("SE_OFFLINE", "true")
    with tempfile.TemporaryDirectory(prefix="loopmonitor-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
        driver.set_page_load_timeout(60)
        try:
            yield driver
        finally:
            driver.quit()


@pytest.fixture
def screenshot(browser: webdriver.Chrome) -> Callable[[str], None]:
    """``screenshot(name)`` saves the whole page as ``$BROWSER_SCREENSHOTS/name.png`` when that is set."""
    directory = os.environ.get("BROWSER_SCREENSHOTS")

    def take(name: str) -> None:
        if not directory:
            return
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(1280, max(800, min(int(height) + 120, 8000)))
        Path(directory).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(directory) / f"{name}.png"))

    return take
