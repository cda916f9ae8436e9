"""Reads of school conditions, projects and the task book (II.2, coverage I.2), each limited
to what the acting user sees.

Readings of the plan made here (DOMAIN.md I.2, II.2):

* The basic standard valid on a date is the latest version begun by then. An item applies to
  a school when the school's kind is among the item's kinds (and, for a boarding-only item,
  the school boards pupils). Schools to which no item applies (kindergartens, high schools)
  are not measured against it.
* A school reaches the standard on a date when its latest survey by then (latest date, then
  latest recorded) answers every applicable item met or not applicable. An applicable item
  the latest survey does not answer is a gap ("not surveyed"), as is a school never surveyed.
* Coverage I.2 is the share of poor-village schools (``School.in_poor_village``) measured
  against the standard that reach it; each gap names the open project at the school that
  brings the item up to standard, and the acceptance due date (earliest first).
* Task book: a project counts when its acceptance (验收) is closed by the date. Kindergartens
  count per plan year when in a poor village; renovated schools are distinct schools per plan
  year; informatization is the accepted projects' budget; special-education funds compare the
  accepted special-education projects' budget of each year with 6,000 yuan for each pupil
  enrolled at a special-education school that school year; care centres count townships with
  poor villages that have at least one. A user sees the progress of their jurisdiction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import get_language

from jingzhun.core.scoping import scope_of, scope_queryset
from jingzhun.projects.models import (
    BudgetLine,
    Project,
    ProjectNode,
    QualityHighSchool,
    StandardItem,
    StandardVersion,
    Survey,
    SurveyAnswer,
)
from jingzhun.projects.rulebook import TASK_BOOK_FILE, TargetSpec, load_task_book, shipped_source
from jingzhun.registry.models import Area, Household
from jingzhun.schools.models import Enrolment, School, Stage

# The levels whose users see school conditions and projects (a class teacher's are pupils).
STAFF_LEVELS = ("county", "township", "school")
OK = (SurveyAnswer.Status.MET, SurveyAnswer.Status.NOT_APPLICABLE)
NOT_SURVEYED = "not_surveyed"


def project_list(*, user: Any) -> QuerySet[Project]:
    """Return the projects the user may see."""
    return scope_queryset(Project.objects.all(), user)


def survey_list(*, user: Any) -> QuerySet[Survey]:
    """Return the condition surveys of the schools the user may see."""
    return scope_queryset(Survey.objects.all(), user)


def standard_items(*, user: Any, on: dt.date | None = None) -> list[StandardItem]:
    """Return the items of the basic standard valid on a date (default today)."""
    version = StandardVersion.current(on or timezone.localdate())
    if version is None:
        return []
    return list(scope_queryset(StandardItem.objects.filter(version=version), user))


# --------------------------------------------------------------------------- for the pages

PROJECT_STATES = ("accepted", "black", "open")


def get_project(*, user: Any, project_id: int) -> Project:
    """Return one project the user may see, else 404 (missing and forbidden alike)."""
    found = project_list(user=user).filter(pk=project_id).select_related("school", "village")
    project = found.first()
    if project is None:
        raise Http404
    return project


def get_node(*, user: Any, node_id: int) -> ProjectNode:
    """Return one time node of a project the user may see, else 404."""
    node = (
        scope_queryset(ProjectNode.objects.filter(pk=node_id), user)
        .select_related("project", "closed_by")
        .first()
    )
    if node is None:
        raise Http404
    return node


def project_state_q(state: str, on: dt.date) -> Q:
    """Projects accepted by a date, with an overdue (black-flag) node, or open and in time."""
    overdue = ProjectNode.objects.filter(project=OuterRef("pk"), due_on__lt=on).filter(
        Q(closed_on__isnull=True) | Q(closed_on__gt=on)
    )
    accepted = ProjectNode.objects.filter(
        project=OuterRef("pk"),
        kind=ProjectNode.Kind.ACCEPTANCE,
        closed_on__isnull=False,
        closed_on__lte=on,
    )
    if state == "accepted":
        return Q(Exists(accepted))
    if state == "black":
        return Q(Exists(overdue))
    return ~Q(Exists(accepted)) & ~Q(Exists(overdue))


def with_state(projects: QuerySet[Project], on: dt.date) -> QuerySet[Project]:
    """Annotate projects with their budget, acceptance and overdue nodes on a date."""
    budget = (
        BudgetLine.objects.filter(project=OuterRef("pk"))
        .order_by()
        .values("project")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    return projects.annotate(
        budget_total=Subquery(budget),
        accepted=Exists(
            ProjectNode.objects.filter(
                project=OuterRef("pk"),
                kind=ProjectNode.Kind.ACCEPTANCE,
                closed_on__isnull=False,
                closed_on__lte=on,
            )
        ),
        overdue=Exists(
            ProjectNode.objects.filter(project=OuterRef("pk"), due_on__lt=on).filter(
                Q(closed_on__isnull=True) | Q(closed_on__gt=on)
            )
        ),
    )


def budget_totals(projects: QuerySet[Project]) -> list[tuple[str, Decimal]]:
    """Return (funding source, total) of the budget lines of some projects, by source."""
    rows = (
        BudgetLine.objects.filter(project__in=projects.order_by().values("pk"))
        .order_by("source")
        .values("source")
        .annotate(s=Sum("amount"))
    )
    return [(r["source"], r["s"] or Decimal("0.00")) for r in rows]


def township_names(codes: Any) -> dict[str, str]:
    """Return {code: name} of the townships named by code (codes the user already sees)."""
    return dict(
        Area.objects.filter(level=Area.Level.TOWNSHIP, code__in=set(codes)).values_list(
            "code", "name"
        )
    )


def survey_counts(*, user: Any, school_ids: list[int], on: dt.date) -> dict[int, dict[str, int]]:
    """Return {school id: {status: answers}} of each visible school's latest survey by `on`."""
    visible = [s.pk for s in _schools(user, only=Q(pk__in=school_ids))]
    out: dict[int, dict[str, int]] = {}
    for school_id, (_day, answers) in _latest_answers(visible, on).items():
        counts = dict.fromkeys(SurveyAnswer.Status.values, 0)
        for status in answers.values():
            counts[status] = counts.get(status, 0) + 1
        out[school_id] = counts
    return out


