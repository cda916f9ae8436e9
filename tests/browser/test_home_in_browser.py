"""In a real browser: a township officer logs in, sees their township only, switches language."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PASSWORD, Personas

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
pytestmark = [
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


@pytest.fixture
def page(live_server: Any) -> Any:
    os.environ.setdefault(
        "DJANGO_ALLOW_ASYNC_UNSAFE", "true"
    )  # the live server runs beside Playwright
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        yield context.new_page()
        browser.close()


def test_township_officer_logs_in_and_sees_own_township(
    audit_flushable: Any, personas: Personas, live_server: Any, page: Any, tmp_path: Path
) -> None:
    page.goto(f"{live_server.url}/admin/login/?next=/")
    page.fill("input[name=username]", personas.township_a.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    body = page.inner_text("body")
    assert "甲镇" in body and "乙乡" not in body
    page.screenshot(path=str(tmp_path / "home-zh.png"), full_page=True)
    page.goto(f"{live_server.url}/admin/registry/household/")
    listing = page.inner_text("body")
    assert "4201010010010001" in listing and "4201010020010001" not in listing
    page.goto(
        f"{live_server.url}/admin/registry/household/{personas.township_b.pk + 10_000}/change/"
    )
    assert (
        "404" in page.title()
        or page.locator("text=404").count() > 0
        or "Not Found" in page.content()
    )
