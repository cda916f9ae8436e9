"""Reads of duty, each limited to what the acting user may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.core import crypto
from jingzhun.core import permissions as P
from jingzhun.core.listing import ListParams
from jingzhun.core.scoping import get_object_for_user, scope_of, scope_queryset
from jingzhun.duty.chain import Chain
from jingzhun.duty.models import Assignment, CaseStep, DropoutCase
from jingzhun.duty.services import due_on, is_overdue, overdue_at
from jingzhun.identification.models import ChildStatus, IdentificationRun
from jingzhun.registry.models import Area
from jingzhun.schools.models import School, SchoolClass


def may_assign(user: Any) -> bool:
    return P.user_can(user, P.DUTY_ASSIGN)


def may_casework(user: Any) -> bool:
    return P.user_can(user, P.CASEWORK)


def may_verify(user: Any) -> bool:
    return P.user_can(user, P.CASE_VERIFY)


def assignment_list(*, user: Any, current_only: bool = True) -> QuerySet[Assignment]:
    rows = scope_queryset(Assignment.objects.all(), user).select_related(
        "holder", "township", "village", "school", "school_class", "person"
    )
    if current_only:
        rows = rows.filter(ends_on__isnull=True)
    return rows


def get_assignment(*, user: Any, assignment_id: int) -> Assignment:
    return get_object_for_user(
        Assignment.objects.select_related(
            "holder", "township", "village", "school", "school_class", "person"
        ),
        user,
        pk=assignment_id,
    )


def case_list(
    *, user: Any, status: str = "", township: str = "", school_id: int | None = None
) -> QuerySet[DropoutCase]:
    rows = scope_queryset(DropoutCase.objects.all(), user).select_related(
        "person__household__village", "school", "school_class", "assignee", "supervisor"
    )
    if status == "unclosed":
        rows = rows.exclude(status=DropoutCase.Status.CLOSED)
    elif status:
        rows = rows.filter(status=status)
    if township:
        rows = rows.filter(village_code__startswith=township)
    if school_id:
        rows = rows.filter(school_id=school_id)
    return rows


def get_case(*, user: Any, case_id: int) -> DropoutCase:
    return get_object_for_user(
        DropoutCase.objects.select_related(
            "person__household__village",
            "school",
            "school_class",
            "assignee",
            "supervisor",
            "outcome_enrolment__school",
            "previous",
        ),
        user,
        pk=case_id,
    )


def step_list(*, user: Any, case: DropoutCase) -> QuerySet[CaseStep]:
    return (
        scope_queryset(CaseStep.objects.all(), user).filter(case=case).select_related("recorded_by")
    )


def get_step(*, user: Any, step_id: int) -> CaseStep:
    return get_object_for_user(CaseStep.objects.select_related("case"), user, pk=step_id)


@dataclass
class LedgerRow:
    case: DropoutCase
    overdue: bool
    due: dt.date
    flag: str  # "black" overdue, "red" closed in time, "grey" closed late, "" open in time


def flag_of(case: DropoutCase, today: dt.date) -> str:
    if case.status == DropoutCase.Status.CLOSED:
        return "grey" if case.closed_late else "red"
    return "black" if is_overdue(case, today) else ""


# The ledger's status filter: a case's status, or "overdue" (black-flagged today).
OVERDUE = "overdue"


def ledger_statuses() -> list[tuple[str, str]]:
    return [(k, str(label)) for k, label in DropoutCase.Status.choices] + [
        (OVERDUE, str(_("Overdue")))
    ]


def _ledger_filter(rows: QuerySet[DropoutCase], params: ListParams) -> QuerySet[DropoutCase]:
    """Narrow cases by the list filters: township (where the child lives), school, class,
    status, how the case was opened (the reason filter), and a name or roll number."""
    rows = params.apply(
        rows,
        township="village_code",
        school="school_id",
        klass="school_class_id",
        status=None if params.status == OVERDUE else "status",
        reason="source",
    )
    if params.q:
        rows = rows.filter(
            Q(person__name__icontains=params.q)
            | Q(student__roll_index=crypto.blind_index(params.q, purpose="roll"))
        )
    return rows


def ledger(
    *,
    user: Any,
    today: dt.date | None = None,
    include_closed: bool = False,
    params: ListParams | None = None,
) -> list[LedgerRow]:
    """Return the user's cases for the ledger: unclosed first, overdue first, oldest first,
    narrowed by the list filters when given."""
    today = today or timezone.localdate()
    if params is not None and params.status == DropoutCase.Status.CLOSED:
        include_closed = True
    rows = case_list(user=user, status="" if include_closed else "unclosed")
    if params is not None:
        rows = _ledger_filter(rows, params)
    out = [LedgerRow(c, is_overdue(c, today), due_on(c), flag_of(c, today)) for c in rows]
    if params is not None and params.status == OVERDUE:
        out = [r for r in out if r.flag == "black"]
    out.sort(
        key=lambda r: (
            r.case.status == DropoutCase.Status.CLOSED,
            not r.overdue,
            r.case.village_code[:9],
            r.case.school.name if r.case.school else "",
            r.case.opened_on,
            r.case.pk,
        )
    )
    return out


@dataclass
class Tally:
    key: str
    label: str
    opened: int = 0
    closed: int = 0
    closed_in_time: int = 0
    open_at_end: int = 0
    overdue_at_end: int = 0


def period_report(
    *, user: Any, first: dt.date, last: dt.date, by: str, today: dt.date | None = None
) -> list[Tally]:
    """Count cases per school (`by="school"`) or township (`by="township"`) over a period:
    opened and closed in it, and open and overdue at its end.

    A period not yet over counts as of today: a case is overdue at the end only if its next
    step was due before both the period's end and today, reckoned from the steps recorded by
    then (a step recorded after the end does not make it in time then).
    """
    today = today or timezone.localdate()
    at = min(last, today)
    cases = list(case_list(user=user).filter(opened_on__lte=last))
    last_steps = dict(
        CaseStep.objects.filter(case_id__in=[c.pk for c in cases], happened_on__lte=at)
        .order_by()
        .values("case_id")
        .annotate(on=Max("happened_on"))
        .values_list("case_id", "on")
    )
    names = dict(Area.objects.filter(level="township").values_list("code", "name"))
    tallies: dict[str, Tally] = {}
    for c in cases:
        if by == "school":
            key = str(c.school_id or "")
            label = c.school.name if c.school else "—"
        else:
            key = c.village_code[:9]
            label = names.get(key, key)
        t = tallies.setdefault(key, Tally(key, label))
        if first <= c.opened_on <= last:
            t.opened += 1
        if c.closed_on and first <= c.closed_on <= last:
            t.closed += 1
            t.closed_in_time += int(not c.closed_late)
        open_then = c.closed_on is None or c.closed_on > last
        if open_then:
            t.open_at_end += 1
            last_step = max(c.opened_on, last_steps.get(c.pk, c.opened_on))
            if c.opened_on <= at and overdue_at(c, at, last_step):
                t.overdue_at_end += 1
    return sorted(tallies.values(), key=lambda t: t.label)


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    first = dt.date(year, month, 1)
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    first = dt.date(year, 3 * (quarter - 1) + 1, 1)
    _f, last = month_bounds(year, 3 * quarter)
    return first, last


# --- coverage of the chain ------------------------------------------------------------------


@dataclass
class CoverageRow:
    key: str
    label: str
    total: int = 0
    covered: int = 0
    township: str = ""  # the township code of a school's row

    @property
    def share(self) -> Decimal | None:
        if not self.total:
            return None
        return (Decimal(self.covered) * 100 / Decimal(self.total)).quantize(Decimal("0.1"))


@dataclass
class DutyCoverage:
    students: CoverageRow
    villages: CoverageRow
    by_school: list[CoverageRow] = field(default_factory=list)
    by_township: list[CoverageRow] = field(default_factory=list)
    student_gaps: list[ChildStatus] = field(default_factory=list)
    village_gaps: list[Area] = field(default_factory=list)


ENROLLED = (ChildStatus.Category.ENROLLED_IN_COUNTY, ChildStatus.Category.ENROLLED_OUT_OF_COUNTY)


def coverage(*, user: Any) -> DutyCoverage:
    """Return the share of poor students with a current responsible person and of poor villages
    with a contact person, per school, township and county, with the gaps.

    The poor students are the enrolled children of the latest identification run the user may
    see; a student is covered by a named person, else by a class teacher's account for their
    class, else by their village's contact person.
    """
    result = DutyCoverage(CoverageRow("students", ""), CoverageRow("villages", ""))
    scope = scope_of(user)
    if scope.is_empty:
        return result
    run = (
        scope_queryset(IdentificationRun.objects.all(), user)
        .filter(status=IdentificationRun.Status.DONE)
        .order_by("-id")
        .first()
    )
    chain = Chain.read()
    township_names = dict(Area.objects.filter(level="township").values_list("code", "name"))
    by_school: dict[str, CoverageRow] = {}
    by_township: dict[str, CoverageRow] = {}
    if run is not None:
        statuses = (
            scope_queryset(ChildStatus.objects.all(), user)
            .filter(run=run, category__in=ENROLLED)
            .select_related("person", "school", "enrolment")
            .order_by("village_code", "person__name")
        )
        for s in statuses:
            class_id = s.enrolment.school_class_id if s.enrolment else None
            ok = chain.responsible(s.person_id, class_id, s.village_code) is not None
            township = s.village_code[:9]
            rows = [
                result.students,
                by_township.setdefault(
                    township, CoverageRow(township, township_names.get(township, township))
                ),
            ]
            if s.school is not None:
                rows.append(
                    by_school.setdefault(
                        str(s.school_id),
                        CoverageRow(str(s.school_id), s.school.name, township=township),
                    )
                )
            for row in rows:
                row.total += 1
                row.covered += int(ok)
            if not ok:
                result.student_gaps.append(s)
    villages = Area.objects.filter(level="village", is_poor=True)
    if scope.level in ("county", "township"):
        villages = villages.filter(code__startswith=scope.area_code)
    elif scope.level == "school":
        # A school answers for the poor village it stands in and those it is the contact for.
        own = Assignment.objects.filter(
            kind=Assignment.Kind.VILLAGE, school_id=scope.school_id or 0, ends_on__isnull=True
        ).values_list("village_id", flat=True)
        villages = villages.filter(village_schools__pk=scope.school_id or 0) | villages.filter(
            pk__in=list(own)
        )
    else:
        villages = villages.none()
    for village in villages.distinct().order_by("code"):
        result.villages.total += 1
        if village.code in chain.contacts:
            result.villages.covered += 1
        else:
            result.village_gaps.append(village)
    result.by_school = sorted(by_school.values(), key=lambda r: r.label)
    result.by_township = sorted(by_township.values(), key=lambda r: r.key)
    return result


def my_students(*, user: Any) -> list[ChildStatus]:
    """Return the poor students a class teacher answers for: their class's, and those named."""
    scope = scope_of(user)
    if scope.is_empty:
        return []
    run = (
        IdentificationRun.objects.filter(county_code=scope.county_code, status="done")
        .order_by("-id")
        .first()
    )
    if run is None:
        return []
    named = Assignment.objects.filter(
        kind=Assignment.Kind.STUDENT, holder__user=user, ends_on__isnull=True
    ).values_list("person_id", flat=True)
    rows = ChildStatus.objects.filter(run=run).select_related(
        "person", "student", "school", "enrolment__school_class"
    )
    class_id = getattr(user, "school_class_id", None)
    mine = rows.filter(person_id__in=list(named))
    if class_id:
        mine = mine | rows.filter(enrolment__school_class_id=class_id)
    return list(mine.order_by("person__name"))


