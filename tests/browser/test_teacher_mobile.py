"""In a real browser on a phone-sized screen: the class teacher records a home visit from /m/,
and the township officer finds it on the case page.

Screenshots go to /tmp/duty-shots/ (mobile list and student page, the case and the ledger,
in Chinese and in English) so that a person can look at them.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.db import connections
from tests.conftest import PASSWORD, County, Personas
from tests.duty.test_contacts import school_a_with_three_classes  # noqa: F401 (a fixture)

from jingzhun.aid import services as aid_services
from jingzhun.duty import services
from jingzhun.duty.models import CaseStep, DropoutCase
from jingzhun.identification.services import identification_run
from jingzhun.schools.models import Enrolment

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="Debian's chromium (/usr/bin/chromium) is not installed; browser tests skipped",
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
SHOTS = Path(os.environ.get("JINGZHUN_SHOTS", "/tmp/duty-shots"))  # noqa: S108
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
T = TypeVar("T")
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c"
    "1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0"
    "000b080001000101011100ffc4001f0000010501010101010100000000000000000102030405060708090a0bff"
    "c400b5100002010303020403050504040000017d01020300041105122131410613516107227114328191a10823"
    "42b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a5354555657"
    "58595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aa"
    "b2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8"
    "f9faffda0008010100003f00fbd3ffd9"
)


@pytest.fixture
def browser(live_server: Any) -> Any:
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the live server runs beside
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def open_case(county: County, personas: Personas) -> DropoutCase:
    """Children A and B dropped out; the October run opened their cases; aid was computed."""
    Enrolment.objects.filter(pk__in=[county.enrolment_a.pk, county.enrolment_b.pk]).update(
        status="dropped_out", status_date=dt.date(2018, 9, 20)
    )
    identification_run(actor=None, county_code="420101", as_of=dt.date(2018, 10, 8), fuzzy=None)
    aid_services.aid_compute(actor=None, county_code="420101", school_year=2018, semester="autumn")
    services.cases_open_from_identification(actor=None, county_code="420101")
    return DropoutCase.objects.get(person=county.person_a)


def log_in(page: Any, base: str, path: str, username: str) -> None:
    """Open `path`; the login page comes first (?next=...), then the page itself."""
    page.goto(f"{base}{path}")
    assert "/admin/login/" in page.url and f"next={path}" in page.url.replace("%2F", "/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{base}{path}")


def read_db(query: Callable[[], T]) -> T:
    """Run a database read in a thread of its own and close that thread's connection.

    Playwright's event loop runs in the test's thread, where Django would open a second
    connection that nobody closes (PostgreSQL then refuses to drop the test database).
    """

    def run() -> T:
        try:
            return query()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_teacher_records_a_visit_on_the_phone_and_the_township_sees_it(
    audit_flushable: Any,
    open_case: DropoutCase,
    county: County,
    personas: Personas,
    live_server: Any,
    browser: Any,
    tmp_path: Path,
) -> None:
    base = live_server.url
    photo = tmp_path / "visit.jpg"
    photo.write_bytes(JPEG)

    # given: the class teacher on a phone, in Chinese (the site's default)
    phone = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = phone.new_page()
    log_in(page, base, "/m/", personas.teacher_a.username)
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    card = page.locator(f'[data-student="{county.student_a.pk}"]')
    assert "张小明" in card.inner_text()
    assert "李小红" not in page.inner_text("body")
    # nothing is wider than the phone
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "mobile-home-zh.png")

    # when: they tap the student, choose a home visit, tap a phrase, add a photo and save
    card.tap()
    page.wait_for_url(f"{base}/m/students/{county.student_a.pk}/")
    shot(page, "mobile-student-zh.png")
    page.locator("#m-visit .m-choices span").first.tap()
    page.locator("[data-phrase]").nth(1).tap()
    page.set_input_files("input[name=photo]", str(photo))
    page.locator("#m-visit-submit").tap()
    page.wait_for_selector(".m-msg.success")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "mobile-recorded-zh.png")

    # then: the visit is on the case, with the photo
    step = read_db(CaseStep.objects.get)
    assert (step.case_id, step.kind, step.recorded_by_id, bool(step.evidence)) == (
        open_case.pk,
        "home_visit",
        personas.teacher_a.pk,
        True,
    )

    # and the same page in English
    page.locator("footer button[name=language]").tap()
    page.wait_for_selector("html[lang=en]")
    assert "Record a visit" in page.inner_text("body")
    shot(page, "mobile-student-en.png")
    page.goto(f"{base}/m/")
    shot(page, "mobile-home-en.png")
    phone.close()

    # when: the township officer logs in on a desktop (a new browser context)
    desk = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    office = desk.new_page()
    log_in(office, base, f"/duty/cases/{open_case.pk}/", personas.township_a.username)
    # then: the visit is on the case page, its photo behind the scoped download
    row = office.locator(f'tr[data-step="{step.pk}"]')
    assert step.text in row.inner_text()
    assert row.locator(f'a[href="/duty/steps/{step.pk}/evidence/"]').count() == 1
    shot(office, "case-zh.png")
    office.goto(f"{base}/duty/")
    ledger = office.inner_text("#jz-ledger")
    assert "张小明" in ledger and "李小红" not in ledger
    desk.add_cookies([{"name": "django_language", "value": "en", "url": base}])
    office.goto(f"{base}/duty/cases/{open_case.pk}/")
    shot(office, "case-en.png")
    desk.close()

    # the county's ledger: child B's case, untouched since October, is overdue (black) and first
    county_desk = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    county_page = county_desk.new_page()
    log_in(county_page, base, "/duty/", personas.county_officer.username)
    flags = county_page.locator("#jz-ledger [data-flag]")
    assert [flags.nth(i).get_attribute("data-flag") for i in range(flags.count())] == ["black", ""]
    shot(county_page, "ledger-zh.png")
    county_desk.add_cookies([{"name": "django_language", "value": "en", "url": base}])
    county_page.goto(f"{base}/duty/")
    assert "Dropout case ledger" in county_page.inner_text("body")
    shot(county_page, "ledger-en.png")
    county_desk.close()


@pytest.mark.usefixtures("school_a_with_three_classes")
def test_principal_finds_a_student_in_the_grouped_list_as_they_type(
    audit_flushable: Any,
    county: County,
    personas: Personas,
    live_server: Any,
    browser: Any,
) -> None:
    base = live_server.url
    phone = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = phone.new_page()
    log_in(page, base, "/m/", personas.principal_a.username)
    # given: the school's poor students, grouped by class in grade order
    groups = page.locator("[data-group] h2")
    assert [groups.nth(i).inner_text().split()[0] for i in range(groups.count())] == [
        "一年级1班",
        "三年级1班",
        "五年级2班",
    ]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # when: they type part of a name (no request: the list filters itself)
    page.fill("#m-q", "小芳")
    # then: only that card and its class stay visible
    visible = page.locator("[data-name]:visible")
    assert [visible.nth(i).get_attribute("data-name") for i in range(visible.count())] == ["王小芳"]
    assert page.locator("[data-group]:visible").count() == 1
    shot(page, "mobile-principal-search-zh.png")
    # and submitting the search asks the server, which keeps the same card
    page.locator("#m-search button").tap()
    page.wait_for_selector("#m-searched")
    assert page.locator("[data-name]").count() == 1
    phone.close()
