"""In a real browser: the county administrator (the leader's view of the county) opens the home
page with "what needs me", then the wall chart of the school year 2018-2019."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import PASSWORD, County, Personas
from tests.dashboard.browser import MARKS, shots_of
from tests.dashboard.tasks_world import build

pytestmark = MARKS


def test_leader_home_and_wall_chart(
    audit_flushable: Any,
    county: County,
    personas: Personas,
    live_server: Any,
    page: Any,
    tmp_path: Path,
) -> None:
    build(county, personas)
    shots = shots_of(tmp_path)
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
