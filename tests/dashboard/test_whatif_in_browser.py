"""In a real browser: the aid centre makes a draft, raises an amount and reads the what-if."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.aid.world import identify
from tests.conftest import PASSWORD, Personas
from tests.dashboard.browser import MARKS, shots_of

from jingzhun.registry.models import Household

pytestmark = MARKS


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
    shots = shots_of(tmp_path)
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
