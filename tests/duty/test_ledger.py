"""The ledger (overdue first, flags) and the monthly and quarterly reports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jingzhun.core.listing import ListParams
from jingzhun.core.sensitive import seal
from jingzhun.duty import selectors, services
from jingzhun.duty.models import DropoutCase
from jingzhun.identification.services import identification_run
from jingzhun.schools.models import Enrolment, Student


def two_cases(county: Any) -> tuple[DropoutCase, DropoutCase]:
    for e in (county.enrolment_a, county.enrolment_b):
        Enrolment.objects.filter(pk=e.pk).update(
            status="dropped_out", status_date=dt.date(2018, 9, 20)
        )
    identification_run(actor=None, county_code="420101", as_of=dt.date(2018, 10, 8), fuzzy=None)
    services.cases_open_from_identification(actor=None, county_code="420101")
    a = DropoutCase.objects.get(person=county.person_a)
    b = DropoutCase.objects.get(person=county.person_b)
    return a, b


def test_ledger_puts_overdue_first_with_black_flags(county: Any, personas: Any) -> None:
    a, b = two_cases(county)
    DropoutCase.objects.filter(pk=b.pk).update(last_step_on=dt.date(2018, 10, 30))
    rows = selectors.ledger(user=personas.county_officer, today=dt.date(2018, 11, 1))
    assert [(r.case.pk, r.overdue, r.flag) for r in rows] == [
        (a.pk, True, "black"),
        (b.pk, False, ""),
    ]
    # a township officer sees only their own township's case
    assert [
        r.case.pk for r in selectors.ledger(user=personas.township_b, today=dt.date(2018, 11, 1))
    ] == [b.pk]


def test_monthly_and_quarterly_reports_count_opened_closed_and_overdue(
    county: Any, personas: Any
) -> None:
    a, b = two_cases(county)
    DropoutCase.objects.filter(pk=a.pk).update(
        status="closed",
        outcome="moved",
        moved_to="Wuhan",
        closed_on=dt.date(2018, 10, 12),
        closed_late=False,
    )
    first, last = selectors.month_bounds(2018, 10)
    rows = selectors.period_report(
        user=personas.county_officer, first=first, last=last, by="school"
    )
    assert [
        (t.label, t.opened, t.closed, t.closed_in_time, t.open_at_end, t.overdue_at_end)
        for t in rows
    ] == [
        ("乙乡中学", 1, 0, 0, 1, 1),
        ("甲镇中心小学", 1, 1, 1, 0, 0),
    ]
    q_first, q_last = selectors.quarter_bounds(2018, 4)
    assert (q_first, q_last) == (dt.date(2018, 10, 1), dt.date(2018, 12, 31))
    by_township = selectors.period_report(
        user=personas.county_officer, first=q_first, last=q_last, by="township"
    )
    assert [(t.label, t.opened, t.closed, t.open_at_end) for t in by_township] == [
        ("乙乡", 1, 0, 1),
        ("甲镇", 1, 1, 0),
    ]


# --------------------------------------------------------------------------- overdue at a period's end


def _october(user: Any, today: dt.date) -> tuple[int, int]:
    first, last = selectors.month_bounds(2018, 10)
    rows = selectors.period_report(user=user, first=first, last=last, by="township", today=today)
    return sum(t.open_at_end for t in rows), sum(t.overdue_at_end for t in rows)


def test_the_current_month_counts_as_of_today_not_its_last_day(county: Any, personas: Any) -> None:
    # given: two cases opened 8 Oct 2018, each due by 17 Oct (7 working days)
    a, _b = two_cases(county)
    assert services.due_on(a) == dt.date(2018, 10, 17)
    # when the October report is read on 12 Oct: nothing is due yet
    assert _october(personas.county_officer, dt.date(2018, 10, 12)) == (2, 0)
    # on 18 Oct both are a day late
    assert _october(personas.county_officer, dt.date(2018, 10, 18)) == (2, 2)


def test_a_step_after_the_period_does_not_make_it_in_time_then(county: Any, personas: Any) -> None:
    a, b = two_cases(county)
    # a step recorded in November keeps case A in time today, but not at the end of October
    services.case_step_record(
        actor=personas.township_a,
        case_id=a.pk,
        kind="home_visit",
        text="visited",
        happened_on=dt.date(2018, 11, 5),
    )
    # a step recorded on 16 Oct moves case B's next step to 25 Oct (7 working days later)
    services.case_step_record(
        actor=personas.township_b,
        case_id=b.pk,
        kind="home_visit",
        text="visited",
        happened_on=dt.date(2018, 10, 16),
    )
    assert _october(personas.county_officer, dt.date(2018, 10, 25)) == (2, 1)
    assert _october(personas.county_officer, dt.date(2018, 12, 1)) == (2, 2)


def test_a_case_closed_after_the_period_still_counts_overdue_at_its_end(
    county: Any, personas: Any
) -> None:
    a, b = two_cases(county)
    DropoutCase.objects.filter(pk=a.pk).update(
        status="closed", outcome="moved", moved_to="Wuhan", closed_on=dt.date(2018, 11, 10)
    )
    assert _october(personas.county_officer, dt.date(2018, 12, 1)) == (2, 2)
    first, last = selectors.month_bounds(2018, 11)
    november = selectors.period_report(
        user=personas.county_officer, first=first, last=last, by="school", today=dt.date(2019, 1, 1)
    )
    assert [(t.label, t.closed, t.open_at_end, t.overdue_at_end) for t in november] == [
        ("乙乡中学", 0, 1, 1),
        ("甲镇中心小学", 1, 0, 0),
    ]


# --------------------------------------------------------------------------- the ledger's filters


def test_ledger_filters_by_township_status_source_and_name(county: Any, personas: Any) -> None:
    a, b = two_cases(county)
    DropoutCase.objects.filter(pk=b.pk).update(last_step_on=dt.date(2018, 10, 30))
    today = dt.date(2018, 11, 1)
    officer = personas.county_officer

    def ids(**query: str) -> list[int]:
        params = ListParams.read(
            query,
            statuses=[k for k, _label in selectors.ledger_statuses()],
            reasons=DropoutCase.Source.values,
        )
        return [r.case.pk for r in selectors.ledger(user=officer, today=today, params=params)]

    assert ids() == [a.pk, b.pk]
    assert ids(township="420101002") == [b.pk]
    assert ids(status="overdue") == [a.pk]
    assert ids(status="resolved") == []
    assert ids(reason="absence") == [] and ids(reason="identification") == [a.pk, b.pk]
    assert ids(q="小红") == [b.pk]
    assert ids(school=str(county.school_a.pk)) == [a.pk]
    # the roll number is found exactly, through its blind index (no ID-like text in a URL)
    Student.objects.filter(pk=county.student_b.pk).update(
        **seal("L2018000123", prefix="roll", purpose="roll")
    )
    assert ids(q="L2018000123") == [b.pk]
    assert ids(q="L2018") == []
