"""The responsibility chain: assignments, reassignment with history, coverage of the chain."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from jingzhun.accounts.models import StaffMember
from jingzhun.duty import selectors, services
from jingzhun.duty.models import Assignment, DropoutCase
from jingzhun.identification.services import identification_run
from jingzhun.schools.models import Enrolment


def staff(user: Any) -> int:
    """Return the id of the user's staff directory entry (made for users off the chain)."""
    found = StaffMember.objects.filter(user=user).first()
    if found is None:
        found = StaffMember.objects.create(
            name=user.username, post="county_officer", area_code=user.county_code, user=user
        )
    return found.pk


def identify(as_of: dt.date = dt.date(2018, 10, 8)) -> Any:
    return identification_run(actor=None, county_code="420101", as_of=as_of, fuzzy=None)


def test_coverage_on_the_small_county(county: Any, personas: Any) -> None:
    # given: teacher_a holds class A; class B has no teacher account; no village contacts
    identify()
    cov = selectors.coverage(user=personas.county_officer)
    assert (cov.students.total, cov.students.covered, cov.students.share) == (2, 1, Decimal("50.0"))
    assert [s.person.name for s in cov.student_gaps] == ["李小红"]
    assert (cov.villages.total, cov.villages.covered) == (2, 0)
    assert [(r.label, r.total, r.covered) for r in cov.by_township] == [
        ("甲镇", 1, 1),
        ("乙乡", 1, 0),
    ]
    # when village B gets a contact person in school B
    services.assignment_create(
        actor=personas.county_officer,
        kind="village",
        target_id=county.village_b.pk,
        holder_id=staff(personas.township_b),
        school_id=county.school_b.pk,
    )
    cov = selectors.coverage(user=personas.county_officer)
    assert (cov.students.covered, cov.villages.covered, cov.student_gaps) == (2, 1, [])
    assert [v.name for v in cov.village_gaps] == ["甲村"]
    # a township officer sees only their own township
    cov_a = selectors.coverage(user=personas.township_a)
    assert (cov_a.students.total, cov_a.villages.total) == (1, 1)


def test_a_named_person_overrides_the_class_teacher(county: Any, personas: Any) -> None:
    Enrolment.objects.filter(pk=county.enrolment_a.pk).update(
        status="dropped_out", status_date=dt.date(2018, 9, 20)
    )
    identify()
    services.assignment_create(
        actor=personas.principal_a,
        kind="student",
        target_id=county.student_a.pk,
        holder_id=staff(personas.principal_a),
    )
    services.cases_open_from_identification(actor=None, county_code="420101")
    assert DropoutCase.objects.get().assignee.user == personas.principal_a


def test_reassigning_keeps_history_and_hands_over_open_cases(county: Any, personas: Any) -> None:
    Enrolment.objects.filter(pk=county.enrolment_a.pk).update(
        status="dropped_out", status_date=dt.date(2018, 9, 20)
    )
    identify()
    first = services.assignment_create(
        actor=personas.principal_a,
        kind="student",
        target_id=county.student_a.pk,
        holder_id=staff(personas.teacher_a),
        starts_on=dt.date(2018, 9, 1),
    )
    services.cases_open_from_identification(actor=None, county_code="420101")
    second = services.assignment_reassign(
        actor=personas.principal_a,
        assignment_id=first.pk,
        holder_id=staff(personas.principal_a),
        on=dt.date(2018, 11, 1),
    )
    first.refresh_from_db()
    assert (first.ends_on, second.starts_on, second.ends_on) == (
        dt.date(2018, 11, 1),
        dt.date(2018, 11, 1),
        None,
    )
    assert Assignment.objects.filter(kind="student", person=county.person_a).count() == 2
    assert DropoutCase.objects.get().assignee.user == personas.principal_a
    with pytest.raises(ValidationError):
        services.assignment_reassign(
            actor=personas.principal_a, assignment_id=first.pk, holder_id=staff(personas.teacher_a)
        )


def test_a_target_has_one_current_holder(county: Any, personas: Any) -> None:
    services.assignment_create(
        actor=personas.county_officer,
        kind="township",
        target_id=county.township_a.pk,
        holder_id=staff(personas.bureau_leader),
    )
    with pytest.raises(ValidationError):
        services.assignment_create(
            actor=personas.county_officer,
            kind="township",
            target_id=county.township_a.pk,
            holder_id=staff(personas.county_officer),
        )
    assert Assignment.objects.count() == 1


def test_assigning_outside_the_jurisdiction_is_refused(county: Any, personas: Any) -> None:
    with pytest.raises(Http404):
        services.assignment_create(
            actor=personas.principal_a,
            kind="student",
            target_id=county.student_b.pk,
            holder_id=staff(personas.principal_a),
        )
    with pytest.raises(PermissionDenied):  # a school does not name township leaders
        services.assignment_create(
            actor=personas.principal_a,
            kind="township",
            target_id=county.township_a.pk,
            holder_id=staff(personas.principal_a),
        )
    with pytest.raises(PermissionDenied):
        services.assignment_create(
            actor=personas.teacher_a,
            kind="student",
            target_id=county.student_a.pk,
            holder_id=staff(personas.teacher_a),
        )
    assert Assignment.objects.count() == 0


def test_letter_signed_is_recorded(county: Any, personas: Any) -> None:
    a = services.assignment_create(
        actor=personas.county_officer,
        kind="school",
        target_id=county.school_a.pk,
        holder_id=staff(personas.principal_a),
    )
    signed = services.assignment_sign(
        actor=personas.county_officer, assignment_id=a.pk, signed_on=dt.date(2018, 9, 3)
    )
    assert signed.signed_on == dt.date(2018, 9, 3) and signed.area_code == "420101001"


def test_a_school_names_contacts_for_its_townships_poor_villages(
    county: Any, personas: Any
) -> None:
    a = services.assignment_create(
        actor=personas.principal_a,
        kind="village",
        target_id=county.village_a.pk,
        holder_id=staff(personas.teacher_a),
        school_id=county.school_a.pk,
    )
    assert (a.village, a.holder.user, a.school) == (
        county.village_a,
        personas.teacher_a,
        county.school_a,
    )
    with pytest.raises(Http404):  # another township's village
        services.assignment_create(
            actor=personas.principal_a,
            kind="village",
            target_id=county.village_b.pk,
            holder_id=staff(personas.teacher_a),
        )


def test_the_holder_must_be_within_the_assigners_jurisdiction(county: Any, personas: Any) -> None:
    identify()
    with pytest.raises(ValidationError):
        services.assignment_create(
            actor=personas.principal_a,
            kind="student",
            target_id=county.student_a.pk,
            holder_id=staff(personas.township_b),
        )
    assert Assignment.objects.count() == 0


def test_only_the_county_opens_cases_from_identification(county: Any, personas: Any) -> None:
    identify()
    with pytest.raises(PermissionDenied):
        services.cases_open_from_identification(actor=personas.township_a, county_code="420101")
    result = services.cases_open_from_identification(
        actor=personas.county_officer, county_code="420101"
    )
    assert result.opened == 0  # nobody is out of school in the hand-made county