def school_choices(*, user: Any) -> list[tuple[int, str]]:
    """Return (id, name) of the schools the user sees against the standard, by township."""
    return [(s.pk, s.name) for s in _schools(user)]


def get_school(*, user: Any, school_id: int) -> School:
    """Return one school of :func:`school_choices`, else 404 (missing and forbidden alike)."""
    found = _schools(user, only=Q(pk=school_id))
    if not found:
        raise Http404
    return found[0]


def village_choices(*, user: Any) -> list[tuple[int, str]]:
    """Return (id, name) of the villages of the user's county or township, by code."""
    scope = scope_of(user)
    if scope.level not in ("county", "township"):
        return []
    return list(
        Area.objects.filter(level=Area.Level.VILLAGE, code__startswith=scope.area_code)
        .order_by("code")
        .values_list("pk", "name")
    )


def get_village(*, user: Any, village_id: int) -> Area:
    """Return one village of :func:`village_choices`, else 404."""
    scope = scope_of(user)
    if scope.level not in ("county", "township"):
        raise Http404
    village = Area.objects.filter(
        pk=village_id, level=Area.Level.VILLAGE, code__startswith=scope.area_code
    ).first()
    if village is None:
        raise Http404
    return village


def _accepted_q(on: dt.date) -> Q:
    """Projects whose acceptance (验收) is closed by a date."""
    return Q(
        nodes__kind=ProjectNode.Kind.ACCEPTANCE,
        nodes__closed_on__isnull=False,
        nodes__closed_on__lte=on,
    )


# --------------------------------------------------------------------------- the wall chart


