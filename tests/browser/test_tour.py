"""In a real browser: a guided tour of one semester of the tiny demo county, role by role.

The demo county is built through the real ``demo_setup`` command inside the test database
(as of Friday 4 December 2026, autumn semester 2026-2027), and the county's working period is
set to that semester on its settings (the working-period page's service), so that the pages
show it whatever the clock says. Each demo account then logs in and meets the work waiting for
it, in the order the work flows: the imported files, an identification run previewed and
confirmed, the confirmed rule book, the class check, the school's review and its notice, the
county's approval and the payment batch, the dropout cases and their steps, the chain and its
gaps, the monthly report, and one child's page.

With ``JINGZHUN_TOUR_SHOTS=DIR`` every step leaves a screenshot ``DIR/NN-name.png`` (the
pictures of docs/tour.md); otherwise they go to the test's temporary directory.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.utils import timezone, translation
from PIL import Image

from jingzhun.accounts.models import User
from jingzhun.aid.models import AidNotice, Entitlement, RuleBookVersion
from jingzhun.core.models import CountyProfile, ImportBatch
from jingzhun.core.working_year import county_working_period_set
from jingzhun.duty.models import CaseStep, DropoutCase
from jingzhun.duty.services import due_on, is_overdue
from jingzhun.funds.models import Payment, PaymentBatch
from jingzhun.identification.models import ChildStatus, IdentificationRun
from jingzhun.registry.models import Area, Household, Person

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
TODAY = dt.date(2026, 12, 4)  # the demo's day: a Friday in the autumn semester of 2026-2027
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# A page longer than this is shot as one screen, not whole (keeps the pictures small).
FULL_PAGE_MAX_HEIGHT = 2200
T = TypeVar("T")


# --------------------------------------------------------------------------- the demo county


@dataclass
class Case:
    pk: int
    name: str
    township: str  # its code
    overdue: bool
    due: dt.date
    steps: int


@dataclass
class Demo:
    """What the demo county holds, read from the database before the browser starts."""

    county: Area
    township: Area
    households: int
    persons: int
    imports: list[tuple[str, str]]  # (file name, status)
    runs: int
    current_run: IdentificationRun
    rule_book_confirmed_by: str
    pending: int
    teacher_class_id: int
    teacher_students: list[str]  # the class's poor students (latest run)
    teacher_pending: int
    school_classes_pending: dict[int, int]  # the principal's classes: class id -> to check
    principal_school: str
    principal2_school: str
    batch: PaymentBatch
    payments: list[tuple[str, str]]  # (student, account holder)
    cases: list[Case]
    today: dt.date


def build_demo(out: Path) -> Demo:
    """Set up the tiny demo county as ``make demo`` does, and pin its working period."""
    # In the site's language, as `jingzhun demo_setup` runs from a shell (the suite runs in
    # English): what the command writes in words, such as a case's reason, is then Chinese.
    with translation.override(settings.LANGUAGE_CODE):
        call_command(
            "demo_setup",
            "--scale",
            "tiny",
            "--out",
            str(out),
            "--today",
            TODAY.isoformat(),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    county = Area.objects.get(level="county")
    admin = User.objects.get(username="admin")
    # No test pins "today"; the pages read the county's working period, so hold it on the
    # demo's semester through the service the county settings page uses.
    profile, _made = CountyProfile.objects.get_or_create(
        county_code=county.code, defaults={"name": county.name}
    )
    county_working_period_set(actor=admin, profile=profile, school_year=2026, semester="autumn")

    users = {u.username: u for u in User.objects.select_related("area", "school", "school_class")}
    teacher, principal = users["teacher"], users["principal"]
    assert teacher.school_class is not None and principal.school is not None
    township = users["township"].area
    assert township is not None
    semester = Entitlement.objects.filter(school_year=2026, semester="autumn")
    run = IdentificationRun.objects.filter(status="done").order_by("-as_of", "-pk").first()
    assert run is not None
    mine = semester.filter(school=principal.school)
    classes: dict[int, int] = {}
    for class_id, review in mine.values_list("school_class_id", "review"):
        classes[class_id] = classes.get(class_id, 0) + (review == "pending")
    batch = PaymentBatch.objects.get(purpose="aid")
    today = timezone.localdate()
    cases = [
        Case(
            pk=c.pk,
            name=c.person.name,
            township=c.person.household.village.code[:9],  # a village code extends its township's
            overdue=is_overdue(c, today),
            due=due_on(c),
            steps=CaseStep.objects.filter(case=c).count(),
        )
        for c in DropoutCase.objects.filter(status="open")
        .select_related("person__household__village")
        .order_by("pk")
    ]
    book = RuleBookVersion.objects.get(school_year=2026, confirmed=True)
    return Demo(
        county=county,
        township=township,
        households=Household.objects.count(),
        persons=Person.objects.count(),
        imports=list(ImportBatch.objects.values_list("file_name", "status")),
        runs=IdentificationRun.objects.count(),
        current_run=run,
        rule_book_confirmed_by=book.confirmed_by.username if book.confirmed_by else "",
        pending=semester.filter(review="pending").count(),
        teacher_class_id=teacher.school_class.pk,
        teacher_students=sorted(
            ChildStatus.objects.filter(
                run=run, student__isnull=False, enrolment__school_class=teacher.school_class
            ).values_list("person__name", flat=True)
        ),
        teacher_pending=semester.filter(
            school_class=teacher.school_class, review="pending"
        ).count(),
        school_classes_pending=classes,
        principal_school=principal.school.name,
        principal2_school=users["principal2"].school.name,  # type: ignore[union-attr]
        batch=batch,
        payments=sorted(
            Payment.objects.filter(batch=batch).values_list("beneficiary", "payee_name")
        ),
        cases=cases,
        today=today,
    )


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


# --------------------------------------------------------------------------- the browser


@dataclass
class Tour:
    base: str
    browser: Any
    shots: Path
    step: int = 0
    pages: dict[str, Any] = field(default_factory=dict)

    def as_user(self, username: str, path: str, *, phone: bool = False) -> Any:
        """Return the user's page on ``path``, logged in (once per user and device)."""
        key = f"{username}{'-phone' if phone else ''}"
        page = self.pages.get(key)
        if page is None:
            options: dict[str, Any] = {"viewport": DESKTOP, "locale": "zh-CN"}
            if phone:
                options = {
                    "viewport": PHONE,
                    "device_scale_factor": 2,
                    "is_mobile": True,
                    "has_touch": True,
                    "locale": "zh-CN",
                }
            page = self.browser.new_context(**options).new_page()
            self.pages[key] = page
            page.goto(f"{self.base}/admin/login/?next={quote(path)}")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", f"demo-{username}-2018")
            page.click("button[type=submit], input[type=submit]")
            page.wait_for_url(f"{self.base}{path}")
        else:
            page.goto(f"{self.base}{path}")
        return page

    def shot(self, page: Any, name: str, *, whole: bool = True) -> None:
        """Save the page as NN-name.png: whole if not too long, else its first screen."""
        self.step += 1
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{self.step:02d}-{name}.png"
        height = page.evaluate("document.documentElement.scrollHeight")
        page.screenshot(path=str(path), full_page=whole and height <= FULL_PAGE_MAX_HEIGHT)
        small_png(path)

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()


