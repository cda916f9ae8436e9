"""In a real browser: the county administrator (the leader's view of the county) opens the home
page with "what needs me", then the wall chart of the school year 2018-2019."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PASSWORD, County, Personas
from tests.dashboard.tasks_world import build

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
SHOTS = os.environ.get("JINGZHUN_SHOTS", "")


@pytest.fixture
def page(live_server: Any) -> Any:
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        yield context.new_page()
        browser.close()


def test_leader_home_and_wall_chart(
    audit_flushable: Any,
    county: County,
    personas: Personas,
    live_server: Any,
    page: Any,
    tmp_path: Path,
) -> None:
    build(county, personas)
    shots = Path(SHOTS) if SHOTS else tmp_path
    page.goto(f"{live_server.url}/admin/login/?next=/")
    page.fill("input[name=username]", personas.county_officer.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("#home-needs").count() == 1
    # today (2026) every open task of 2018 is overdue: cases, nodes, rectifications, targets
    assert page.inner_text("[data-count=overdue]").strip() == "10"
    page.screenshot(path=str(shots / "home-needs.png"), full_page=True)
    page.goto(f"{live_server.url}/centre/wall-chart/?from=2018-09&to=2019-08")
    # 9 tasks; target lines: 5 unmet of 2016-2017, special-education funds of 2018 and 2019
    assert page.locator("#jz-chart tbody tr").count() == 9 + 7
    assert page.locator("#jz-chart thead th.m").count() == 12
    assert page.locator("#jz-chart tbody tr[data-flag=red]").count() >= 3
    page.screenshot(path=str(shots / "wall-chart.png"), full_page=True)
    page.goto(f"{live_server.url}/centre/task-books/?year=2018")
    assert page.locator("#jz-books tbody tr").count() == 4
    page.screenshot(path=str(shots / "task-books.png"), full_page=True)
