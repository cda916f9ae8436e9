"""Teachers and pupils added to the hand-made county (tests/conftest.py) for the II.3 figures."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from tests.imports.helpers import make_id

from jingzhun.core.sensitive import seal
from jingzhun.schools.models import Enrolment, School, Student
from jingzhun.teachers.models import Teacher

ON = dt.date(2018, 10, 1)
_rolls = itertools.count(1)


def teacher_id(seq: int) -> str:
    """Return the valid resident ID of test teacher number `seq` (1-999)."""
    return make_id("420101", "19800101", f"{seq:03d}")


def add_teacher(school: School, seq: int, **fields: Any) -> Teacher:
    """Create a teacher in post at `school` since 2010 (fields override)."""
    values: dict[str, Any] = {
        "name": f"教师{seq}",
        "started_on": dt.date(2010, 9, 1),
        "county_code": "420101",
    }
    values.update(fields)
    return Teacher.objects.create(
        school=school, **values, **seal(teacher_id(seq), prefix="id", purpose="id")
    )


def add_pupils(
    school: School,
    stage: str,
    n: int,
    *,
    boarding: bool = False,
    school_year: int = 2018,
    status: str = Enrolment.Status.ENROLLED,
) -> None:
    """Enrol `n` new pupils at `school` in a stage and school year."""
    for _ in range(n):
        roll = f"L{next(_rolls):018d}"
        student = Student.objects.create(
            county_code="420101", name="学生", **seal(roll, prefix="roll", purpose="roll")
        )
        Enrolment.objects.create(
            student=student,
            school=school,
            school_year=school_year,
            stage=stage,
            grade=1,
            boarding=boarding,
            status=status,
        )
