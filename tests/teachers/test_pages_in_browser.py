"""In a real browser: the teacher pages as a county officer and a township officer see them.

Each page is saved as /tmp/teachers-<page>.png (JINGZHUN_SCREENSHOTS overrides the folder) so
that a person can look at it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PASSWORD, County, Personas
from tests.teachers.helpers import add_pupils, add_teacher

from jingzhun.schools.models import School, Stage
from jingzhun.teachers.models import Exchange, ServicePeriod, Teacher, Training

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
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        yield context.new_page()
        browser.close()


def _county_with_teachers(county: County) -> None:
    town = School.objects.create(
        code="2142010003", name="甲镇中学", kind="junior_high", township=county.township_a
    )
    titles = ["senior", "intermediate", "junior", "none", "full_senior"]
    staff = [
        add_teacher(
            county.school_a,
            seq,
            title=titles[seq % 5],
            staffing="in_establishment" if seq % 3 else "special_post",
            backbone=seq % 4 == 0,
            subject="语文" if seq % 2 else "数学",
        )
        for seq in range(1, 8)
    ]
    add_teacher(county.school_b, 8, title="senior")
    sender = add_teacher(town, 9, backbone=True, title="senior")
    add_pupils(county.school_a, Stage.PRIMARY, 150, boarding=True, school_year=2026)
    add_pupils(county.school_b, Stage.JUNIOR, 60, school_year=2026)
    for teacher in staff[:3]:
        Training.objects.create(
            teacher=teacher,
            programme="国培计划乡村教师培训",
            level="national",
            started_on=dt.date(2026, 7, 1),
            ended_on=dt.date(2026, 7, 10),
            hours=60,
        )
    Exchange.objects.create(
        teacher=sender, from_school=town, to_school=county.school_a, started_on=dt.date(2026, 9, 1)
    )
    ServicePeriod.objects.create(
        teacher=staff[0],
        kind="village_school",
        school=county.school_a,
        started_on=dt.date(1996, 9, 1),
    )


def _login(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/admin/login/?next=/teachers/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{url}/teachers/")


def test_teacher_pages_in_a_browser(
    audit_flushable: Any, county: County, personas: Personas, live_server: Any, browser_page: Any
) -> None:
    # given
    _county_with_teachers(county)
    page = browser_page
    url = live_server.url

    # when / then: the county officer goes through every page (in Chinese, the default)
    _login(page, url, personas.county_officer.username)
    body = page.inner_text("body")
    assert "教师花名册" in body and "甲镇中心小学" in body and "乙乡中学" in body
    assert "教师" in page.inner_text("nav") or "教师" in body
    page.screenshot(path=str(SHOTS / "teachers-roster.png"), full_page=True)
    for name, path, expected in (
        ("staffing", "/teachers/staffing/", "教师缺编"),
        ("training", "/teachers/training/", "方案未规定2026年的培训目标"),
        ("training-2018", "/teachers/training/?year=2018", "方案规定全县目标为230人次"),
        ("exchanges", "/teachers/exchanges/", "甲镇中学"),
        ("titles", "/teachers/titles/", "教师1"),
        ("coverage", "/teachers/coverage/", "生活补助已发放（应发学校）"),
        ("training-new", "/teachers/training/new/?school=" + str(county.school_a.pk), "登记培训"),
    ):
        page.goto(f"{url}{path}")
        assert expected in page.inner_text("body"), name
        page.screenshot(path=str(SHOTS / f"teachers-{name}.png"), full_page=True)

    # the form refuses an end before the start, in words
    page.select_option(
        "select[name=teacher]", label=f"教师1 {Teacher.objects.get(name='教师1').id_masked}"
    )
    page.fill("input[name=programme]", "省培")
    page.fill("input[name=started_on]", "2026-07-10")
    page.fill("input[name=ended_on]", "2026-07-01")
    page.click("#jz-training-form button[type=submit]")
    assert "结束日期早于开始日期" in page.inner_text("body")
    page.screenshot(path=str(SHOTS / "teachers-training-refused.png"), full_page=True)
    assert Training.objects.count() == 3

    # a township officer of B sees township B only
    page.context.clear_cookies()
    _login(page, url, personas.township_b.username)
    body = page.inner_text("body")
    assert "教师8" in body and "甲镇中心小学" not in body
    page.screenshot(path=str(SHOTS / "teachers-roster-township-b.png"), full_page=True)
