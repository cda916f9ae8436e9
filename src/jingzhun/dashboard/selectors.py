"""Reads for the child search and the child's page, each limited to what the user may see.

The dashboard writes nothing and nothing imports it. It reads through the other apps'
selectors (and core scoping where an app has none), so a township officer, a principal and
a class teacher each see exactly the parts of a child's story their jurisdiction holds; a
child outside it is a 404, like a missing one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from jingzhun.aid import selectors as aid_selectors
from jingzhun.aid import selectors_ui as aid_ui
from jingzhun.aid import wording as aid_wording
from jingzhun.aid.services import SOURCE as AID_SOURCE
from jingzhun.core import crypto
from jingzhun.core.admin_base import ROLL_LIKE, id_number_term
from jingzhun.core.listing import ListParams
from jingzhun.core.scoping import scope_of, scope_queryset
from jingzhun.duty import selectors as duty_selectors
from jingzhun.duty.models import Assignment
from jingzhun.funds.models import Payment, PaymentBatch
from jingzhun.identification import selectors as ident_selectors
from jingzhun.identification import wording as ident_wording
from jingzhun.identification.models import Link
from jingzhun.registry.models import Area, Household, HouseholdStatusChange, Person
from jingzhun.schools import selectors as school_selectors
from jingzhun.schools.models import Enrolment, Student
from jingzhun.schools.naming import class_of

# Most rows one search shows (a name search that needs more should be narrowed).
SEARCH_LIMIT = 1000


def may_search(user: Any) -> bool:
    """Return whether the user has a jurisdiction to search in."""
    return not scope_of(user).is_empty


def _sees_registry(user: Any) -> bool:
    return scope_of(user).level in ("county", "township")


def age_on(birth: dt.date | None, day: dt.date) -> int | None:
    """Return the age in whole years on a day (None without a birth date)."""
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


# --- search -----------------------------------------------------------------------------


@dataclass
class ChildRow:
    """One child found: a registry person (with their roll, if any) or a roll-only student."""

    name: str
    sex: str
    age: int | None
    village: str
    school: str
    school_class: str
    status: str
    url: str


def _persons(user: Any) -> QuerySet[Person]:
    if not _sees_registry(user):
        return Person.objects.none()
    return scope_queryset(Person.objects.all(), user)


def _students(user: Any) -> QuerySet[Student]:
    return school_selectors.student_list(user=user)


def _with_person(rows: QuerySet[Student]) -> QuerySet[Student]:
    """Annotate each student with their registry person: the roll's mark, else the link."""
    return rows.annotate(registry_person=Coalesce("person_id", "link__person_id"))


def _filter_persons(rows: QuerySet[Person], params: ListParams) -> QuerySet[Person]:
    if params.township:
        rows = rows.filter(household__village__code__startswith=params.township)
    if params.school_id:
        rows = rows.filter(
            Q(students__enrolments__school_id=params.school_id)
            | Q(links__student__enrolments__school_id=params.school_id)
        )
    if params.class_id:
        rows = rows.filter(
            Q(students__enrolments__school_class_id=params.class_id)
            | Q(links__student__enrolments__school_class_id=params.class_id)
        )
    if params.q:
        rows = rows.filter(Q(name__icontains=params.q) | Q(person_no=params.q))
    return rows.distinct()


def _filter_students(rows: QuerySet[Student], params: ListParams) -> QuerySet[Student]:
    if params.township:
        rows = rows.filter(enrolments__school__township__code__startswith=params.township)
    if params.school_id:
        rows = rows.filter(enrolments__school_id=params.school_id)
    if params.class_id:
        rows = rows.filter(enrolments__school_class_id=params.class_id)
    if params.q:
        term = params.q.strip().upper()
        match = Q(name__icontains=params.q)
        if ROLL_LIKE.fullmatch(term):
            match |= Q(roll_index=crypto.blind_index(term, purpose="roll"))
        rows = rows.filter(match)
    return rows.distinct()