@dataclass(frozen=True)
class NodeLine:
    """One time node of a project on the wall chart, with its flag on the date."""

    project_id: int
    project_name: str
    township_code: str
    kind: str
    due_on: dt.date
    closed_on: dt.date | None
    flag: str


def project_nodes(*, user: Any, on: dt.date | None = None) -> list[NodeLine]:
    """Return every time node of the projects the user sees, with its flag on the date."""
    on = on or timezone.localdate()
    nodes = (
        scope_queryset(ProjectNode.objects.all(), user)
        .select_related("project")
        .order_by("project__plan_year", "project__township_code", "project_id", "position")
    )
    return [
        NodeLine(
            project_id=n.project_id,
            project_name=n.project.name,
            township_code=n.project.township_code,
            kind=n.kind,
            due_on=n.due_on,
            closed_on=n.closed_on if n.closed_by_date(on) else None,
            flag=n.flag(on),
        )
        for n in nodes
    ]


# --------------------------------------------------------------------------- the standard


@dataclass(frozen=True)
class Gap:
    """An applicable item a school does not meet, and the open project that will close it."""

    item_code: str
    wording: str
    status: str  # SurveyAnswer.Status.NOT_MET or NOT_SURVEYED
    project_id: int | None = None
    project_name: str = ""
    due_on: dt.date | None = None  # the project's acceptance due date


@dataclass
class SchoolStandard:
    """One school against the basic standard on a date."""

    school_id: int
    school_code: str
    school_name: str
    kind: str
    township_code: str
    township_name: str
    in_poor_village: bool
    surveyed_on: dt.date | None
    applicable: int
    met: int
    gaps: list[Gap] = field(default_factory=list)

    @property
    def reached(self) -> bool:
        """Whether the school reaches the standard: surveyed, every applicable item met."""
        return self.surveyed_on is not None and not self.gaps


def _schools(user: Any, *, only: Q | None = None) -> list[School]:
    if scope_of(user).level not in STAFF_LEVELS:
        return []
    schools = scope_queryset(
        School.objects.filter(location=School.Location.IN_COUNTY).exclude(
            kind=School.Kind.UNIVERSITY
        ),
        user,
    )
    if only is not None:
        schools = schools.filter(only)
    return list(schools.select_related("township").distinct().order_by("township__code", "code"))


def _latest_answers(
    school_ids: list[int], on: dt.date
) -> dict[int, tuple[dt.date, dict[str, str]]]:
    """Return {school id: (date, {item code: status})} of each school's latest survey by `on`."""
    latest: dict[int, tuple[int, dt.date]] = {}
    for survey_id, school_id, surveyed_on in (
        Survey.objects.filter(school_id__in=school_ids, surveyed_on__lte=on)
        .order_by("school_id", "-surveyed_on", "-id")
        .values_list("id", "school_id", "surveyed_on")
    ):
        latest.setdefault(school_id, (survey_id, surveyed_on))
    by_survey = {survey_id: school_id for school_id, (survey_id, _) in latest.items()}
    out: dict[int, tuple[dt.date, dict[str, str]]] = {
        school_id: (surveyed_on, {}) for school_id, (_, surveyed_on) in latest.items()
    }
    for survey_id, code, status in SurveyAnswer.objects.filter(
        survey_id__in=list(by_survey)
    ).values_list("survey_id", "item_code", "status"):
        out[by_survey[survey_id]][1][code] = status
    return out


def _closing_projects(
    user: Any, school_ids: list[int], on: dt.date
) -> dict[tuple[int, str], tuple[int, str, dt.date]]:
    """Return {(school id, item): (project id, name, acceptance due)} of open projects."""
    out: dict[tuple[int, str], tuple[int, str, dt.date]] = {}
    nodes = (
        scope_queryset(ProjectNode.objects.filter(kind=ProjectNode.Kind.ACCEPTANCE), user)
        .filter(project__school_id__in=school_ids)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gt=on))
        .select_related("project")
        .order_by("due_on", "project_id")
    )
    for node in nodes:
        project = node.project
        assert project.school_id is not None
        for code in project.items:
            out.setdefault((project.school_id, code), (project.pk, project.name, node.due_on))
    return out