def small_png(path: Path) -> None:
    """Save a screenshot again with a palette of 256 colours: a third of the bytes, and nothing
    visible lost on a page of text (pngquant's idea, with Pillow, which reportlab brings)."""
    with Image.open(path) as image:
        palette = image.convert("RGB").quantize(
            colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
    palette.save(path, optimize=True)


def submit(page: Any, selector: str) -> None:
    """Click a form's button and wait for the page the server answers with."""
    with page.expect_navigation():
        page.click(selector)


def texts(page: Any, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def number(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text))


@pytest.fixture
def tour(live_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tour]:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the live server runs beside
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("JINGZHUN_TOUR_SHOTS") or tmp_path / "shots")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        walk = Tour(live_server.url, browser, shots)
        yield walk
        walk.close()
        browser.close()


@pytest.fixture
def demo(audit_flushable: Any, tmp_path: Path) -> Demo:
    return build_demo(tmp_path / "demo")


# --------------------------------------------------------------------------- the tour


def test_a_new_user_walks_one_semester(demo: Demo, tour: Tour) -> None:
    the_county_and_its_files(tour, demo)
    identification_previewed_and_confirmed(tour, demo)
    the_rule_book_and_the_semesters_aid(tour, demo)
    the_class_checks_its_list(tour, demo)
    the_school_reviews_and_posts_its_notice(tour, demo)
    the_county_approves_and_pays(tour, demo)
    the_cases_due_now(tour, demo)
    one_child(tour, demo)
    the_chain_and_its_gaps(tour, demo)
    the_reports_and_the_audit_log(tour, demo)


