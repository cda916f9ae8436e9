"""In a real browser: the assessment page as a county officer sees it, and one drill-down.

The pages are saved as /tmp/assessment-<page>.png (JINGZHUN_SCREENSHOTS overrides the folder).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PASSWORD, County, Personas
from tests.oversight.test_assessment_scores import build

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None, reason="Debian's chromium is not installed; browser tests skipped"
    ),
]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
SHOTS = Path(os.environ.get("JINGZHUN_SCREENSHOTS", "/tmp"))


@pytest.fixture
def browser_page(live_server: Any) -> Any:
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1500, "height": 900}, locale="zh-CN")
        yield context.new_page()
        browser.close()


def test_assessment_in_a_browser(
    audit_flushable: Any, county: County, personas: Personas, live_server: Any, browser_page: Any
) -> None:
    # given
    build(county, personas)
    page = browser_page
    url = live_server.url
    page.goto(f"{url}/admin/login/?next=/oversight/assessment/?year=2018")
    page.fill("input[name=username]", personas.county_officer.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{url}/oversight/assessment/?year=2018")
    # then
    body = page.inner_text("body")
    assert "甲镇中心小学" in body and "86.1" in body and "17.9" in body
    page.screenshot(path=str(SHOTS / "assessment-page.png"), full_page=True)
    page.click('#jz-townships tr[data-township="420101002"] a[href*="/dropout_cases/"]')
    assert "李小军" in page.inner_text("body")
    page.screenshot(path=str(SHOTS / "assessment-records.png"), full_page=True)
