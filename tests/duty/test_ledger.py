"""The ledger (overdue first, flags) and the monthly and quarterly reports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jingzhun.duty import selectors, services
from jingzhun.duty.models import DropoutCase
from jingzhun.identification.services import identification_run
from jingzhun.schools.models import Enrolment


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