def the_county_and_its_files(tour: Tour, demo: Demo) -> None:
    # the county administrator's home: the county's counts, in the demo's working period
    page = tour.as_user("admin", "/")
    assert "2026-2027" in page.inner_text("#working-period")
    assert number(page.inner_text("[data-count=households]")) == demo.households
    assert number(page.inner_text("[data-count=persons]")) == demo.persons
    assert demo.township.name in page.inner_text("body")
    tour.shot(page, "home")
    # the rolls and the registry came in through the imports page
    page = tour.as_user("admin", "/imports/")
    rows = texts(page, "table.jz-table tbody tr")
    assert len(rows) == len(demo.imports) >= 5
    for file_name, status in demo.imports:
        assert status == "done" and any(file_name in row for row in rows)
    assert any("rolls" in row and "学籍" in row for row in rows)
    tour.shot(page, "imports")


def identification_previewed_and_confirmed(tour: Tour, demo: Demo) -> None:
    page = tour.as_user("aid", "/identification/")
    assert page.locator("#jz-runs tr[data-run]").count() == demo.runs
    current = demo.current_run
    assert current.as_of == TODAY
    assert current.as_of.isoformat() in page.inner_text("#jz-runs tr[data-run]:first-child")
    assert page.locator("[id^=jz-preview-]").count() == 0
    tour.shot(page, "identification")
    # compute a preview (the background job runs at once under test): nothing changes yet
    submit(page, "#jz-run-now")
    page.wait_for_url(f"{tour.base}/identification/")  # the page reloads when the job ends
    preview = page.locator("[id^=jz-preview-]")
    assert preview.count() == 1
    preview.locator("a").click()
    page.wait_for_selector("#jz-confirm")
    run_pk = int(page.url.rstrip("/").rsplit("/", 1)[1])
    assert run_pk > current.pk
    # the same files a day later: nobody moved out of school, no link was lost
    assert page.inner_text("#jz-diff [data-diff=moved_out] .n").strip() == "0"
    assert page.inner_text("#jz-diff [data-diff=links_lost] .n").strip() == "0"
    tour.shot(page, "identification-preview")
    # confirm it: it becomes the current run, which the ledgers and casework read
    submit(page, "#jz-confirm button")
    assert page.locator("#jz-confirm").count() == 0
    status = read_db(lambda: IdentificationRun.objects.get(pk=run_pk))
    assert status.status == "done" and status.confirmed_by is not None
    page.goto(f"{tour.base}/identification/")
    assert page.locator("[id^=jz-preview-]").count() == 0
    assert page.locator("#jz-runs tr[data-run]").count() == demo.runs + 1


def the_rule_book_and_the_semesters_aid(tour: Tour, demo: Demo) -> None:
    # the year's rule book was carried forward from last year and confirmed
    page = tour.as_user("aid", "/aid/rulebook/")
    assert demo.rule_book_confirmed_by in page.inner_text("#jz-confirmed")
    assert page.locator("#jz-confirm").count() == 0  # nothing left to confirm
    assert "已确认" in page.inner_text("#jz-versions")
    assert page.locator("#jz-rules tr[data-rule]").count() > 5
    tour.shot(page, "rule-book")
    # the semester's aid: computed, most of it awaiting the class check
    page = tour.as_user("aid", "/aid/")
    assert number(page.inner_text("[data-review=pending] .n")) == demo.pending > 0
    tour.shot(page, "aid")


def the_class_checks_its_list(tour: Tour, demo: Demo) -> None:
    # the class teacher's aid check: their class's students, each line awaiting the check
    page = tour.as_user("teacher", "/aid/review/")
    listed = sorted(set(texts(page, "#jz-class tr[data-student] td:first-child a")))
    assert listed == demo.teacher_students
    assert str(demo.teacher_pending) in page.inner_text("#jz-checked")
    tour.shot(page, "class-check")
    submit(page, "#jz-checked")
    assert page.locator("#jz-checked").count() == 0
    assert page.locator("p.jz-ok").count() == 1
    # on the phone: the class's poor students, their aid now checked by the class
    phone = tour.as_user("teacher", "/m/", phone=True)
    cards = phone.locator("[data-student]")
    assert sorted(cards.evaluate_all("cs => cs.map(c => c.dataset.name)")) == sorted(
        demo.teacher_students
    )
    assert phone.locator("[data-programme] .m-badge.pending").count() == 0
    assert phone.locator("[data-programme] .m-badge.class_checked").count() > 0
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    tour.shot(phone, "teacher-phone")


