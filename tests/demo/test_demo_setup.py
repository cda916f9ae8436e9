"""demo_setup builds a county through the real import path, runs the main jobs, and is rerunnable.

The county lives in the school year of the day it is set up (``--today`` pins that day here),
with casework that is due now: some cases overdue, some due this week, most in time.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

from django.core.management import call_command

from jingzhun.accounts.models import User
from jingzhun.aid.models import AidNotice, Entitlement, RuleBookVersion
from jingzhun.core.models import ImportBatch
from jingzhun.demo.management.commands.demo_setup import demo_as_of
from jingzhun.duty.models import Assignment, DropoutCase
from jingzhun.duty.selectors import month_bounds, period_report
from jingzhun.duty.services import due_on, is_overdue
from jingzhun.funds.models import Payment, PaymentBatch
from jingzhun.identification.models import IdentificationRun
from jingzhun.schools.models import SchoolClass

TODAY = dt.date(2026, 12, 4)  # a Friday in the autumn semester of 2026-2027


def run(out: Path, *args: str) -> str:
    buffer = io.StringIO()
    call_command(
        "demo_setup",
        "--scale",
        "tiny",
        "--out",
        str(out),
        "--today",
        TODAY.isoformat(),
        *args,
        stdout=buffer,
        stderr=io.StringIO(),
    )
    return buffer.getvalue()


def counts() -> tuple[int, ...]:
    return (
        IdentificationRun.objects.count(),
        Entitlement.objects.count(),
        AidNotice.objects.count(),
        PaymentBatch.objects.count(),
        Payment.objects.count(),
        DropoutCase.objects.count(),
        RuleBookVersion.objects.count(),
    )


def test_demo_setup_twice_gives_the_same_county(db: Any, tmp_path: Path) -> None:
    # given the tiny demo county set up once
    first = run(tmp_path)
    before = counts()
    # when it is set up again
    second = run(tmp_path)
    # then nothing changed, and the files were reused
    assert before == counts()
    assert "Reusing demo files" in second and "Generating" not in second
    # a second school went through review and notice; its cash aid waits in a draft batch
    notice = AidNotice.objects.get()
    assert notice.school == User.objects.get(username="principal2").school
    assert notice.status == "approved"
    assert (notice.school_year, notice.semester) == (2026, "autumn")
    assert notice.starts_on == dt.date(2026, 9, 17)
    batch = PaymentBatch.objects.get(purpose="aid")
    assert batch.status == "draft"
    assert batch.control["count"] == Payment.objects.filter(batch=batch).count() > 0
    assert batch.idempotency_key == "demo-2026-autumn-1"
    assert "aid 2026 autumn:" in first and f"payment batch {batch.reference}" in second
    work_is_waiting()
    allowance_is_under_way(second)
    school_conditions_are_recorded(second)
    the_books_hold(first, second)
    assert Entitlement.objects.filter(kind="waiver").exists()
    # every compulsory-age child found out of school has a case, opened once
    assert DropoutCase.objects.count() > 0
    assert "dropout cases: opened 0" in second
    assert "import staff:" in first
    lives_in_the_current_school_year(tmp_path)
    cases_are_due_now()


def allowance_is_under_way(output: str) -> None:
    """The teachers' living allowance: October approved into a draft batch for the aid
    officer, November waiting for the demo principal's school to confirm (as of 4 December)."""
    from jingzhun.teachers.models import AllowanceLine

    batch = PaymentBatch.objects.get(purpose="teachers")
    assert batch.status == "draft" and batch.idempotency_key.endswith(":2026-10")
    assert batch.control["count"] == Payment.objects.filter(batch=batch).count() > 0
    october = AllowanceLine.objects.filter(month=dt.date(2026, 10, 1))
    assert october.exists() and set(october.values_list("review", flat=True)) == {"approved"}
    principal = User.objects.get(username="principal")
    november = AllowanceLine.objects.filter(month=dt.date(2026, 11, 1))
    waiting = set(november.filter(review="pending").values_list("school_id", flat=True))
    if november.filter(school=principal.school).exists():
        assert principal.school_id in waiting
    assert november.filter(review="reviewed").exists()
    assert "allowance 2026-11:" not in output  # a rerun computes nothing again


