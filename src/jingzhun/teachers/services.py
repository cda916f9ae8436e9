"""Writes on teachers, their service history, training and exchanges (the roster by import).

Each write checks that the actor may edit schools and that the teacher (and every school it
names) lies in the actor's jurisdiction, validates the row, saves it and records it in the
audit log, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from jingzhun.core import normalize, permissions
from jingzhun.core.audit import audit_record
from jingzhun.core.scoping import scope_queryset
from jingzhun.core.sensitive import seal
from jingzhun.schools.models import School
from jingzhun.teachers.models import Exchange, ServicePeriod, Teacher, Training


def _check_may_edit(actor: Any, *records: models.Model) -> None:
    """Refuse an actor who may not edit schools, or a record outside their jurisdiction."""
    if not permissions.user_can(actor, permissions.EDIT_SCHOOLS):
        raise PermissionDenied(_("You may not edit teachers."))
    for record in records:
        model = type(record)
        if not scope_queryset(model._default_manager.filter(pk=record.pk), actor).exists():
            raise PermissionDenied(_("This record is outside your jurisdiction."))


@transaction.atomic
def teacher_create(
    *,
    actor: Any,
    name: str,
    id_number: str,
    school: School,
    post: str = Teacher.Post.TEACHER,
    subject: str = "",
    title: str = Teacher.Title.NONE,
    staffing: str = "",
    started_on: dt.date | None = None,
    backbone: bool = False,
) -> Teacher:
    """Add one teacher to a school's roster; the ID is checked, sealed and keyed."""
    _check_may_edit(actor, school)
    try:
        plain = normalize.check_id_number(id_number)
    except ValueError as exc:
        raise ValidationError({"id_number": _("Not a valid resident ID number.")}) from exc
    sealed = seal(plain, prefix="id", purpose="id")
    if Teacher.objects.filter(id_index=sealed["id_index"]).exists():
        raise ValidationError({"id_number": _("A teacher with this ID number is on the roster.")})
    (birth,) = normalize.id_birth_dates([plain]).to_pylist()
    (sex,) = normalize.id_sex([plain]).to_pylist()
    county = school.township.code[:6] if school.township is not None else ""
    teacher = Teacher(
        name=name,
        school=school,
        post=post,
        subject=subject,
        title=title,
        staffing=staffing,
        started_on=started_on,
        backbone=backbone,
        birth_date=birth,
        sex=sex or "",
        county_code=county,
        **sealed,
    )
    teacher.full_clean()
    teacher.save()
    audit_record(
        actor=actor,
        action="teacher.create",
        target=teacher,
        data={"school": school.code, "post": post, "title": title},
    )
    return teacher


@transaction.atomic
def teacher_leave(*, actor: Any, teacher: Teacher, left_on: dt.date) -> Teacher:
    """Record that a teacher left the school (retired, moved away, resigned) on a date."""
    _check_may_edit(actor, teacher)
    if teacher.started_on is not None and left_on < teacher.started_on:
        raise ValidationError({"left_on": _("A teacher cannot leave before they started.")})
    before = teacher.left_on
    teacher.left_on = left_on
    teacher.full_clean()
    teacher.save(update_fields=["left_on"])
    audit_record(
        actor=actor,
        action="teacher.leave",
        target=teacher,
        data={"left_on": [before, left_on]},
    )
    return teacher


@transaction.atomic
def service_period_create(
    *,
    actor: Any,
    teacher: Teacher,
    kind: str,
    started_on: dt.date,
    ended_on: dt.date | None = None,
    school: School | None = None,
    place: str = "",
) -> ServicePeriod:
    """Record a stretch of a teacher's service at a school (or a place named in words)."""
    _check_may_edit(actor, teacher)
    period = ServicePeriod(
        teacher=teacher,
        kind=kind,
        started_on=started_on,
        ended_on=ended_on,
        school=school,
        place=place,
    )
    period.full_clean()
    if ended_on is not None and ended_on < started_on:
        raise ValidationError({"ended_on": _("The end is before the start.")})
    overlapping = teacher.service_periods.filter(
        models.Q(ended_on__isnull=True) | models.Q(ended_on__gt=started_on)
    )
    if ended_on is not None:
        overlapping = overlapping.filter(started_on__lt=ended_on)
    if overlapping.exists():
        raise ValidationError(_("This period overlaps one already recorded for the teacher."))
    period.save()
    audit_record(
        actor=actor,
        action="service_period.create",
        target=period,
        data={
            "teacher": teacher.pk,
            "kind": kind,
            "school": school.code if school else "",
            "place": place,
            "from": started_on,
            "until": ended_on,
        },
    )
    return period


@transaction.atomic
def training_create(
    *,
    actor: Any,
    teacher: Teacher,
    programme: str,
    level: str,
    started_on: dt.date,
    ended_on: dt.date,
    hours: int = 0,
) -> Training:
    """Record one teacher's attendance of a training programme (one person-time)."""
    _check_may_edit(actor, teacher)
    if ended_on < started_on:
        raise ValidationError({"ended_on": _("The end is before the start.")})
    training = Training(
        teacher=teacher,
        programme=programme,
        level=level,
        started_on=started_on,
        ended_on=ended_on,
        hours=hours,
    )
    training.full_clean()
    training.save()
    audit_record(
        actor=actor,
        action="training.create",
        target=training,
        data={"teacher": teacher.pk, "programme": programme, "level": level, "from": started_on},
    )
    return training


@transaction.atomic
def exchange_create(
    *,
    actor: Any,
    teacher: Teacher,
    to_school: School,
    started_on: dt.date,
    ended_on: dt.date | None = None,
    from_school: School | None = None,
) -> Exchange:
    """Send a teacher from their school (or `from_school`) to teach at a poor-village school."""
    source = from_school or teacher.school
    _check_may_edit(actor, teacher, to_school)
    if not to_school.in_poor_village:
        raise ValidationError({"to_school": _("Exchanges go to schools in poor villages.")})
    if source.pk == to_school.pk:
        raise ValidationError({"to_school": _("A teacher is exchanged to another school.")})
    if ended_on is not None and ended_on < started_on:
        raise ValidationError({"ended_on": _("The end is before the start.")})
    running = teacher.exchanges.filter(
        models.Q(ended_on__isnull=True) | models.Q(ended_on__gte=started_on)
    )
    if ended_on is not None:
        running = running.filter(started_on__lte=ended_on)
    if running.exists():
        raise ValidationError(_("The teacher is on another exchange at that time."))
    exchange = Exchange(
        teacher=teacher,
        from_school=source,
        to_school=to_school,
        started_on=started_on,
        ended_on=ended_on,
    )
    exchange.full_clean()
    exchange.save()
    audit_record(
        actor=actor,
        action="exchange.create",
        target=exchange,
        data={
            "teacher": teacher.pk,
            "from": source.code,
            "to": to_school.code,
            "started_on": started_on,
            "ended_on": ended_on,
        },
    )
    return exchange


@transaction.atomic
def exchange_end(*, actor: Any, exchange: Exchange, ended_on: dt.date) -> Exchange:
    """End a running exchange on a date (the teacher returns to their school)."""
    _check_may_edit(actor, exchange)
    if ended_on < exchange.started_on:
        raise ValidationError({"ended_on": _("The end is before the start.")})
    before = exchange.ended_on
    exchange.ended_on = ended_on
    exchange.full_clean()
    exchange.save(update_fields=["ended_on"])
    audit_record(
        actor=actor,
        action="exchange.end",
        target=exchange,
        data={"ended_on": [before, ended_on]},
    )
    return exchange