def the_school_reviews_and_posts_its_notice(tour: Tour, demo: Demo) -> None:
    page = tour.as_user("principal", "/aid/review/")
    assert demo.principal_school in page.inner_text("body")
    rows = page.locator("#jz-classes tr[data-class]")
    shown = {
        int(rows.nth(i).get_attribute("data-class") or 0): number(
            rows.nth(i).locator("td").nth(1).inner_text()
        )
        for i in range(rows.count())
    }
    # the teacher's class is checked; the other classes have not checked yet
    expected = dict(demo.school_classes_pending) | {demo.teacher_class_id: 0}
    assert shown == expected
    assert sum(1 for n in shown.values() if n) == len(shown) - 1 > 0
    checked = texts(page, "#jz-checked tr[data-student] td:nth-child(2)")
    assert sorted(checked) == demo.teacher_students
    tour.shot(page, "school-review")
    # confirm the checked list: the notice can then be posted
    submit(page, "#jz-confirm")
    post = page.locator("#jz-notice-post button")
    assert str(demo.teacher_pending) in post.inner_text()
    tour.shot(page, "notice-to-post")
    post.click()
    page.wait_for_url(re.compile(r".*/aid/notices/\d+/$"))
    assert page.locator("#jz-notice-rows tr[data-student]").count() == demo.teacher_pending
    notice = read_db(
        lambda: AidNotice.objects.select_related("school").get(school__name=demo.principal_school)
    )
    assert notice.status == "posted" and notice.ends_on > notice.starts_on
    assert notice.ends_on.isoformat() in page.inner_text("body")
    tour.shot(page, "notice")


def the_county_approves_and_pays(tour: Tour, demo: Demo) -> None:
    # the notices: the second school's is over and approved, the first school's runs
    page = tour.as_user("aid", "/aid/notices/")
    rows = texts(page, "#jz-notices tr[data-notice]")
    assert len(rows) == 2
    assert any(demo.principal2_school in r and "县级已审批" in r for r in rows)
    assert any(demo.principal_school in r and "公示中" in r for r in rows)
    tour.shot(page, "notices")
    # the draft payment batch: by student, with the account holder beside
    page = tour.as_user("aid", f"/aid/batches/{demo.batch.pk}/")
    assert demo.batch.reference in page.locator("h2.jz-h2").first.inner_text()
    assert number(page.inner_text("[data-control=count]")) == len(demo.payments)
    payments = page.locator("#jz-payments tr[data-payment]")
    listed = sorted(
        (
            payments.nth(i).locator("td").nth(0).inner_text().strip(),
            re.split(r"[(（]", payments.nth(i).locator("td").nth(5).inner_text())[0].strip(),
        )
        for i in range(payments.count())
    )
    assert listed == demo.payments
    assert page.locator("#jz-approve-batch").count() == 1
    tour.shot(page, "payment-batch")
    submit(page, "#jz-approve-batch")
    assert page.locator("#jz-bank-xlsx").count() == 1
    assert read_db(lambda: PaymentBatch.objects.get(pk=demo.batch.pk).status) == "approved"
    # coverage: who has everything due, and why the others have not
    page = tour.as_user("aid", "/aid/coverage/")
    assert number(page.inner_text("#jz-gap-total")) > 0
    reasons = set(
        page.locator("#jz-gaps tr[data-reason]").evaluate_all("rs => rs.map(r => r.dataset.reason)")
    )
    assert "batch_approved" in reasons
    tour.shot(page, "aid-coverage")


def ledger_rows(page: Any) -> dict[int, tuple[str, str, str]]:
    """Return the ledger's rows: case -> (child, flag, due by)."""
    rows = page.locator("#jz-ledger tr[data-case]")
    return {
        int(rows.nth(i).get_attribute("data-case") or 0): (
            rows.nth(i).locator("td").nth(1).inner_text().strip(),
            rows.nth(i).locator("[data-flag]").get_attribute("data-flag") or "",
            rows.nth(i).locator("td").nth(11).inner_text().strip(),
        )
        for i in range(rows.count())
    }


