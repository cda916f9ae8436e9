"""Helpers for aid tests: identify the hand-made county and walk entitlements through review."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.imports.helpers import make_id

from jingzhun.aid import services
from jingzhun.aid.models import Entitlement
from jingzhun.core.sensitive import seal
from jingzhun.identification.services import identification_run
from jingzhun.registry.models import Person
from jingzhun.schools.models import Enrolment, School, Student

AS_OF = dt.date(2018, 10, 8)
UNIVERSITY_ID = make_id("420101", "20000303", "013")


def university_student(
    county: Any,
    *,
    grade: int,
    degree: str = "",
    freshman: bool = False,
    location: str = "out_of_province",
) -> Student:
    """Add an elder sibling in household A at university in 2018 (as the university list gives).

    `degree` and `freshman` are the enrolment's degree level and freshman flag ('' and False:
    as where no university list was imported).
    """
    Person.objects.create(
        household=county.household_a,
        name="张大明",
        sex="M",
        birth_date=dt.date(2000, 3, 3),
        relation="之子",
        **seal(UNIVERSITY_ID, prefix="id", purpose="id"),
    )
    university = School.objects.create(
        code="U10001", name="华中某大学", kind="university", location=location
    )
    student = Student.objects.create(
        county_code="420101",
        **seal("G" + UNIVERSITY_ID, prefix="roll", purpose="roll"),
        name="张大明",
        sex="M",
        birth_date=dt.date(2000, 3, 3),
        id_status="valid",
        poor_flag=True,
        **seal(UNIVERSITY_ID, prefix="id", purpose="id"),
    )
    Enrolment.objects.create(
        student=student,
        school=university,
        school_year=2018,
        stage="university",
        grade=grade,
        degree=degree,
        freshman=freshman,
    )
    return student


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
