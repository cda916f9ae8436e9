"""Reads the duty pages, API and mobile page need beyond `duty.selectors`.

Kept apart from :mod:`jingzhun.duty.selectors` so that the screens can grow without touching
the reads the services rely on. Every function takes the acting user and goes through
:mod:`jingzhun.core.scoping`: a record the user may not see is a 404, like a missing one,
and a user with no jurisdiction gets nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from jingzhun.accounts.models import StaffMember
from jingzhun.core import crypto
from jingzhun.core.cache import cached
from jingzhun.core.scoping import get_object_for_user, scope_of, scope_queryset
from jingzhun.duty import selectors
from jingzhun.duty.models import CaseStep, DropoutCase, StudentContact
from jingzhun.identification import selectors as identification_selectors
from jingzhun.identification.models import ChildStatus
from jingzhun.registry.models import Area
from jingzhun.schools.derive import parse_grade
from jingzhun.schools.models import Enrolment, School, SchoolClass
from jingzhun.schools.naming import class_of

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


SEARCH_LIMIT = 20


def staff_label(s: StaffMember) -> str:
    """Return a person as a chooser shows them: name, post, school or place (never a phone)."""
    where = s.school.name if s.school else (s.village or s.township or "")
    return " · ".join(x for x in (s.name, str(s.get_post_display()), str(where or "")) if x)


def people_search(*, user: Any, q: str, limit: int = SEARCH_LIMIT) -> list[dict[str, Any]]:
    """Return up to `limit` active people of the staff directory in the user's jurisdiction
    whose name contains `q` (empty for a user who may not assign): id, name, post, place."""
    if not selectors.may_assign(user):
        return []
    q = " ".join(q.split())[:40]
    rows = scope_queryset(StaffMember.objects.filter(active=True), user).select_related(
        "school", "township", "village"
    )
    if q:
        rows = rows.filter(name__icontains=q)
    return [
        {
            "id": s.pk,
            "name": s.name,
            "post": str(s.get_post_display()),
            "place": str(s.school.name if s.school else (s.village or s.township or "")),
            "label": staff_label(s),
        }
        for s in rows.order_by("name", "pk")[:limit]
    ]


def get_staff(*, user: Any, staff_id: int) -> StaffMember:
    """Return one person of the directory the user may see; 404 otherwise."""
    return get_object_for_user(
        StaffMember.objects.select_related("school", "school_class", "township", "village", "user"),
        user,
        pk=staff_id,
    )


def staff_list(*, user: Any) -> QuerySet[StaffMember]:
    """Return the staff directory the user may see."""
    return scope_queryset(StaffMember.objects.all(), user).select_related(
        "school", "school_class", "township", "village", "user"
    )


def target_search(
    *, user: Any, kind: str, q: str, limit: int = SEARCH_LIMIT
) -> list[dict[str, Any]]:
    """Return up to `limit` targets of one kind in the user's jurisdiction whose name contains
    `q`: townships, schools, classes (of the latest school year), poor students (by their
    roll record, latest identification run) or poor villages. Empty for a user who may not
    assign."""
    if not selectors.may_assign(user):
        return []
    q = " ".join(q.split())[:40]
    if kind == "township":
        areas = scope_queryset(Area.objects.filter(level=Area.Level.TOWNSHIP), user)
        if q:
            areas = areas.filter(name__icontains=q)
        return [{"id": a.pk, "label": a.name} for a in areas.order_by("code")[:limit]]
    if kind in ("village", "any_village"):
        villages = Area.objects.filter(level=Area.Level.VILLAGE)
        if kind == "village":
            villages = villages.filter(is_poor=True)
        scope = scope_of(user)
        if scope.level == "school":
            school = (
                School.objects.select_related("township").filter(pk=scope.school_id or 0).first()
            )
            code = school.township.code if school and school.township else "-"
            villages = villages.filter(code__startswith=code)
        else:
            villages = scope_queryset(villages, user)
        if q:
            villages = villages.filter(name__icontains=q)
        names = township_names(user=user)
        return [
            {"id": v.pk, "label": f"{v.name} · {names.get(v.code[:9], '')}".strip(" ·")}
            for v in villages.order_by("code")[:limit]
        ]
    if kind == "school":
        schools = scope_queryset(School.objects.filter(township__isnull=False), user)
        if q:
            schools = schools.filter(name__icontains=q)
        return [{"id": s.pk, "label": s.name} for s in schools.order_by("name")[:limit]]
    if kind == "class":
        classes = scope_queryset(SchoolClass.objects.select_related("school"), user)
        latest = classes.order_by("-school_year").values_list("school_year", flat=True).first()
        classes = classes.filter(school_year=latest or 0)
        if q:
            parts = q.split()
            for part in parts:
                parsed = parse_grade(part) if "年级" in part or part[:1] in "初高" else None
                if parsed is not None:
                    stage, grade = parsed
                    classes = classes.filter(stage=stage, grade=grade)
                elif part.endswith("班") or part.isdigit():
                    classes = classes.filter(name__icontains=part)
                else:
                    classes = classes.filter(school__name__icontains=part)
        return [
            {"id": c.pk, "label": f"{c.school.name} {class_of(c)}"}
            for c in classes.order_by("school__name", "stage", "grade", "name")[:limit]
        ]
    if kind == "student":
        run = identification_selectors.latest_run(user=user)
        if run is None:
            return []
        statuses = scope_queryset(
            ChildStatus.objects.filter(run=run, student__isnull=False), user
        ).select_related("person", "school", "enrolment__school_class")
        if q:
            statuses = statuses.filter(person__name__icontains=q)
        return [
            {
                "id": s.student_id,
                "label": " · ".join(
                    x
                    for x in (
                        s.person.name,
                        s.school.name if s.school else "",
                        class_of(s.enrolment.school_class) if s.enrolment else "",
                    )
                    if x
                ),
            }
            for s in statuses.order_by("person__name", "pk")[:limit]
        ]
    return []


def contact_schools(*, user: Any) -> list[tuple[int, str]]:
    """Return the schools a village contact may belong to (the user's, by name)."""
    if not selectors.may_assign(user):
        return []
    schools = scope_queryset(School.objects.filter(township__isnull=False), user)
    return list(schools.order_by("name", "pk").values_list("pk", "name"))


def holder_choices(*, user: Any) -> list[tuple[int, str]]:
    """Return the active people of the staff directory in the user's jurisdiction (empty for a
    user who may not assign). For small jurisdictions only: pages use `people_search`."""
    if not selectors.may_assign(user):
        return []
    rows = scope_queryset(StaffMember.objects.filter(active=True), user).select_related(
        "school", "township", "village"
    )
    return [(s.pk, staff_label(s)) for s in rows.order_by("name", "pk")]


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


@dataclass(frozen=True)
class Contact:
    """Whom a guardian calls about a case: a person's name and phone ("" when unknown)."""

    name: str
    phone: str


def person_name(person: Any) -> str:
    """Return a person's name for a page or document, never a login name ("" if unknown).

    Works for a staff directory entry (``name``) and for a user account (its full name, else
    the name of its entry in the staff directory).
    """
    if person is None:
        return ""
    name = getattr(person, "name", None)
    if isinstance(name, str):
        return name.strip()
    full = getattr(person, "get_full_name", None)
    if callable(full) and full().strip():
        return str(full().strip())
    # A login with no name of its own: the name of its person in the staff directory.
    try:
        staff = getattr(person, "staff_member", None)
    except StaffMember.DoesNotExist:
        staff = None
    return staff.name.strip() if staff is not None else ""


def case_contact(*, case: DropoutCase) -> Contact:
    """Return the contact a notice about *case* names: its responsible person, else the
    principal of its school in the staff directory; both empty if nobody is known (the
    notice then sends the guardian to the school). Never a login name."""
    assignee = case.assignee
    name = person_name(assignee)
    if name:
        return Contact(name, str(getattr(assignee, "phone", "") or "").strip())
    if case.school_id is not None:
        principal = (
            StaffMember.objects.filter(
                school_id=case.school_id, post=StaffMember.Post.PRINCIPAL, active=True
            )
            .order_by("-updated_at", "-id")
            .first()
        )
        if principal is not None and principal.name.strip():
            return Contact(principal.name.strip(), principal.phone.strip())
    return Contact("", "")


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


@dataclass
class HistoryItem:
    """One thing recorded for a student: a step of one of their cases, or a contact."""

    on: dt.date
    recorded_at: dt.datetime
    kind: str
    label: str
    text: str
    recorded_by: str
    case: DropoutCase | None = None


def student_history(*, user: Any, status: ChildStatus) -> list[HistoryItem]:
    """Return every step of the student's cases and every contact recorded for them that the
    user may see, newest first."""
    items = [
        HistoryItem(
            s.happened_on,
            s.recorded_at,
            s.kind,
            s.get_kind_display(),
            s.text,
            person_name(s.recorded_by),
            s.case,
        )
        for s in scope_queryset(CaseStep.objects.all(), user)
        .filter(case__person_id=status.person_id)
        .select_related("case", "recorded_by")
    ]
    if status.student_id is not None:
        items += [
            HistoryItem(
                c.happened_on,
                c.recorded_at,
                c.kind,
                c.get_kind_display(),
                c.note,
                person_name(c.recorded_by),
            )
            for c in scope_queryset(StudentContact.objects.all(), user)
            .filter(student_id=status.student_id)
            .select_related("recorded_by")
        ]
    items.sort(key=lambda i: (i.on, i.recorded_at), reverse=True)
    return items


def search_students(statuses: list[ChildStatus], q: str) -> list[ChildStatus]:
    """Return the students whose name holds *q*, or whose roll number is *q* (exactly)."""
    q = q.strip()
    if not q:
        return statuses
    roll = crypto.blind_index(q, purpose="roll")
    return [
        s
        for s in statuses
        if q in s.person.name or (s.student is not None and s.student.roll_index == roll)
    ]


# --- coverage of the chain, cached ----------------------------------------------------------


@dataclass
class GapRow:
    """A poor student with no responsible person, as the coverage page lists them."""

    student_id: int | None
    name: str
    school_id: int | None
    school: str
    class_id: int | None
    class_label: str
    village_code: str


@dataclass
class VillageGap:
    """A poor village with no contact person."""

    code: str
    name: str


@dataclass
class ChainCoverage:
    """What the coverage page shows, in plain rows (cached; no model instances)."""

    students: selectors.CoverageRow
    villages: selectors.CoverageRow
    by_school: list[selectors.CoverageRow]
    by_township: list[selectors.CoverageRow]
    student_gaps: list[GapRow]
    village_gaps: list[VillageGap]
    links: list[selectors.CoverageRow]


def _chain_coverage(user: Any) -> ChainCoverage:
    cov = selectors.coverage(user=user)
    return ChainCoverage(
        students=cov.students,
        villages=cov.villages,
        by_school=cov.by_school,
        by_township=cov.by_township,
        student_gaps=[
            GapRow(
                student_id=s.student_id,
                name=s.person.name,
                school_id=s.school_id,
                school=s.school.name if s.school else "",
                class_id=s.enrolment.school_class_id if s.enrolment else None,
                class_label=class_of(s.enrolment.school_class) if s.enrolment else "",
                village_code=s.village_code,
            )
            for s in cov.student_gaps
        ],
        village_gaps=[VillageGap(v.code, v.name) for v in cov.village_gaps],
        links=selectors.link_coverage(user=user),
    )


def chain_coverage(*, user: Any) -> ChainCoverage:
    """Return the coverage of the responsibility chain for the user's scope, computed once per
    change of the data (:mod:`jingzhun.core.cache`: keyed by scope, language, day and data
    version, so a new run, an assignment or a closed case gives new figures)."""
    return cached("duty.coverage", user=user, compute=lambda: _chain_coverage(user))
