"""The audit page in a browser (Debian's chromium): the counts, the kinds not yet checked, the
planted anomalies, and no whole number on the screen."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PASSWORD, County, Personas
from tests.oversight.audit_world import build

from jingzhun.oversight.audit_checks import audit_report
from jingzhun.oversight.audit_documents import audit_pdf

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
SHOTS = Path(os.environ.get("JINGZHUN_SCREENSHOTS", "/tmp"))


@pytest.fixture
def browser_page(live_server: Any) -> Any:
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        yield context.new_page()
        browser.close()


def test_audit_page_in_a_browser(
    audit_flushable: Any, county: County, personas: Personas, live_server: Any, browser_page: Any
) -> None:
    world = build(county, personas)
    (SHOTS / "audit-report.pdf").write_bytes(
        audit_pdf(audit_report(county_code="420101", school_year=2018), issuer="测试县教育局")
    )
    page, url = browser_page, live_server.url
    page.goto(f"{url}/admin/login/?next=/oversight/audit/%3Fyear%3D2018")
    page.fill("input[name=username]", personas.inspector.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{url}/oversight/audit/?year=2018")
    page.screenshot(path=str(SHOTS / "audit-page.png"), full_page=True)
    text = page.inner_text("body")
    for name in world.planted.values():
        assert name in text
    for number in world.ids + world.accounts:
        assert number not in text
    assert (
        page.locator("#jz-audit-anomalies tbody tr").count() == 8
    )  # one planted anomaly of each kind that can be checked