def school_conditions_are_recorded(output: str) -> None:
    """The basic standard, the 2016 survey and the plan's projects with their flags (II.2)."""
    from jingzhun.projects.models import Project, ProjectNode, StandardVersion, Survey

    assert StandardVersion.objects.count() == 1
    assert Survey.objects.filter(surveyed_on=dt.date(2016, 3, 1)).exists()
    assert Project.objects.filter(kind="renovation").exists()
    on = dt.date(2026, 12, 4)
    flags = {node.flag(on) for node in ProjectNode.objects.all()}
    assert {"red", "black"} <= flags  # done in time, and open past their due date
    # an accepted renovation brought its school's items up to standard in a new survey
    accepted = ProjectNode.objects.filter(kind="acceptance", closed_on__isnull=False).first()
    assert accepted is not None
    assert Survey.objects.filter(school=accepted.project.school, project=accepted.project).exists()
    assert "school conditions: surveys 0, projects 0" in output  # a rerun adds nothing
    # the county's high school is a quality one, and poor villages' children hold places
    from jingzhun.core.working_year import working_year
    from jingzhun.projects.selectors import quotas

    assert "quality high schools 1" in output
    places = quotas(User.objects.get(username="admin"), school_year=working_year())
    assert places.intake.places > 0
    assert 0 < places.students.poor_area < places.students.places


def the_books_hold(first: str, second: str) -> None:
    """The fund ledger: the year's money came in by several channels into the pooled account
    and was allocated from it; the books balance; inspections ran for the half-year."""
    from jingzhun.funds import ledger
    from jingzhun.funds.models import JournalEntry

    county = PaymentBatch.objects.get(purpose="aid").county_code
    channels = {
        c for c, _amount, _share in ledger.pool_channel_shares(county, dt.date(2026, 12, 4))
    }
    assert {"central", "provincial", "county", "lottery"} <= channels
    assert JournalEntry.objects.filter(kind="transfer_in").count() == 4  # once, not per run
    assert ledger.check_balances(county) == []
    assert ledger.trial_balance(county, dt.date(2026, 12, 4)).balanced
    assert "inspections: plans 1" in first and "inspections: plans 0" in second


def work_is_waiting() -> None:
    """Every demo account meets work due now, in every workflow."""
    principal = User.objects.get(username="principal")
    teacher = User.objects.get(username="teacher")
    assert teacher.school_class.school == principal.school
    # the principal's school: classes to check (the teacher's among them), nothing posted
    mine = Entitlement.objects.filter(school=principal.school, school_year=2026)
    assert mine.exists() and not mine.exclude(review="pending").exists()
    assert Entitlement.objects.filter(school_class=teacher.school_class, review="pending").exists()
    assert not AidNotice.objects.filter(school=principal.school).exists()
    # the chain is derived from the staff roster, with the planted gaps left for coverage
    open_cases = DropoutCase.objects.filter(status="open")
    assert open_cases.exists()
    assert open_cases.filter(assignee__isnull=False).count() > open_cases.count() // 2
    assert Assignment.objects.filter(ends_on__isnull=True).count() > 0
    holders = Assignment.objects.filter(ends_on__isnull=True).values_list("holder", flat=True)
    assert None not in set(holders) and Assignment.objects.filter(derived=True).exists()


def lives_in_the_current_school_year(out: Path) -> None:
    # the files were generated for 2026-2027 and the marker says so
    assert (out / ".complete").read_text() == "national 2026"
    assert set(ImportBatch.objects.values_list("school_year", flat=True)) == {2026}
    assert set(SchoolClass.objects.values_list("school_year", flat=True)) == {2026}
    # the latest run looks at today; the first one, five weeks back, found the cases
    runs = list(IdentificationRun.objects.order_by("id").values_list("as_of", flat=True))
    assert runs == [dt.date(2026, 10, 30), TODAY]
    # the year's rule book was carried forward from 2018 and confirmed
    assert RuleBookVersion.objects.get(school_year=2026).confirmed


def cases_are_due_now() -> None:
    first_run = dt.date(2026, 10, 30)
    cases = list(DropoutCase.objects.filter(status="open"))
    due = {c.pk: due_on(c) for c in cases}
    overdue = [c for c in cases if is_overdue(c, TODAY)]
    this_week = [c for c in cases if 1 <= (due[c.pk] - TODAY).days <= 5]
    in_time = [c for c in cases if not is_overdue(c, TODAY)]
    assert overdue and this_week
    assert len(in_time) > len(overdue)
    # the runs opened them (today's for the pupils who left school since the first); the
    # others are class teachers' absence reports before the first run, of pupils who left later
    assert {
        (c.source, c.opened_on if c.source == "identification" else c.opened_on < first_run)
        for c in cases
    } <= {("identification", first_run), ("identification", TODAY), ("absence", True)}
    # a case due later this month is not overdue in this month's report
    admin = User.objects.get(username="admin")
    first, last = month_bounds(2026, 12)
    report = period_report(user=admin, first=first, last=last, by="township", today=TODAY)
    assert sum(t.overdue_at_end for t in report) == len(overdue)
    assert sum(t.open_at_end for t in report) == len(cases)


def test_as_of_is_today_clamped_into_the_school_year() -> None:
    assert demo_as_of(TODAY, 2026) == TODAY
    assert demo_as_of(TODAY, 2018) == dt.date(2019, 8, 31)
    assert demo_as_of(TODAY, 2027) == dt.date(2027, 9, 1)
