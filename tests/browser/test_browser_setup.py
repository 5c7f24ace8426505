"""The browser tests fail, never skip, when Chromium is missing, and say how to install it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import CHROMEDRIVER, CHROMIUM, require_binaries


def test_a_missing_browser_fails_the_test_with_the_install_command(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match=r"nowhere/chromium missing: run \.ci/install-chromium"):
        require_binaries(tmp_path / "nowhere" / "chromium", CHROMEDRIVER)


def test_the_browser_and_its_driver_are_debians() -> None:
    require_binaries(CHROMIUM, CHROMEDRIVER)
