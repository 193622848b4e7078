"""Debian's headless Chromium (packages chromium + chromium-driver, scripts/install_test_deps.sh)
driven by Selenium, with a profile of its own that is removed afterwards."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@contextmanager
def chromium(width: int, height: int = 900, self_signed: bool = False) -> Iterator[Any]:
    """A Chrome WebDriver with a ``width`` x ``height`` window; ``self_signed``: accepts a
    self-signed certificate (``make cluster``'s)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        raise FileNotFoundError("chromium / chromedriver missing: run scripts/install_test_deps.sh")
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
    ]
    if self_signed:
        flags.append("--ignore-certificate-errors")
    for flag in flags:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
