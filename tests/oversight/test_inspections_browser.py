"""In a real browser: the inspection pages as the inspector and a township officer see them,
and the phone page of the verification sample.

Each page is saved as /tmp/inspections-<page>.png (JINGZHUN_SCREENSHOTS overrides the folder)
so that a person can look at it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import ID_A, PASSWORD, County, Personas
from tests.oversight.test_inspections_world import build, finding

from jingzhun.oversight import services

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
def browser(live_server: Any) -> Any:
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _login(page: Any, url: str, username: str, to: str) -> None:
    page.goto(f"{url}/admin/login/?next={to}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{url}{to}")


def test_inspection_pages_in_a_browser(
    audit_flushable: Any, county: County, personas: Personas, live_server: Any, browser: Any
) -> None:
    # given: a plan with school A visited, its sample drawn and checked, two findings
    w = build(county, personas)
    (row,) = services.sample_draw(actor=personas.inspector, visit=w.visit_a)
    services.sample_check_record(actor=personas.inspector, check=row, outcome="full")
    fa = finding(w, w.visit_a, owner=personas.principal_a)
    finding(w, w.visit_b, text="乙校考勤记录缺失", deadline=dt.date(2030, 1, 1))
    services.rectification_note_add(
        actor=personas.principal_a, rectification=fa.rectification, text="已补齐公示材料"
    )
    url = live_server.url

    # when / then: the inspector's pages
    page = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN").new_page()
    _login(page, url, personas.inspector.username, "/oversight/inspections/")
    assert "2018年下半年督导检查" in page.inner_text("body")
    page.screenshot(path=str(SHOTS / "inspections-plans.png"), full_page=True)
    for name, path, expected in (
        ("plan", f"/oversight/inspections/{w.plan.pk}/", "乙校考勤记录缺失"),
        ("visit", f"/oversight/inspections/visits/{w.visit_b.pk}/", "乙乡中学"),
        ("findings", "/oversight/findings/", "资助公示材料缺失"),
        ("rectification", f"/oversight/rectifications/{fa.rectification.pk}/", "已补齐公示材料"),
        ("finding-new", f"/oversight/inspections/visits/{w.visit_a.pk}/findings/new/", "甲镇"),
    ):
        page.goto(f"{url}{path}")
        body = page.inner_text("body")
        assert expected in body, name
        assert ID_A not in page.content(), name
        page.screenshot(path=str(SHOTS / f"inspections-{name}.png"), full_page=True)

    # the township officer of B sees only its own finding
    other = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN").new_page()
    _login(other, url, personas.township_b.username, "/oversight/findings/")
    body = other.inner_text("#jz-findings")
    assert "乙校考勤记录缺失" in body and "资助公示材料缺失" not in body
    other.screenshot(path=str(SHOTS / "inspections-findings-township-b.png"), full_page=True)

    # the phone page: record a check on a small screen
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
    ).new_page()
    _login(phone, url, personas.inspector.username, f"/oversight/m/visits/{w.visit_a.pk}/")
    assert county.student_a.name in phone.inner_text("body")
    phone.screenshot(path=str(SHOTS / "inspections-mobile-sample.png"), full_page=True)
    phone.goto(f"{url}/oversight/m/checks/{row.pk}/")
    phone.screenshot(path=str(SHOTS / "inspections-mobile-check.png"), full_page=True)