def the_cases_due_now(tour: Tour, demo: Demo) -> None:
    expected = {c.pk: (c.name, "black" if c.overdue else "", c.due.isoformat()) for c in demo.cases}
    overdue = [c for c in demo.cases if c.overdue]
    due_soon = [c for c in demo.cases if not c.overdue and (c.due - demo.today).days <= 7]
    # the demo opened its cases five weeks back: some overdue, some due this week
    assert overdue
    if demo.today <= TODAY + dt.timedelta(days=3):  # while the demo's week lasts
        assert due_soon
    page = tour.as_user("admin", "/duty/")
    assert ledger_rows(page) == expected
    assert number(page.inner_text("[data-count=overdue]")) == len(overdue)
    tour.shot(page, "cases")
    # a case with its steps: the next one due
    case = min((c for c in demo.cases if not c.overdue), key=lambda c: c.due)
    page.click(f"#jz-ledger a[href='/duty/cases/{case.pk}/']")
    page.wait_for_url(f"{tour.base}/duty/cases/{case.pk}/")
    assert page.locator("tr[data-step]").count() == case.steps > 0
    assert "义务教育适龄未入学" in page.inner_text("body")  # why it was opened
    assert case.due.isoformat() in page.inner_text("body")
    tour.shot(page, "case")
    # the township officer: their township's cases, whom they supervise
    page = tour.as_user("township", "/duty/")
    mine = {c.pk: expected[c.pk] for c in demo.cases if c.township == demo.township.code}
    assert mine and ledger_rows(page) == mine
    tour.shot(page, "township-cases")


def the_chain_and_its_gaps(tour: Tour, demo: Demo) -> None:
    page = tour.as_user("admin", "/duty/coverage/")
    card = page.inner_text("#jz-total .jz-card:first-child .l")
    covered, total = sorted(int(n) for n in re.findall(r"\d+", card)[-2:])  # "x of y"
    gaps = page.locator("#jz-student-gaps tbody tr")
    # the planted gaps: students with no one to answer for them, classes with no principal
    assert total - covered == gaps.count() > 0
    classes = page.inner_text("[data-link=class] .l")
    answered, of = sorted(int(n) for n in re.findall(r"\d+", classes)[-2:])
    assert answered < of
    tour.shot(page, "chain-coverage")


def the_reports_and_the_audit_log(tour: Tour, demo: Demo) -> None:
    # the bureau leader reads the month's casework: cases still open, and how many overdue
    page = tour.as_user("leader", "/duty/reports/monthly/")
    total = texts(page, "#jz-report tr.jz-total td")
    assert [int(n) for n in total[3:5]] == [
        len(demo.cases),
        sum(1 for c in demo.cases if c.overdue),
    ]
    tour.shot(page, "monthly-report")
    # the inspector reads what everyone did today, and can change nothing
    page = tour.as_user("inspector", "/admin/core/auditevent/")
    rows = texts(page, "#result_list tbody tr")
    for action, who in [
        ("identification.preview", "aid"),
        ("identification.confirm", "aid"),
        ("aid.class_check", "teacher"),
        ("aid.school_review", "principal"),
        ("aid.notice_post", "principal"),
        ("funds.batch_approve", "aid"),
    ]:
        assert any(action in row and re.search(rf"\b{who}\b", row) for row in rows), action
    assert page.locator("a[href$='/add/']").count() == 0
    tour.shot(page, "audit-log", whole=False)  # its pager stays at the foot of the screen


def one_child(tour: Tour, demo: Demo) -> None:
    child = next(c for c in demo.cases if c.overdue)
    page = tour.as_user("admin", f"/children/?q={quote(child.name)}")
    links = page.locator("#jz-child-rows a")
    assert links.count() == 1 and links.inner_text().strip() == child.name
    tour.shot(page, "child-search")
    links.click()
    page.wait_for_url(re.compile(r".*/children/\d+/$"))
    assert page.inner_text("#jz-child-name").strip() == child.name
    # the run found them out of school (suspected dropout), and their open case is linked
    assert "疑似辍学" in page.inner_text("#jz-category")
    case = page.locator(f"a[href='/duty/cases/{child.pk}/']")
    assert case.count() == 1 and "2026-10-30" in case.inner_text()
    tour.shot(page, "child")