def link_coverage(*, user: Any) -> list[CoverageRow]:
    """Return, per kind of link above the students, how many targets in the user's
    jurisdiction have a current holder: townships, schools, classes (latest school year) and
    poor villages."""
    scope = scope_of(user)
    if scope.is_empty:
        return []
    current = Assignment.objects.filter(ends_on__isnull=True)
    rows: list[CoverageRow] = []

    def count(kind: str, label: Any, targets: Any, field: str) -> None:
        held = current.filter(kind=kind).values(f"{field}_id")
        rows.append(
            CoverageRow(
                kind,
                str(label),
                targets.count(),
                targets.filter(pk__in=held).count(),
            )
        )

    if scope.level in ("county", "township"):
        townships = Area.objects.filter(level="township", code__startswith=scope.area_code)
        count(Assignment.Kind.TOWNSHIP, Assignment.Kind.TOWNSHIP.label, townships, "township")
    schools = scope_queryset(School.objects.filter(township__isnull=False), user)
    if scope.level in ("county", "township"):
        count(Assignment.Kind.SCHOOL, Assignment.Kind.SCHOOL.label, schools, "school")
    classes = scope_queryset(SchoolClass.objects.all(), user)
    latest = classes.order_by("-school_year").values_list("school_year", flat=True).first()
    count(
        Assignment.Kind.CLASS,
        Assignment.Kind.CLASS.label,
        classes.filter(school_year=latest or 0),
        "school_class",
    )
    if scope.level in ("county", "township"):
        villages = Area.objects.filter(
            level="village", is_poor=True, code__startswith=scope.area_code
        )
        count(Assignment.Kind.VILLAGE, Assignment.Kind.VILLAGE.label, villages, "village")
    return rows
