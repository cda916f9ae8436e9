"""In a real browser: the aid centre makes a draft, raises an amount and reads the what-if."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.aid.world import identify
from tests.conftest import PASSWORD, Personas

from jingzhun.registry.models import Household

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
# Screenshots are kept here to be looked at (JINGZHUN_SHOTS), else in the test's tmp_path.
SHOTS = os.environ.get("JINGZHUN_SHOTS", "")


@pytest.fixture
def page(live_server: Any) -> Any:
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        yield context.new_page()
        browser.close()


def test_aid_centre_compares_a_draft_with_the_current_book(
    audit_flushable: Any,
    county: Any,
    personas: Personas,
    live_server: Any,
    page: Any,
    tmp_path: Path,
) -> None:
    identify()
    Household.objects.filter(pk=county.household_b.pk).update(status="left_poverty", exit_year=2017)
    shots = Path(SHOTS) if SHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    page.goto(f"{live_server.url}/admin/login/?next=/centre/what-if/?year=2018")
    page.fill("input[name=username]", personas.aid_officer.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_selector("#jz-new")
    page.fill("#jz-name", "寄宿生补助提高")
    page.click("#jz-new")
    page.click("#jz-confirm-new")
    page.wait_for_selector("#jz-amounts")
    page.fill("input[name='amount:boarding_primary']", "1200")
    page.click("#jz-amounts-check")
    page.wait_for_selector("#jz-preview")
    assert "1200.00" in page.inner_text("#jz-preview")
    page.screenshot(path=str(shots / "whatif-preview.png"), full_page=True)
    page.click("#jz-save-confirm")
    page.wait_for_selector("#jz-to-result")
    page.click("#jz-to-result")
    page.wait_for_selector("#jz-by-township")
    assert page.inner_text("#jz-difference").strip() == "+200.00"
    township = page.inner_text("#jz-by-township")
    assert "甲镇" in township and "1380.00" in township and "乙乡" in township
    assert "张小明" in page.inner_text("#jz-gains")
    page.screenshot(path=str(shots / "whatif-result.png"), full_page=True)