def _rows(
    user: Any, persons: QuerySet[Person], students: QuerySet[Student], limit: int
) -> list[ChildRow]:
    """Return rows for persons and students (a student of a listed person is not repeated)."""
    today = timezone.localdate()
    persons = persons.select_related("household__village").order_by("name", "pk")[:limit]
    person_list = list(persons)
    person_ids = {p.pk for p in person_list}
    # Roll-only students, and students whose registry person the user does not see.
    annotated: QuerySet[Any] = _with_person(students)  # the annotation, unseen by the stubs
    student_list = list(
        annotated.exclude(registry_person__in=person_ids).order_by("name", "pk")[: max(0, limit)]
    )
    visible_persons = set(_persons(user).values_list("pk", flat=True)) if student_list else set()
    enrolment_of = _latest_enrolments(
        user, [s.pk for s in student_list], [p.pk for p in person_list]
    )
    rows: list[ChildRow] = []
    for p in person_list:
        e = enrolment_of.get(("p", p.pk))
        rows.append(
            ChildRow(
                name=p.name,
                sex=p.get_sex_display(),
                age=age_on(p.birth_date, today),
                village=p.household.village.name if p.household.village_id else "",
                school=e.school.name if e else "",
                school_class=class_of(e.school_class) if e else "",
                status=e.get_status_display() if e else _("on no roll"),
                url=reverse("dashboard:child", args=[p.pk]),
            )
        )
    for s in student_list:
        e = enrolment_of.get(("s", s.pk))
        url = (
            reverse("dashboard:child", args=[s.registry_person])  # type: ignore[attr-defined]
            if s.registry_person in visible_persons  # type: ignore[attr-defined]
            else reverse("dashboard:student", args=[s.pk])
        )
        rows.append(
            ChildRow(
                name=s.name,
                sex=s.get_sex_display(),
                age=age_on(s.birth_date, today),
                village="",
                school=e.school.name if e else "",
                school_class=class_of(e.school_class) if e else "",
                status=e.get_status_display() if e else "",
                url=url,
            )
        )
    return rows


def _latest_enrolments(
    user: Any, student_ids: list[int], person_ids: list[int]
) -> dict[tuple[str, int], Enrolment]:
    """Return each child's latest enrolment the user may see, keyed ("s", id) / ("p", id)."""
    if not student_ids and not person_ids:
        return {}
    rows = (
        school_selectors.enrolment_list(user=user)
        .filter(
            Q(student_id__in=student_ids)
            | Q(student__person_id__in=person_ids)
            | Q(student__link__person_id__in=person_ids)
        )
        .select_related("school", "school_class", "student")
        .annotate(registry_person=Coalesce("student__person_id", "student__link__person_id"))
        .order_by("school_year", "pk")
    )
    found: dict[tuple[str, int], Enrolment] = {}
    for e in rows:  # later years overwrite earlier ones
        found[("s", e.student_id)] = e
        if e.registry_person:  # type: ignore[attr-defined]
            found[("p", e.registry_person)] = e  # type: ignore[attr-defined]
    return found


@dataclass
class SearchResult:
    rows: list[ChildRow]
    total: int
    capped: bool = False


def child_search(*, user: Any, params: ListParams) -> SearchResult:
    """Return the children matching the filters and the name or roll number searched."""
    if not may_search(user) or not params.active:
        return SearchResult([], 0)
    persons = _filter_persons(_persons(user), params)
    students = _filter_students(_students(user), params)
    rows = _rows(user, persons, students, SEARCH_LIMIT)
    return SearchResult(rows, len(rows), capped=len(rows) >= SEARCH_LIMIT)


def child_by_number(*, user: Any, number: str) -> list[ChildRow]:
    """Return the children whose resident ID or roll number is `number` (by blind index).

    The number is never stored or logged: only its keyed digest is compared.
    """
    if not may_search(user):
        return []
    text = "".join(number.split()).upper()
    persons = Person.objects.none()
    students = Student.objects.none()
    id_number = id_number_term(text)
    if id_number is not None:
        digest = crypto.blind_index(id_number, purpose="id")
        persons = _persons(user).filter(id_index=digest)
        students = _students(user).filter(Q(id_index=digest) | Q(roll_id_index=digest))
    elif ROLL_LIKE.fullmatch(text):
        students = _students(user).filter(roll_index=crypto.blind_index(text, purpose="roll"))
    else:
        return []
    return _rows(user, persons.distinct(), students.distinct(), 50)


# --- the child's page -------------------------------------------------------------------


@dataclass
class Child:
    """Everything about one child that the user may see."""

    name: str
    person: Person | None
    students: list[Student]
    household: Household | None = None
    head: Person | None = None
    village: Area | None = None
    township: Area | None = None
    status_changes: list[HouseholdStatusChange] = field(default_factory=list)
    enrolments: list[Enrolment] = field(default_factory=list)
    identification: dict[str, Any] | None = None
    aid_periods: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    responsible: list[dict[str, str]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)

    @property
    def sex(self) -> str:
        holder = self.person or (self.students[0] if self.students else None)
        return holder.get_sex_display() if holder is not None else ""

    @property
    def birth_date(self) -> dt.date | None:
        if self.person is not None:
            return self.person.birth_date
        return next((s.birth_date for s in self.students if s.birth_date), None)

    @property
    def age(self) -> int | None:
        return age_on(self.birth_date, timezone.localdate())


