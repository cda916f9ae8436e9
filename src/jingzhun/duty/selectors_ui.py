"""Reads the duty pages, API and mobile page need beyond `duty.selectors`.

Kept apart from :mod:`jingzhun.duty.selectors` so that the screens can grow without touching
the reads the services rely on. Every function takes the acting user and goes through
:mod:`jingzhun.core.scoping`: a record the user may not see is a 404, like a missing one,
and a user with no jurisdiction gets nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import Http404

from jingzhun.core.scoping import scope_of, scope_queryset
from jingzhun.duty import selectors
from jingzhun.duty.models import DropoutCase
from jingzhun.identification import selectors as identification_selectors
from jingzhun.identification.models import ChildStatus
from jingzhun.registry.models import Area
from jingzhun.schools.models import Enrolment, School, SchoolClass

# --- names --------------------------------------------------------------------------------


def township_names(*, user: Any) -> dict[str, str]:
    """Return township code -> name of the townships the user works in or whose schools
    they see (a school or class user learns only their own school's township)."""
    names = dict(
        scope_queryset(Area.objects.filter(level=Area.Level.TOWNSHIP), user).values_list(
            "code", "name"
        )
    )
    for code, name in (
        scope_queryset(School.objects.filter(township__isnull=False), user)
        .values_list("township__code", "township__name")
        .distinct()
    ):
        names.setdefault(code, name)
    return names


# --- the chain ----------------------------------------------------------------------------


@dataclass
class Targets:
    """What a user may name a responsible person for, as (id, label) choices per kind."""

    township: list[tuple[int, str]] = field(default_factory=list)
    school: list[tuple[int, str]] = field(default_factory=list)
    school_class: list[tuple[int, str]] = field(default_factory=list)
    student: list[tuple[int, str]] = field(default_factory=list)
    village: list[tuple[int, str]] = field(default_factory=list)


def assignment_targets(*, user: Any, class_label: Callable[[SchoolClass], str]) -> Targets:
    """Return the townships, schools, classes, poor students and poor villages in the user's
    jurisdiction (empty for a user who may not assign). `class_label(cls)` names a class."""
    if not selectors.may_assign(user):
        return Targets()
    targets = Targets()
    targets.township = [
        (a.pk, a.name) for a in scope_queryset(Area.objects.filter(level=Area.Level.TOWNSHIP), user)
    ]
    targets.village = [
        (a.pk, a.name)
        for a in scope_queryset(Area.objects.filter(level=Area.Level.VILLAGE, is_poor=True), user)
    ]
    schools = scope_queryset(School.objects.filter(township__isnull=False), user)
    targets.school = [(s.pk, s.name) for s in schools.order_by("name")]
    classes = scope_queryset(SchoolClass.objects.select_related("school"), user)
    latest = classes.order_by("-school_year").values_list("school_year", flat=True).first()
    if latest is not None:
        targets.school_class = [
            (c.pk, f"{c.school.name} {class_label(c)}")
            for c in classes.filter(school_year=latest).order_by("school__name", "grade", "name")
        ]
    run = identification_selectors.latest_run(user=user)
    if run is not None:
        statuses = (
            scope_queryset(ChildStatus.objects.filter(run=run, student__isnull=False), user)
            .select_related("person", "school")
            .order_by("school__name", "person__name")
        )
        targets.student = [
            (s.student_id, f"{s.person.name} · {s.school.name if s.school else '—'}")
            for s in statuses
            if s.student_id is not None
        ]
    return targets


def holder_choices(*, user: Any) -> list[tuple[int, str]]:
    """Return the active users of the user's jurisdiction who may be named (empty for a user
    who may not assign)."""
    if not selectors.may_assign(user):
        return []
    users = scope_queryset(get_user_model().objects.filter(is_active=True), user).exclude(role="")
    return [(u.pk, f"{u} ({u.get_role_display()})") for u in users.order_by("username")]


# --- cases --------------------------------------------------------------------------------


def case_enrolments(*, user: Any, case: DropoutCase) -> QuerySet[Enrolment]:
    """Return the child's enrolments the user may see (to prove a return), newest first."""
    if case.student_id is None:
        return Enrolment.objects.none()
    return (
        scope_queryset(Enrolment.objects.all(), user)
        .filter(student_id=case.student_id)
        .select_related("school", "school_class")
        .order_by("-school_year", "-id")
    )


def next_episode(*, user: Any, case: DropoutCase) -> DropoutCase | None:
    """Return the episode opened after this one, if the user may see it."""
    return selectors.case_list(user=user).filter(previous=case).first()


def unclosed_cases_by_person(*, user: Any, person_ids: list[int]) -> dict[int, list[DropoutCase]]:
    """Return person id -> their unclosed cases the user may see."""
    found: dict[int, list[DropoutCase]] = defaultdict(list)
    for case in selectors.case_list(user=user, status="unclosed").filter(person_id__in=person_ids):
        found[case.person_id].append(case)
    return found


# --- the mobile page ----------------------------------------------------------------------


def mobile_students(*, user: Any) -> list[ChildStatus]:
    """Return the poor students a class teacher answers for, or a principal's school's poor
    students (latest run); nobody else has a list here."""
    scope = scope_of(user)
    if scope.level == "class":
        return selectors.my_students(user=user)
    if scope.level == "school":
        run = identification_selectors.latest_run(user=user)
        if run is None:
            return []
        return list(
            scope_queryset(ChildStatus.objects.filter(run=run, student__isnull=False), user)
            .select_related("person", "student", "school", "enrolment__school_class")
            .order_by("person__name", "pk")
        )
    return []


def get_mobile_student(*, user: Any, student_id: int) -> ChildStatus:
    """Return one student of the user's mobile list; 404 if missing or not theirs."""
    for status in mobile_students(user=user):
        if status.student_id == student_id:
            return status
    raise Http404
