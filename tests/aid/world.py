"""Helpers for aid tests: identify the hand-made county and walk entitlements through review."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jingzhun.aid import services
from jingzhun.aid.models import Entitlement
from jingzhun.identification.services import identification_run

AS_OF = dt.date(2018, 10, 8)


def identify(as_of: dt.date = AS_OF) -> Any:
    """Link the county's registry children to their rolls (exact stage only)."""
    return identification_run(actor=None, county_code="420101", as_of=as_of, fuzzy=None)


def lines(semester: str = "autumn") -> list[tuple[str, str, str, str]]:
    """Return (student name, programme, amount, review) of the semester, sorted."""
    return sorted(
        (e.student.name, e.programme, str(e.amount), e.review)
        for e in Entitlement.objects.filter(school_year=2018, semester=semester).select_related(
            "student"
        )
    )


def approve_school(personas: Any, county: Any, *, semester: str = "autumn") -> Any:
    """Take school A's entitlements through class check, school review, notice and approval."""
    services.entitlement_class_check(
        actor=personas.teacher_a,
        school_class_id=county.class_a.pk,
        school_year=2018,
        semester=semester,
    )
    services.entitlement_school_review(
        actor=personas.principal_a,
        school_id=county.school_a.pk,
        school_year=2018,
        semester=semester,
    )
    notice = services.notice_post(
        actor=personas.principal_a,
        school_id=county.school_a.pk,
        school_year=2018,
        semester=semester,
        starts_on=dt.date(2018, 9, 17),
    )
    return services.notice_approve(
        actor=personas.aid_officer, notice_id=notice.pk, today=notice.ends_on + dt.timedelta(days=1)
    )