def get_child(*, user: Any, person_id: int) -> Child:
    """Return a registry child's story as the user may see it (404 outside their scope)."""
    if not may_search(user):
        raise Http404
    person = _persons(user).select_related("household__village__parent").filter(pk=person_id)
    found = person.first()
    students = list(
        _students(user).filter(Q(person_id=person_id) | Q(link__person_id=person_id)).order_by("pk")
    )
    if found is None and not students:
        raise Http404
    child = Child(name=found.name if found else students[0].name, person=found, students=students)
    _fill(child, user)
    return child


def registry_person_of(student: Student) -> int | None:
    """Return the registry person a student is (by the roll's own mark or the link), if any."""
    annotated: QuerySet[Any] = _with_person(Student.objects.filter(pk=student.pk))
    found = annotated.values_list("registry_person", flat=True)
    return next(iter(found), None)


def person_visible(*, user: Any, person_id: int) -> bool:
    """Return whether the user sees this registry person."""
    return _persons(user).filter(pk=person_id).exists()


def get_student_child(*, user: Any, student_id: int) -> Child:
    """Return a roll-only student's story (404 outside the user's scope, like a missing one)."""
    if not may_search(user):
        raise Http404
    student = _students(user).filter(pk=student_id).first()
    if student is None:
        raise Http404
    child = Child(name=student.name, person=None, students=[student])
    _fill(child, user)
    return child


def _fill(child: Child, user: Any) -> None:
    person = child.person
    if person is not None:
        household = person.household
        child.household = household
        child.village = household.village
        child.township = household.village.parent if household.village_id else None
        child.head = (
            _persons(user)
            .filter(household=household, relation__in=["户主", "本人"])
            .exclude(pk=person.pk)
            .first()
        ) or (person if person.relation in ("户主", "本人") else None)
        child.status_changes = list(
            scope_queryset(HouseholdStatusChange.objects.all(), user)
            .filter(household=household)
            .order_by("recorded_on", "pk")
        )
    student_ids = [s.pk for s in child.students]
    child.enrolments = list(
        school_selectors.enrolment_list(user=user)
        .filter(student_id__in=student_ids)
        .select_related("school", "school_class")
        .order_by("-school_year", "-pk")
    )
    for e in child.enrolments:
        e.class_label = class_of(e.school_class)  # type: ignore[attr-defined]
    child.identification = _identification(user, child)
    child.aid_periods, entitlement_ids, labels = _aid(user, student_ids)
    child.payments = _payments(user, entitlement_ids, labels)
    child.responsible = _responsible(user, child)
    child.cases = _cases(user, child)


def _identification(user: Any, child: Child) -> dict[str, Any] | None:
    """The current run's status of the child, why they are listed, and the link's evidence."""
    if child.person is None:
        return None
    run = ident_selectors.latest_run(user=user)
    if run is None:
        return None
    status = (
        ident_selectors.status_list(user=user, run=run)
        .filter(person_id=child.person.pk)
        .select_related("school", "student")
        .first()
    )
    if status is None:
        return {"run": run, "status": None}
    why, takes_off = ident_wording.why_listed(
        category=status.category,
        birth_date=child.person.birth_date,
        school_year=run.school_year,
        school_status=getattr(child.person, "school_status", "") or "",
        education=getattr(child.person, "education", "") or "",
        id_status=getattr(child.person, "id_status", "valid") or "valid",
    )
    evidence: list[tuple[Any, Any]] = []
    candidate = (
        ident_selectors.candidate_list(user=user, pending_only=False)
        .filter(person_id=child.person.pk)
        .order_by("-pk")
        .first()
    )
    if candidate is not None:
        evidence = ident_selectors.evidence_rows(candidate.evidence)
    return {
        "run": run,
        "status": status,
        "category": status.get_category_display(),
        "why": why,
        "takes_off": takes_off,
        "method": str(dict(Link.Method.choices).get(status.link_method, status.link_method)),
        "evidence": evidence,
        "candidate": candidate,
    }


