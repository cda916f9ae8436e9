"""Writes on teachers: validated, audited, and refused outside the actor's rights or jurisdiction
(a refused write changes nothing)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from tests.teachers.helpers import add_teacher, teacher_id

from conftest import County, Personas
from jingzhun.core.models import AuditEvent
from jingzhun.teachers import services
from jingzhun.teachers.models import Exchange, ServicePeriod, Teacher, Training


def test_teacher_create_seals_the_id_and_is_audited(county: County, personas: Personas) -> None:
    teacher = services.teacher_create(
        actor=personas.principal_a,
        name="王芳",
        id_number=teacher_id(1),
        school=county.school_a,
        title=Teacher.Title.SENIOR,
        started_on=dt.date(2005, 9, 1),
    )
    assert (teacher.id_masked, teacher.birth_date, teacher.sex, teacher.county_code) == (
        "420101************",
        dt.date(1980, 1, 1),
        "M",
        "420101",
    )
    event = AuditEvent.objects.get(action="teacher.create")
    assert (event.object_id, event.actor) == (str(teacher.pk), personas.principal_a)
    assert teacher_id(1) not in str(event.data)
    with pytest.raises(ValidationError):
        services.teacher_create(
            actor=personas.principal_a,
            name="又一个",
            id_number=teacher_id(1),
            school=county.school_a,
        )
    with pytest.raises(ValidationError):
        services.teacher_create(
            actor=personas.principal_a, name="错号", id_number="420101", school=county.school_a
        )
    assert Teacher.objects.count() == 1


def test_writes_are_refused_without_the_right_or_outside_the_jurisdiction(
    county: County, personas: Personas
) -> None:
    teacher_b = add_teacher(county.school_b, 2)
    with pytest.raises(PermissionDenied):
        services.teacher_create(
            actor=personas.township_a,  # may view, not edit schools
            name="王芳",
            id_number=teacher_id(1),
            school=county.school_a,
        )
    with pytest.raises(PermissionDenied):
        services.training_create(
            actor=personas.principal_a,  # school A's principal, a teacher of school B
            teacher=teacher_b,
            programme="国培",
            level=Training.Level.NATIONAL,
            started_on=dt.date(2018, 3, 1),
            ended_on=dt.date(2018, 3, 2),
        )
    with pytest.raises(PermissionDenied):
        services.teacher_leave(
            actor=personas.principal_a, teacher=teacher_b, left_on=dt.date(2018, 1, 1)
        )
    assert Teacher.objects.count() == 1 and not Training.objects.exists()
    assert Teacher.objects.get().left_on is None
    assert not AuditEvent.objects.filter(action__startswith="t").exists()


def test_service_history_training_and_leaving(county: County, personas: Personas) -> None:
    officer = personas.county_officer
    teacher = add_teacher(county.school_a, 1)
    services.service_period_create(
        actor=officer,
        teacher=teacher,
        kind=ServicePeriod.Kind.TEACHING_POINT,
        place="老村教学点",
        started_on=dt.date(1998, 9, 1),
        ended_on=dt.date(2005, 9, 1),
    )
    services.service_period_create(
        actor=officer,
        teacher=teacher,
        kind=ServicePeriod.Kind.VILLAGE_SCHOOL,
        school=county.school_a,
        started_on=dt.date(2005, 9, 1),
    )
    with pytest.raises(ValidationError):  # overlaps the ongoing period
        services.service_period_create(
            actor=officer,
            teacher=teacher,
            kind=ServicePeriod.Kind.TOWN_OR_CITY,
            school=county.school_b,
            started_on=dt.date(2010, 9, 1),
            ended_on=dt.date(2011, 9, 1),
        )
    with pytest.raises(ValidationError):  # neither a school nor a place
        services.service_period_create(
            actor=officer,
            teacher=teacher,
            kind=ServicePeriod.Kind.TOWN_OR_CITY,
            started_on=dt.date(1990, 9, 1),
            ended_on=dt.date(1991, 9, 1),
        )
    assert teacher.service_periods.count() == 2
    services.training_create(
        actor=officer,
        teacher=teacher,
        programme="国培计划",
        level=Training.Level.NATIONAL,
        started_on=dt.date(2018, 3, 1),
        ended_on=dt.date(2018, 3, 10),
        hours=60,
    )
    with pytest.raises(ValidationError):
        services.teacher_leave(actor=officer, teacher=teacher, left_on=dt.date(2009, 1, 1))
    services.teacher_leave(actor=officer, teacher=teacher, left_on=dt.date(2019, 7, 1))
    teacher.refresh_from_db()
    assert teacher.left_on == dt.date(2019, 7, 1)
    assert list(
        AuditEvent.objects.order_by("id")
        .values_list("action", flat=True)
        .filter(action__in=["service_period.create", "training.create", "teacher.leave"])
    ) == ["service_period.create", "service_period.create", "training.create", "teacher.leave"]


def test_exchanges_go_to_poor_village_schools(county: County, personas: Personas) -> None:
    officer = personas.county_officer
    urban = add_teacher(county.school_b, 1, backbone=True)
    village = add_teacher(county.school_a, 2)
    with pytest.raises(ValidationError):  # school B is not in a poor village
        services.exchange_create(
            actor=officer,
            teacher=village,
            to_school=county.school_b,
            started_on=dt.date(2018, 9, 1),
        )
    exchange = services.exchange_create(
        actor=officer, teacher=urban, to_school=county.school_a, started_on=dt.date(2018, 9, 1)
    )
    assert (exchange.from_school, exchange.to_school) == (county.school_b, county.school_a)
    with pytest.raises(ValidationError):  # already on exchange then
        services.exchange_create(
            actor=officer, teacher=urban, to_school=county.school_a, started_on=dt.date(2019, 3, 1)
        )
    services.exchange_end(actor=officer, exchange=exchange, ended_on=dt.date(2019, 7, 15))
    assert Exchange.objects.get().ended_on == dt.date(2019, 7, 15)
    assert AuditEvent.objects.filter(action__startswith="exchange.").count() == 2
