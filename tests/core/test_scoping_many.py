"""Scoping through a to-many relation finds one object once."""

from __future__ import annotations

from typing import Any

from jingzhun.core.scoping import get_object_for_user
from jingzhun.schools.models import Enrolment, SchoolClass, Student


def test_a_student_with_two_enrolments_in_the_school_is_found_once(
    county: Any, personas: Any
) -> None:
    # given last year's enrolment in the same school
    old_class = SchoolClass.objects.create(
        school=county.school_a, school_year=2017, stage="primary", grade=2, name="1班"
    )
    Enrolment.objects.create(
        student=county.student_a,
        school=county.school_a,
        school_class=old_class,
        school_year=2017,
        stage="primary",
        grade=2,
        status="graduated",
    )
    # when the principal looks the student up
    found = get_object_for_user(Student.objects.all(), personas.principal_a, pk=county.student_a.pk)
    # then there is one student, not a MultipleObjectsReturned
    assert found == county.student_a
