"""In a real browser: the county officer reads the risk list; the class teacher's phone page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import County, Personas
from tests.dashboard.browser import MARKS, login, offline_browser, shots_of

pytestmark = MARKS


def test_risk_list_and_check_on_in_browser(
    audit_flushable: Any,
    personas: Personas,
    county: County,
    live_server: Any,
    tmp_path: Path,
) -> None:
    # 张小明: left-behind (1) and disabled (2) -> score 3; 李小红 has no signal
    county.person_a.left_behind = True
    county.person_a.disability_kind = "肢体"
    county.person_a.save()
    shots = shots_of(tmp_path)
    with offline_browser() as browser:
        page = browser.page(1280, 900)
        login(page, live_server.url, personas.county_officer)
        page.goto(f"{live_server.url}/centre/warning/?on=2018-11-01")
        body = page.inner_text("#jz-risk")
        assert "张小明" in body and "肢体" in body and "李小红" not in body
        page.screenshot(path=str(shots / "warning-list.png"), full_page=True)
        mobile = browser.page(390, 844)
        login(mobile, live_server.url, personas.teacher_a)
        mobile.goto(f"{live_server.url}/m/")
        mobile.click("#m-check-on")
        mobile.wait_for_url("**/centre/warning/check-on/")
        mobile.screenshot(path=str(shots / "warning-check-on.png"), full_page=True)
        assert "李小红" not in mobile.inner_text("body")
        assert browser.blocked == []