def _measure(
    user: Any, schools: list[School], version: StandardVersion | None, on: dt.date
) -> list[SchoolStandard]:
    if version is None:
        return []
    items = list(version.items.order_by("position", "code"))
    language = get_language() or "en"
    measured = [(s, [i for i in items if i.applies_to(s)]) for s in schools]
    measured = [(s, applicable) for s, applicable in measured if applicable]
    ids = [s.pk for s, _ in measured]
    answers = _latest_answers(ids, on)
    closing = _closing_projects(user, ids, on)
    rows = []
    for school, applicable in measured:
        surveyed_on, found = answers.get(school.pk, (None, {}))
        gaps = []
        for item in applicable:
            status = found.get(item.code, NOT_SURVEYED)
            if status in OK:
                continue
            project = closing.get((school.pk, item.code))
            gaps.append(
                Gap(
                    item_code=item.code,
                    wording=item.wording(language),
                    status=status,
                    project_id=project[0] if project else None,
                    project_name=project[1] if project else "",
                    due_on=project[2] if project else None,
                )
            )
        township = school.township
        rows.append(
            SchoolStandard(
                school_id=school.pk,
                school_code=school.code,
                school_name=school.name,
                kind=school.kind,
                township_code=township.code if township else "",
                township_name=township.name if township else "",
                in_poor_village=school.in_poor_village,
                surveyed_on=surveyed_on,
                applicable=len(applicable),
                met=len(applicable) - len(gaps),
                gaps=gaps,
            )
        )
    return rows


def school_standard(user: Any, *, on: dt.date | None = None) -> list[SchoolStandard]:
    """Return each school the user sees against the basic standard valid on a date."""
    on = on or timezone.localdate()
    return _measure(user, _schools(user), StandardVersion.current(on), on)


@dataclass(frozen=True)
class CoverageLine:
    """Poor-village schools measured and reaching the standard, in a township or the county."""

    code: str
    name: str
    schools: int
    reached: int

    @property
    def share(self) -> float | None:
        return self.reached / self.schools if self.schools else None


@dataclass
class StandardCoverage:
    """Coverage I.2 on a date: per poor-village school, per township and for the county."""

    on: dt.date
    schools: list[SchoolStandard]
    townships: list[CoverageLine]
    county: CoverageLine | None


def standard_coverage(user: Any, *, on: dt.date | None = None) -> StandardCoverage:
    """Return the share of poor-village schools that reach the basic standard (I.2)."""
    on = on or timezone.localdate()
    rows = _measure(
        user, _schools(user, only=Q(in_poor_village=True)), StandardVersion.current(on), on
    )
    townships: dict[tuple[str, str], list[SchoolStandard]] = defaultdict(list)
    for row in rows:
        townships[(row.township_code, row.township_name)].append(row)
    lines = [
        CoverageLine(code, name, len(members), sum(m.reached for m in members))
        for (code, name), members in sorted(townships.items())
    ]
    county = None
    if rows:
        code = rows[0].township_code[:6]
        name = Area.objects.filter(code=code).values_list("name", flat=True).first() or ""
        county = CoverageLine(code, name, len(rows), sum(r.reached for r in rows))
    return StandardCoverage(on=on, schools=rows, townships=lines, county=county)


# --------------------------------------------------------------------------- the task book


@dataclass(frozen=True)
class TargetProgress:
    """One target of the task book and its progress on a date, computed from projects."""

    id: str
    clause: str
    kind: str
    measure: str
    year: int | None
    target: Decimal
    done: Decimal
    # Townships with poor villages and no care centre yet (care-centre target only).
    missing: tuple[str, ...] = ()

    @property
    def met(self) -> bool:
        return self.done >= self.target


