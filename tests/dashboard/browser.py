"""What the command centre's browser tests share: Debian's chromium and its flags, a browser
whose requests outside the test server are refused and counted, signing in, and where the
screenshots go (``JINGZHUN_SHOTS``, else the test's temporary directory)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from tests.conftest import PASSWORD

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None, reason="Debian's chromium is not installed; browser tests skipped"
    ),
]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def shots_of(tmp_path: Path) -> Path:
    """Return the folder the screenshots go to."""
    folder = os.environ.get("JINGZHUN_SHOTS", "")
    return Path(folder) if folder else tmp_path


class Offline:
    """A browser with the network unplugged: every request for another host is aborted and
    kept in ``blocked``."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        self.blocked: list[str] = []

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def page(self, width: int = 1440, height: int = 900) -> Any:
        """Return a new page (its own context: its own session) of the given size."""
        context = self.browser.new_context(
            viewport={"width": width, "height": height}, locale="zh-CN"
        )
        context.route("**/*", self._route)
        return context.new_page()


@contextmanager
def offline_browser() -> Iterator[Offline]:
    """Yield Debian's chromium with the network unplugged, closed afterwards."""
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the live server runs beside
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield Offline(browser)
        finally:
            browser.close()


def login(page: Any, base: str, user: Any) -> None:
    """Sign a persona in through the login form and wait for the home page."""
    page.goto(f"{base}/admin/login/?next=/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{base}/")
