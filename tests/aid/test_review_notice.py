"""Class check, school review, public notice with objections, county approval."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from jingzhun.aid import services
from jingzhun.aid.models import AidNotice, Entitlement, NoticeObjection
from jingzhun.core.models import AuditEvent
from jingzhun.schools.models import Enrolment

from .world import identify, lines


@pytest.fixture
def computed(county: Any, personas: Any) -> Any:
    identify()
    services.aid_compute(
        actor=personas.aid_officer, county_code="420101", school_year=2018, semester="autumn"
    )
    return county


def reviews(student: Any) -> list[str]:
    return sorted(
        Entitlement.objects.filter(student=student, semester="autumn").values_list(
            "review", flat=True
        )
    )


def test_class_check_then_school_confirms_and_excludes_with_reason(
    computed: Any, personas: Any
) -> None:
    c = computed
    n = services.entitlement_class_check(
        actor=personas.teacher_a, school_class_id=c.class_a.pk, school_year=2018, semester="autumn"
    )
    assert n == 2 and reviews(c.student_a) == ["class_checked", "class_checked"]
    counts = services.entitlement_school_review(
        actor=personas.principal_a,
        school_id=c.school_a.pk,
        school_year=2018,
        semester="autumn",
        exclude={c.student_a.pk: "family income above the line after verification"},
    )
    assert counts == {"confirmed": 0, "excluded": 2, "awaiting_class": 0}
    e = Entitlement.objects.filter(student=c.student_a).first()
    assert e is not None and e.review_reason.startswith("family income")
    assert AuditEvent.objects.filter(action="aid.school_review").count() == 1


def test_exclusion_without_reason_is_refused_and_changes_nothing(
    computed: Any, personas: Any
) -> None:
    c = computed
    services.entitlement_class_check(
        actor=personas.teacher_a, school_class_id=c.class_a.pk, school_year=2018, semester="autumn"
    )
    with pytest.raises(ValidationError):
        services.entitlement_school_review(
            actor=personas.principal_a,
            school_id=c.school_a.pk,
            school_year=2018,
            semester="autumn",
            exclude={c.student_a.pk: "  "},
        )
    assert reviews(c.student_a) == ["class_checked", "class_checked"]


def test_principal_cannot_review_another_school(computed: Any, personas: Any) -> None:
    c = computed
    with pytest.raises(Http404):
        services.entitlement_school_review(
            actor=personas.principal_a, school_id=c.school_b.pk, school_year=2018, semester="autumn"
        )
    with pytest.raises(Http404):
        services.entitlement_class_check(
            actor=personas.teacher_a,
            school_class_id=c.class_b.pk,
            school_year=2018,
            semester="autumn",
        )
    with pytest.raises(PermissionDenied):
        services.entitlement_school_review(
            actor=personas.township_a, school_id=c.school_a.pk, school_year=2018, semester="autumn"
        )
    assert {r for r in Entitlement.objects.values_list("review", flat=True)} == {"pending"}


def _to_notice(c: Any, personas: Any, starts_on: dt.date) -> AidNotice:
    services.entitlement_class_check(
        actor=personas.teacher_a, school_class_id=c.class_a.pk, school_year=2018, semester="autumn"
    )
    services.entitlement_school_review(
        actor=personas.principal_a, school_id=c.school_a.pk, school_year=2018, semester="autumn"
    )
    return services.notice_post(
        actor=personas.principal_a,
        school_id=c.school_a.pk,
        school_year=2018,
        semester="autumn",
        starts_on=starts_on,
    )


def test_notice_lasts_five_working_days_over_weekends_and_holidays(
    computed: Any, personas: Any
) -> None:
    # Friday 28 September 2018 (1); 29-30 Sep are make-up working days (2, 3); 1-7 Oct is
    # National Day; 8 and 9 October (4, 5).
    notice = _to_notice(computed, personas, dt.date(2018, 9, 28))
    assert notice.ends_on == dt.date(2018, 10, 9)
    assert reviews(computed.student_a) == ["noticed", "noticed"]


def test_approval_waits_for_the_notice_and_open_objections(computed: Any, personas: Any) -> None:
    c = computed
    notice = _to_notice(c, personas, dt.date(2018, 9, 17))  # Monday
    assert notice.ends_on == dt.date(2018, 9, 21)
    with pytest.raises(ValidationError):
        services.notice_approve(
            actor=personas.aid_officer, notice_id=notice.pk, today=dt.date(2018, 9, 21)
        )
    objection = services.objection_record(
        actor=personas.principal_a,
        notice_id=notice.pk,
        student_id=c.student_a.pk,
        text="A neighbour reports the family bought a car",
    )
    with pytest.raises(ValidationError):
        services.notice_approve(
            actor=personas.aid_officer, notice_id=notice.pk, today=dt.date(2018, 9, 25)
        )
    assert reviews(c.student_a) == ["noticed", "noticed"]
    services.objection_resolve(
        actor=personas.aid_officer,
        objection_id=objection.pk,
        upheld=False,
        note="the car is a relative's",
    )
    approved = services.notice_approve(
        actor=personas.aid_officer, notice_id=notice.pk, today=dt.date(2018, 9, 25)
    )
    assert approved.status == "approved"
    assert reviews(c.student_a) == ["approved", "approved"]
    with pytest.raises(ValidationError):
        services.notice_approve(
            actor=personas.aid_officer, notice_id=notice.pk, today=dt.date(2018, 9, 26)
        )


def test_upheld_objection_excludes_the_student(computed: Any, personas: Any) -> None:
    c = computed
    notice = _to_notice(c, personas, dt.date(2018, 9, 17))
    objection = services.objection_record(
        actor=personas.principal_a, notice_id=notice.pk, student_id=c.student_a.pk, text="not poor"
    )
    services.objection_resolve(
        actor=personas.aid_officer, objection_id=objection.pk, upheld=True, note="verified"
    )
    assert NoticeObjection.objects.get().resolution == "upheld"
    assert reviews(c.student_a) == ["excluded", "excluded"]
    services.notice_approve(
        actor=personas.aid_officer, notice_id=notice.pk, today=dt.date(2018, 9, 25)
    )
    assert reviews(c.student_a) == ["excluded", "excluded"]


@pytest.mark.parametrize("who", ["principal_a", "township_a", "county_officer", "bureau_leader"])
def test_only_the_aid_centre_approves(computed: Any, personas: Any, who: str) -> None:
    notice = _to_notice(computed, personas, dt.date(2018, 9, 17))
    with pytest.raises((PermissionDenied, Http404)):
        services.notice_approve(
            actor=getattr(personas, who), notice_id=notice.pk, today=dt.date(2018, 10, 30)
        )
    notice.refresh_from_db()
    assert notice.status == "posted"
    assert reviews(computed.student_a) == ["noticed", "noticed"]


def test_changed_amount_after_notice_goes_back_to_review(computed: Any, personas: Any) -> None:
    c = computed
    _to_notice(c, personas, dt.date(2018, 9, 17))
    Enrolment.objects.filter(pk=c.enrolment_a.pk).update(stage="junior", grade=1)
    services.aid_compute(
        actor=personas.aid_officer, county_code="420101", school_year=2018, semester="autumn"
    )
    assert [x for x in lines() if x[0] == "张小明"] == [
        ("张小明", "boarding_subsidy", "625.00", "pending"),
        ("张小明", "compulsory_waiver", "130.00", "pending"),
    ]