@lru_cache(maxsize=1)
def task_book_targets() -> tuple[TargetSpec, ...]:
    """Return the targets of the task book shipped with the platform."""
    return load_task_book(shipped_source(TASK_BOOK_FILE))


def _budget(projects: QuerySet[Project]) -> Decimal:
    total = BudgetLine.objects.filter(project__in=projects.values("pk")).aggregate(s=Sum("amount"))
    return total["s"] or Decimal("0.00")


def _special_pupils(user: Any, school_year: int) -> int:
    ids = [s.pk for s in _schools(user, only=Q(kind=School.Kind.SPECIAL))]
    return Enrolment.objects.filter(
        school_id__in=ids, school_year=school_year, status=Enrolment.Status.ENROLLED
    ).count()


def _poor_townships(user: Any) -> list[tuple[str, str]]:
    """Return (code, name) of the townships the user sees that have a poor village."""
    scope = scope_of(user)
    if scope.level not in ("county", "township"):
        return []
    codes = set(
        Area.objects.filter(
            level=Area.Level.VILLAGE, is_poor=True, code__startswith=scope.area_code
        ).values_list("code", flat=True)
    )
    townships = {c[:9] for c in codes}
    return list(
        Area.objects.filter(level=Area.Level.TOWNSHIP, code__in=townships)
        .order_by("code")
        .values_list("code", "name")
    )


def _progress(user: Any, spec: TargetSpec, on: dt.date) -> list[TargetProgress]:
    accepted = project_list(user=user).filter(kind=spec.kind).filter(_accepted_q(on)).distinct()

    def line(done: Decimal | int, target: Decimal | None = None, **extra: Any) -> TargetProgress:
        return TargetProgress(
            id=spec.id,
            clause=spec.clause,
            kind=spec.kind,
            measure=spec.measure,
            year=extra.pop("year", spec.year),
            target=spec.target if target is None else target,
            done=Decimal(done),
            **extra,
        )

    year = spec.year or 0
    if spec.measure == "projects_in_poor_villages":
        return [line(accepted.filter(plan_year=year, in_poor_village=True).count())]
    if spec.measure == "schools":
        schools = (
            accepted.filter(plan_year=year, school__isnull=False)
            .order_by()
            .aggregate(n=Count("school", distinct=True))["n"]
        )
        return [line(schools)]
    if spec.measure == "budget_yuan":
        return [line(_budget(accepted.filter(plan_year=year)))]
    if spec.measure == "yuan_per_student":
        assert spec.from_year is not None
        return [
            line(
                _budget(accepted.filter(plan_year=year)),
                target=spec.target * _special_pupils(user, year),
                year=year,
            )
            for year in range(spec.from_year, on.year + 1)
        ]
    # townships_with_poor_villages
    townships = _poor_townships(user)
    having = set(accepted.values_list("township_code", flat=True))
    missing = tuple(name for code, name in townships if code not in having)
    return [
        line(
            len(townships) - len(missing),
            target=Decimal(len(townships)) * spec.target,
            missing=missing,
        )
    ]


def task_book(user: Any, *, on: dt.date | None = None) -> list[TargetProgress]:
    """Return each II.2 target of the task book with its progress on a date (default today)."""
    on = on or timezone.localdate()
    if scope_of(user).level not in STAFF_LEVELS:
        return []
    return [row for spec in task_book_targets() for row in _progress(user, spec, on)]


# --------------------------------------------------------------------------- quotas (II.2.5)


@dataclass
class QuotaCount:
    """Places at one quality high school (or in all): taken, and taken by children of
    registered-poor families from poor villages or townships (the II.2.5 share) and of
    registered-poor families anywhere."""

    places: int = 0
    poor_area: int = 0
    poor_family: int = 0

    @property
    def share(self) -> float | None:
        return self.poor_area / self.places if self.places else None

    def add(self, other: QuotaCount) -> None:
        self.places += other.places
        self.poor_area += other.poor_area
        self.poor_family += other.poor_family


