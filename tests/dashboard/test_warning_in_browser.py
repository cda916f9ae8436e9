"""In a real browser: the county officer reads the risk list; the class teacher's phone page."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PASSWORD, County, Personas

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
SHOTS = Path(os.environ.get("JZ_SHOTS", "/tmp"))


def _login(page: Any, url: str, user: Any) -> None:
    page.goto(f"{url}/admin/login/?next=/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{url}/")


def test_risk_list_and_check_on_in_browser(
    audit_flushable: Any,
    personas: Personas,
    county: County,
    live_server: Any,
) -> None:
    # 张小明: left-behind (1) and disabled (2) -> score 3; 李小红 has no signal
    county.person_a.left_behind = True
    county.person_a.disability_kind = "肢体"
    county.person_a.save()
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="zh-CN"
        ).new_page()
        _login(page, live_server.url, personas.county_officer)
        page.goto(f"{live_server.url}/centre/warning/?on=2018-11-01")
        body = page.inner_text("#jz-risk")
        assert "张小明" in body and "肢体" in body and "李小红" not in body
        page.screenshot(path=str(SHOTS / "warning-list.png"), full_page=True)
        phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        mobile = phone.new_page()
        _login(mobile, live_server.url, personas.teacher_a)
        mobile.goto(f"{live_server.url}/m/")
        mobile.click("#m-check-on")
        mobile.wait_for_url("**/centre/warning/check-on/")
        mobile.screenshot(path=str(SHOTS / "warning-check-on.png"), full_page=True)
        assert "李小红" not in mobile.inner_text("body")
        browser.close()