def _aid(
    user: Any, student_ids: Iterable[int]
) -> tuple[list[dict[str, Any]], list[int], dict[str, str]]:
    """Entitlements per semester, each with the sentence that explains it (newest first)."""
    lines = []
    for student_id in student_ids:
        lines.extend(aid_selectors.student_entitlements(user=user, student_id=student_id))
    language = translation.get_language() or "zh-hans"
    labels = aid_ui.programme_labels((e.rule_book for e in lines), language)
    periods: dict[tuple[int, str], dict[str, Any]] = {}
    for e in lines:
        entry = periods.setdefault(
            (e.school_year, e.semester),
            {
                "label": aid_wording.period_label(e.school_year, e.semester),
                "school": e.school.name,
                "inputs": aid_wording.inputs_in_words(e.inputs),
                "student_id": e.student_id,
                "lines": [],
            },
        )
        entry["lines"].append(
            {
                "e": e,
                "programme": labels.get(e.programme, e.programme),
                "sentence": aid_wording.entitlement_sentence(
                    amount=e.amount,
                    kind=e.kind,
                    programme=labels.get(e.programme, e.programme),
                    stage=e.stage,
                    clause=e.clause,
                    school_year=e.rule_book.school_year,
                    version=e.rule_book.version,
                ),
            }
        )
    ordered = [periods[k] for k in sorted(periods, key=lambda k: (k[0], k[1] == "spring"))]
    return ordered[::-1], [e.pk for e in lines], labels


def _payments(
    user: Any, entitlement_ids: list[int], labels: dict[str, str]
) -> list[dict[str, Any]]:
    """The payments of the child's entitlements, with where each one stands."""
    if not entitlement_ids:
        return []
    sources = [f"{AID_SOURCE}{pk}" for pk in entitlement_ids]
    rows = (
        scope_queryset(Payment.objects.all(), user)
        .filter(source__in=sources)
        .select_related("batch")
        .order_by("-batch__school_year", "batch__semester", "pk")
    )
    out = []
    for p in rows:
        batch: PaymentBatch = p.batch
        out.append(
            {
                "payment": p,
                "period": aid_wording.period_label(batch.school_year, batch.semester),
                "programme": labels.get(p.programme, p.programme),
                "payee": p.payee_name,
                "beneficiary": getattr(p, "beneficiary", "") or "",
                "account": p.account_masked,
                "batch": batch.reference,
                "batch_state": aid_wording.batch_words(batch.status),
                "state": aid_wording.payment_words(
                    batch_status=batch.status,
                    status=p.status,
                    settled_at=p.settled_at,
                    reason=p.bank_reason,
                ),
            }
        )
    return out


def _responsible(user: Any, child: Child) -> list[dict[str, str]]:
    """Who answers for the child: their own responsible person, else their class's chain."""
    assignments = duty_selectors.assignment_list(user=user)
    found: list[dict[str, str]] = []
    if child.person is not None:
        for a in assignments.filter(kind=Assignment.Kind.STUDENT, person_id=child.person.pk):
            found.append({"role": a.get_kind_display(), "who": str(a.holder)})
    current = child.enrolments[0] if child.enrolments else None
    if current is not None:
        if current.school_class is not None and current.school_class.head_teacher_name:
            found.append({"role": _("Head teacher"), "who": current.school_class.head_teacher_name})
        chain = Q(kind=Assignment.Kind.SCHOOL, school_id=current.school_id)
        if current.school_class_id:
            chain |= Q(kind=Assignment.Kind.CLASS, school_class_id=current.school_class_id)
        township_id = current.school.township_id
        if township_id:
            chain |= Q(kind=Assignment.Kind.TOWNSHIP, township_id=township_id)
        order = {"class": 0, "school": 1, "township": 2}
        for a in sorted(assignments.filter(chain), key=lambda a: order.get(a.kind, 9)):
            found.append({"role": a.get_kind_display(), "who": str(a.holder)})
    return found


def _cases(user: Any, child: Child) -> list[dict[str, Any]]:
    """The child's dropout cases, each with its steps, oldest step first."""
    if child.person is None:
        return []
    out = []
    for case in duty_selectors.case_list(user=user).filter(person_id=child.person.pk):
        steps = list(duty_selectors.step_list(user=user, case=case).order_by("happened_on", "pk"))
        out.append(
            {
                "case": case,
                "assignee": str(case.assignee) if case.assignee_id else "",
                "url": reverse("duty:case", args=[case.pk]),
                "steps": [
                    {
                        "on": s.happened_on,
                        "kind": s.get_kind_display(),
                        "text": s.text,
                        "by": str(s.recorded_by) if s.recorded_by_id else "",
                    }
                    for s in steps
                ],
            }
        )
    return out