@dataclass
class QuotaLine:
    school_id: int
    code: str
    name: str
    township_name: str
    designated_on: dt.date
    intake: QuotaCount = field(default_factory=QuotaCount)
    students: QuotaCount = field(default_factory=QuotaCount)


@dataclass
class OriginLine:
    """Children of one township's poor villages (or of a poor township) in the quality
    schools' intake and in all their years."""

    code: str
    name: str
    intake: int = 0
    students: int = 0


@dataclass
class Quotas:
    school_year: int
    schools: list[QuotaLine]
    intake: QuotaCount
    students: QuotaCount
    origins: list[OriginLine]
    # The township whose children the user's figures count ("" for the county or a school).
    township: str = ""


def quality_high_schools() -> list[QualityHighSchool]:
    """Return the county's quality high schools (a public list within the county)."""
    return list(QualityHighSchool.objects.select_related("school", "school__township"))


def high_school_choices(*, user: Any) -> list[School]:
    """Return the in-county schools with high-school places (what may be named quality)."""
    return _schools(
        user, only=Q(kind__in=(School.Kind.GENERAL_HIGH, School.Kind.COMPLETE_SECONDARY))
    )


def quotas(user: Any, *, school_year: int) -> Quotas:
    """Return the places of the quality high schools in a school year and how many of them
    children of poor villages and townships took (II.2.5), from the rolls.

    A place is an enrolment at the general-high stage of the year, whatever became of it
    later; the intake is the first grade's. A child counts as from a poor village or
    township when identification linked them (its Link) to a registered-poor family whose
    village, or its township, is poor; the rolls carry no address, so other children's
    villages are not known. County users see every school and every township; a township's
    users see each school's places and their own township's children in them; a school's
    users see their school if it is a quality one.
    """
    scope = scope_of(user)
    designated = quality_high_schools()
    if scope.level == "school":
        designated = [q for q in designated if q.school_id == scope.school_id]
    elif scope.level not in ("county", "township"):
        designated = []
    township = scope.area_code if scope.level == "township" else ""
    village = "student__link__person__household__village__"
    rows = (
        Enrolment.objects.filter(
            school_year=school_year,
            stage=Stage.SENIOR,
            school_id__in=[q.school_id for q in designated],
        )
        .values(
            "school_id",
            "grade",
            f"{village}code",
            f"{village}is_poor",
            f"{village}parent__is_poor",
            "student__link__person__household__status",
        )
        .annotate(n=Count("id"))
        .order_by()
    )
    lines = {
        q.school_id: QuotaLine(
            school_id=q.school_id,
            code=q.school.code,
            name=q.school.name,
            township_name=q.school.township.name if q.school.township else "",
            designated_on=q.designated_on,
        )
        for q in designated
    }
    origins: dict[str, OriginLine] = {}
    for r in rows:
        line = lines[r["school_id"]]
        code = r[f"{village}code"] or ""
        ours = not township or code.startswith(township)
        poor_area = (
            bool(code) and ours and bool(r[f"{village}is_poor"] or r[f"{village}parent__is_poor"])
        )
        poor_family = (
            bool(code)
            and ours
            and r["student__link__person__household__status"] == Household.Status.REGISTERED
        )
        count = QuotaCount(r["n"], r["n"] if poor_area else 0, r["n"] if poor_family else 0)
        line.students.add(count)
        if r["grade"] == 1:
            line.intake.add(count)
        if poor_area:
            origin = origins.setdefault(code[:9], OriginLine(code[:9], ""))
            origin.students += r["n"]
            origin.intake += r["n"] if r["grade"] == 1 else 0
    names = township_names(origins)
    for origin in origins.values():
        origin.name = names.get(origin.code, origin.code)
    intake, students = QuotaCount(), QuotaCount()
    for line in lines.values():
        intake.add(line.intake)
        students.add(line.students)
    return Quotas(
        school_year=school_year,
        schools=sorted(lines.values(), key=lambda q: q.code),
        intake=intake,
        students=students,
        origins=sorted(origins.values(), key=lambda o: o.code),
        township=township,
    )
