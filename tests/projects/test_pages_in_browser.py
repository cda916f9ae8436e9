"""In a real browser: the school-condition pages as a county officer and a township officer
see them.

Each page is saved as /tmp/projects-<page>.png (JINGZHUN_SCREENSHOTS overrides the folder) so
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
from tests.projects.helpers import DAY_SCHOOL, close_all, load_standard, project, survey

from jingzhun.projects.models import Project, ProjectNode

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


def _county_with_projects(county: County, personas: Personas) -> dict[str, Project]:
    load_standard()
    officer = personas.county_officer
    survey(officer, county.school_a, dt.date(2016, 1, 10), not_met=["toilets", "canteen"])
    survey(officer, county.school_b, dt.date(2016, 1, 10), items=DAY_SCHOOL, not_met=["toilets"])
    a = project(
        officer,
        "renovation",
        school=county.school_a,
        items=["toilets"],
        budget=(("central", "300000.00"), ("county", "50000.00")),
    )
    close_all(officer, a)
    b = project(
        officer,
        "renovation",
        school=county.school_b,
        items=["toilets"],
        plan_year=2026,
        start=dt.date(2026, 6, 1),
    )
    project(
        officer,
        "informatization",
        school=county.school_a,
        plan_year=2026,
        items=["canteen"],
        budget=(("provincial", "20000.00"),),
        start=dt.date(2026, 11, 1),
    )
    return {"a": a, "b": b}


def _login(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/admin/login/?next=/projects/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{url}/projects/")


def test_project_pages_in_a_browser(
    audit_flushable: Any, county: County, personas: Personas, live_server: Any, browser_page: Any
) -> None:
    # given
    works = _county_with_projects(county, personas)
    page = browser_page
    url = live_server.url

    # when / then: the county officer goes through every page (in Chinese, the default)
    _login(page, url, personas.county_officer.username)
    body = page.inner_text("body")
    assert "办学条件任务书" in body and "当年未完成" in body
    assert "办学条件" in page.inner_text("nav") or "办学条件" in body
    page.screenshot(path=str(SHOTS / "projects-task-book.png"), full_page=True)
    for name, path, expected in (
        ("list", "/projects/list/", "3个项目"),
        ("detail", f"/projects/{works['a'].pk}/", "按期完成"),
        ("schools", "/projects/schools/", "须于"),
        ("coverage", "/projects/coverage/", "贫困村学校达到基本办学标准"),
        ("survey-new", f"/projects/schools/survey/?school={county.school_a.pk}", "登记核查"),
        ("new", "/projects/new/", "项目立项"),
        ("quotas", "/projects/quotas/", "贫困村（乡镇）学生在优质高中的招生名额"),
        ("quality-schools", "/projects/quotas/schools/", "勾选本县的优质高中"),
    ):
        page.goto(f"{url}{path}")
        assert expected in page.inner_text("body"), name
        page.screenshot(path=str(SHOTS / f"projects-{name}.png"), full_page=True)

    # closing the first node of school B's project without evidence is refused, in words
    node = works["b"].nodes.get(kind=ProjectNode.Kind.SETUP)
    page.goto(f"{url}/projects/{works['b'].pk}/")
    page.click("#jz-close-setup")
    page.fill("input[name=closed_on]", "2026-06-20")
    page.fill("input[name=evidence_ref]", " ")
    page.click("#jz-node-form button[type=submit]")
    assert "请填写该节点的佐证材料编号或上传其照片、扫描件" in page.inner_text("body")
    node.refresh_from_db()
    assert node.closed_on is None
    page.fill("input[name=evidence_ref]", "乙乡中学立项批复.pdf")
    page.click("#jz-node-form button[type=submit]")
    page.wait_for_url(f"{url}/projects/{works['b'].pk}/")
    assert "逾期完成" in page.inner_text("#jz-nodes")
    page.screenshot(path=str(SHOTS / "projects-detail-closed.png"), full_page=True)
    node.refresh_from_db()
    assert node.closed_on == dt.date(2026, 6, 20)

    # a township officer of B sees township B only
    page.context.clear_cookies()
    _login(page, url, personas.township_b.username)
    page.goto(f"{url}/projects/list/")
    body = page.inner_text("body")
    assert "乙乡中学" in body and "甲镇中心小学" not in body
    page.screenshot(path=str(SHOTS / "projects-list-township-b.png"), full_page=True)
