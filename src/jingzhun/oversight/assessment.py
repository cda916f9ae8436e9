"""The annual assessment (年度考核, III.3) of schools and township education offices.

Every indicator is computed from the platform's own records, through the other apps'
selectors; the weights come from the bureau's file (:mod:`.assessment_rules`). A unit's score
is the weighted sum over the indicators that apply to it, renormalised over their weights: an
indicator with no denominator for a unit is "not applicable" (never 0 or 100%), one whose
records the platform does not hold yet is "not available yet".

Ranks are county-wide: the figures are computed once for the whole county on behalf of the
county (:class:`CountyReader`, which only ever yields counts), and each user is then shown the
rows of their own jurisdiction. The records behind a figure (the drill-down,
:mod:`.assessment_records`) are always read as the acting user.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from jingzhun.accounts.readers import CountyReader
from jingzhun.aid import selectors as aid_selectors
from jingzhun.aid.services import SOURCE as AID_SOURCE
from jingzhun.core import permissions as P
from jingzhun.core.periods import Semester, SemesterKind
from jingzhun.core.scoping import scope_of
from jingzhun.duty import selectors as duty_selectors
from jingzhun.duty.models import DropoutCase
from jingzhun.duty.services import is_overdue
from jingzhun.funds.models import Payment
from jingzhun.identification import selectors as ident_selectors
from jingzhun.identification.models import IdentificationRun
from jingzhun.oversight import selectors as oversight_selectors
from jingzhun.oversight.assessment_rules import Weights, load_weights
from jingzhun.projects import selectors as project_selectors
from jingzhun.registry.models import Area
from jingzhun.schools import selectors as school_selectors
from jingzhun.schools.models import School
from jingzhun.teachers import selectors as teacher_selectors

TOWNSHIP_CODE_LENGTH = 9
#: Gaps of the aid coverage that mean no approved entitlement (the later ones are payment's).
NOT_APPROVED = ("not_enrolled", "pending_review", "excluded")
ONE_DECIMAL = Decimal("0.1")


# --------------------------------------------------------------------------- indicators


@dataclass(frozen=True)
class Indicator:
    """One indicator: what it measures, and what its share is made of."""

    id: str
    label: Promise
    part: Promise  # what the numerator counts
    whole: Promise  # what the denominator counts
    records: Promise  # what the drill-down lists


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "identification",
        _("Identification coverage"),
        _("poor school-age children whose place is known"),
        _("poor school-age children"),
        _("Poor school-age children whose place is not known"),
    ),
    Indicator(
        "aid_coverage",
        _("Aid coverage"),
        _("eligible students with an approved entitlement"),
        _("eligible students (per semester)"),
        _("Eligible students without an approved entitlement"),
    ),
    Indicator(
        "aid_timeliness",
        _("Aid paid in time"),
        _("payments made within their semester"),
        _("aid payments made"),
        _("Aid payments made after their semester"),
    ),
    Indicator(
        "dropout_cases",
        _("Dropout cases closed in time"),
        _("cases closed by their deadline"),
        _("cases due"),
        _("Dropout cases closed late or overdue"),
    ),
    Indicator(
        "responsibility",
        _("Responsibility chain"),
        _("poor students with a responsible person"),
        _("poor students"),
        _("Poor students without a responsible person"),
    ),
    Indicator(
        "project_nodes",
        _("Projects on time"),
        _("time nodes closed by their due date"),
        _("time nodes due"),
        _("Project time nodes not closed by their due date"),
    ),
    Indicator(
        "rectification",
        _("Findings rectified"),
        _("rectifications closed by their deadline"),
        _("rectifications due"),
        _("Rectifications not closed by their deadline"),
    ),
    Indicator(
        "training",
        _("Training done"),
        _("poor-village teachers trained this year"),
        _("poor-village teachers in post"),
        _("Poor-village teachers not trained this year"),
    ),
)
INDICATOR_BY_ID = {i.id: i for i in INDICATORS}


@dataclass(frozen=True)
class Figure:
    """One indicator's count for one unit: part of whole (or not available yet)."""

    part: int = 0
    whole: int = 0
    available: bool = True

    @property
    def share(self) -> Decimal | None:
        """Return part/whole (0 to 1), None when not applicable or not available."""
        if not self.available or not self.whole:
            return None
        return Decimal(self.part) / Decimal(self.whole)

    @property
    def percent(self) -> Decimal | None:
        share = self.share
        return None if share is None else (share * 100).quantize(ONE_DECIMAL, ROUND_HALF_UP)

    @property
    def state(self) -> str:
        """Return "ok", "not_available" or "not_applicable"."""
        if not self.available:
            return "not_available"
        return "ok" if self.whole else "not_applicable"


NOT_AVAILABLE = Figure(available=False)


@dataclass
class Counts:
    """Counts of one indicator per school (by id) and per township (by code)."""

    schools: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    townships: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    available: bool = True

    def add(self, school_id: int | None, township: str, ok: bool, n: int = 1) -> None:
        targets = [self.townships[township]] if township else []
        if school_id is not None:
            targets.append(self.schools[school_id])
        for counts in targets:
            counts[0] += n if ok else 0
            counts[1] += n

    def figure(self, level: str, key: Any) -> Figure:
        if not self.available:
            return NOT_AVAILABLE
        table: Any = self.schools if level == "school" else self.townships
        part, whole = table.get(key, (0, 0))
        return Figure(part, whole)


@dataclass(frozen=True)
class Period:
    """The school year assessed, and the day its figures are taken on (its end, or today)."""

    year: int
    today: dt.date

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 9, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year + 1, 8, 31)

    @property
    def as_of(self) -> dt.date:
        return min(self.today, self.end)

    @property
    def training_on(self) -> dt.date:
        """The day teachers in post are counted for the year's training (the teachers app's)."""
        return min(dt.date(self.year, 12, 31), max(self.today, dt.date(self.year, 1, 1)))

    def semesters(self) -> list[Semester]:
        """Return the semesters of the year that have begun by the day of the figures."""
        return [
            s
            for s in (Semester.named(self.year, k) for k in SemesterKind.values)
            if s.first_day <= self.as_of
        ]


def township_of(school: School | None, village_code: str = "") -> str:
    """Return the township a record counts for: its school's, else the child's home's."""
    if school is not None and school.township_id and school.township is not None:
        return school.township.code
    return village_code[:TOWNSHIP_CODE_LENGTH]


# --------------------------------------------------------------------------- the computations


def year_run(user: Any, year: int) -> IdentificationRun | None:
    """Return the latest confirmed identification run of a school year the user may see."""
    return (
        ident_selectors.run_list(user=user)
        .filter(status=IdentificationRun.Status.DONE, school_year=year)
        .first()
    )


def _identification(reader: Any, period: Period) -> Counts:
    """Where the children live: a township's villages (a school holds no such population)."""
    counts = Counts()
    run = year_run(reader, period.year)
    if run is not None:
        for row in ident_selectors.coverage(user=reader, run=run).townships:
            counts.townships[row.code] = [row.school_age_known, row.school_age]
    return counts


def aid_semesters(user: Any, period: Period) -> list[str]:
    """Return the semesters begun by then whose aid the county computed (others not counted)."""
    return [
        s.kind
        for s in period.semesters()
        if aid_selectors.entitlement_list(
            user=user, school_year=period.year, semester=s.kind
        ).exists()
    ]


def _aid_coverage(reader: Any, period: Period) -> Counts:
    """Eligible students (per semester) and those with an approved entitlement (the aid app's
    coverage of I.1, counting its gaps before approval as not approved)."""
    counts = Counts()
    for semester in aid_semesters(reader, period):
        coverage = aid_selectors.coverage(user=reader, school_year=period.year, semester=semester)
        missing_school: dict[int, set[int]] = defaultdict(set)
        missing_township: dict[str, set[int]] = defaultdict(set)
        for gap in coverage.gaps:
            if gap.reason in NOT_APPROVED:
                if gap.school_id is not None:
                    missing_school[gap.school_id].add(gap.student_id)
                missing_township[gap.township].add(gap.student_id)
        for row in coverage.by_school:
            school_id = int(row.key)
            counts.schools[school_id][0] += row.students - len(missing_school[school_id])
            counts.schools[school_id][1] += row.students
        for row in coverage.by_township:
            counts.townships[row.key][0] += row.students - len(missing_township[row.key])
            counts.townships[row.key][1] += row.students
    return counts


def aid_payments(user: Any, period: Period) -> list[Payment]:
    """Return the aid payments of the year the bank confirmed paid (the user's batches)."""
    batches = aid_selectors.batch_list(user=user).filter(school_year=period.year)
    return list(
        Payment.objects.filter(
            batch__in=batches, status=Payment.Status.PAID, source__startswith=AID_SOURCE
        )
        .select_related("batch", "school__township")
        .order_by("settled_at", "pk")
    )


def paid_in_time(payment: Payment) -> bool:
    """Return whether a payment was settled by the last day of its semester."""
    if payment.settled_at is None:
        return False
    semester = Semester.named(payment.batch.school_year, payment.batch.semester)
    return timezone.localdate(payment.settled_at) <= semester.last_day


def _aid_timeliness(reader: Any, period: Period) -> Counts:
    counts = Counts()
    for p in aid_payments(reader, period):
        counts.add(p.school_id, township_of(p.school, p.village_code), paid_in_time(p))
    return counts


def year_cases(user: Any, period: Period) -> list[tuple[DropoutCase, bool]]:
    """Return the user's dropout cases opened in the year and due by then, each with whether
    it closed in time: a closed case is due, an unclosed one once it is overdue."""
    rows = duty_selectors.case_list(user=user).filter(
        opened_on__gte=period.start, opened_on__lte=period.as_of
    )
    out = []
    for case in rows.order_by("opened_on", "pk"):
        if case.status == DropoutCase.Status.CLOSED:
            out.append((case, not case.closed_late))
        elif is_overdue(case, period.as_of):
            out.append((case, False))
    return out


def _dropout_cases(reader: Any, period: Period) -> Counts:
    counts = Counts()
    for case, in_time in year_cases(reader, period):
        counts.add(case.school_id, case.village_code[:TOWNSHIP_CODE_LENGTH], in_time)
    return counts


def _responsibility(reader: Any, period: Period) -> Counts:
    """The duty app's chain coverage (the latest run, today's chain)."""
    counts = Counts()
    coverage = duty_selectors.coverage(user=reader)
    for row in coverage.by_school:
        counts.schools[int(row.key)] = [row.covered, row.total]
    for row in coverage.by_township:
        counts.townships[row.key] = [row.covered, row.total]
    return counts


def year_nodes(user: Any, period: Period) -> list[tuple[Any, int | None, bool]]:
    """Return the user's project time nodes due in the year by then, each with the project's
    school and whether the node closed by its due date."""
    schools = dict(project_selectors.project_list(user=user).values_list("pk", "school_id"))
    out = []
    for node in project_selectors.project_nodes(user=user, on=period.as_of):
        if period.start <= node.due_on <= period.as_of:
            in_time = node.closed_on is not None and node.closed_on <= node.due_on
            out.append((node, schools.get(node.project_id), in_time))
    return out


def _project_nodes(reader: Any, period: Period) -> Counts:
    counts = Counts()
    for node, school_id, in_time in year_nodes(reader, period):
        counts.add(school_id, node.township_code, in_time)
    return counts


def year_rectifications(user: Any, period: Period) -> list[tuple[Any, bool]]:
    """Return the user's rectifications due in the year by then (deadline from the year's first
    day to the figures' date), each with whether it was closed by its deadline."""
    rows = oversight_selectors.rectification_list(user=user).filter(
        deadline__gte=period.start, deadline__lte=period.as_of
    )
    return [
        (r, r.closed_on is not None and r.closed_on <= r.deadline)
        for r in rows.order_by("deadline", "pk")
    ]


def _rectification(reader: Any, period: Period) -> Counts:
    counts = Counts()
    for r, in_time in year_rectifications(reader, period):
        counts.add(r.finding.school_id, r.finding.township.code, in_time)
    return counts


def _training(reader: Any, period: Period) -> Counts:
    """Poor-village teachers in post trained in the calendar year the school year starts in
    (the plan's training targets are per calendar year, II.3.2)."""
    counts = Counts()
    summary = teacher_selectors.training_summary(
        user=reader, year=period.year, on=period.training_on
    )
    for row in summary.rows:
        if row.school_id is None or not row.poor_village_teachers:
            continue
        counts.schools[row.school_id] = [row.poor_village_trained, row.poor_village_teachers]
        if row.township_code:
            township = counts.townships[row.township_code]
            township[0] += row.poor_village_trained
            township[1] += row.poor_village_teachers
    return counts


COMPUTE: dict[str, Callable[[Any, Period], Counts]] = {
    "identification": _identification,
    "aid_coverage": _aid_coverage,
    "aid_timeliness": _aid_timeliness,
    "dropout_cases": _dropout_cases,
    "responsibility": _responsibility,
    "project_nodes": _project_nodes,
    "rectification": _rectification,
    "training": _training,
}


# --------------------------------------------------------------------------- scores and ranks


@dataclass
class UnitScore:
    """One school or township: its figures, score and county-wide rank."""

    level: str  # "school" | "township"
    key: Any  # the school's id, the township's code
    name: str
    township_code: str
    township_name: str
    figures: dict[str, Figure]
    score: Decimal | None = None
    weight_applied: Decimal = Decimal(0)
    rank: int | None = None


@dataclass
class Assessment:
    year: int
    as_of: dt.date
    weights: Weights | None
    indicators: list[Indicator]  # those the weights name, in the file's order
    townships: list[UnitScore] = field(default_factory=list)
    schools: list[UnitScore] = field(default_factory=list)
    run: IdentificationRun | None = None
    aid_semesters: list[str] = field(default_factory=list)

    def weight(self, indicator_id: str, level: str) -> Decimal:
        spec = self.weights.of(indicator_id) if self.weights else None
        return spec.weight(level) if spec else Decimal(0)


def score_unit(unit: UnitScore, weights: Weights) -> None:
    """Set a unit's score: points over the weights of the indicators that apply, times 100."""
    points = Decimal(0)
    applied = Decimal(0)
    for spec in weights.indicators:
        weight = spec.weight(unit.level)
        figure = unit.figures.get(spec.id)
        if not weight or figure is None or figure.share is None:
            continue
        points += spec.points(unit.level, figure.share)
        applied += weight
    unit.weight_applied = applied
    unit.score = (points * 100 / applied).quantize(ONE_DECIMAL, ROUND_HALF_UP) if applied else None


def rank_units(units: list[UnitScore]) -> None:
    """Rank units by score, highest first, ties sharing a rank (1, 2, 2, 4); no score, no rank."""
    scored = sorted((u for u in units if u.score is not None), key=lambda u: -(u.score or 0))
    for n, unit in enumerate(scored):
        previous = scored[n - 1] if n else None
        unit.rank = previous.rank if previous and previous.score == unit.score else n + 1


def assessed_schools(reader: Any) -> list[School]:
    """Return the county's schools in a township (not universities nor schools elsewhere)."""
    return list(
        school_selectors.school_list(user=reader)
        .filter(township__isnull=False, location=School.Location.IN_COUNTY)
        .exclude(kind=School.Kind.UNIVERSITY)
        .select_related("township")
        .order_by("township__code", "code")
    )


def compute_assessment(*, county_code: str, year: int, today: dt.date | None = None) -> Assessment:
    """Return the whole county's assessment for a school year (figures, scores, ranks)."""
    period = Period(year, today or timezone.localdate())
    weights = load_weights(year)
    reader = CountyReader(county_code)
    assessment = Assessment(
        year=year,
        as_of=period.as_of,
        weights=weights,
        indicators=[INDICATOR_BY_ID[i.id] for i in weights.indicators] if weights else [],
        run=year_run(reader, year),
    )
    if weights is None or not county_code:
        return assessment
    assessment.aid_semesters = aid_semesters(reader, period)
    counts = {spec.id: COMPUTE[spec.id](reader, period) for spec in weights.indicators}
    townships = Area.objects.filter(level="township", code__startswith=county_code).order_by("code")
    for township in townships:
        assessment.townships.append(
            UnitScore(
                "township",
                township.code,
                township.name,
                township.code,
                township.name,
                {k: c.figure("township", township.code) for k, c in counts.items()},
            )
        )
    for school in assessed_schools(reader):
        code = school.township.code if school.township else ""
        assessment.schools.append(
            UnitScore(
                "school",
                school.pk,
                school.name,
                code,
                school.township.name if school.township else "",
                {k: c.figure("school", school.pk) for k, c in counts.items()},
            )
        )
    for units in (assessment.townships, assessment.schools):
        for unit in units:
            score_unit(unit, weights)
        rank_units(units)
    return assessment


# --------------------------------------------------------------------------- who sees what


def may_see_assessment(user: Any) -> bool:
    """Return whether the user may see the assessment: VIEW at a county, township or school."""
    return P.user_can(user, P.VIEW) and scope_of(user).level in ("county", "township", "school")


def visible(assessment: Assessment, user: Any) -> tuple[list[UnitScore], list[UnitScore]]:
    """Return the township and school rows the user may see (ranks stay county-wide)."""
    scope = scope_of(user)
    if not may_see_assessment(user):
        return [], []
    if scope.level == "county":
        return list(assessment.townships), list(assessment.schools)
    if scope.level == "township":
        code = scope.area_code
        return (
            [u for u in assessment.townships if u.key == code],
            [u for u in assessment.schools if u.township_code == code],
        )
    return [], [u for u in assessment.schools if u.key == scope.school_id]


def assessment_for(*, user: Any, year: int, today: dt.date | None = None) -> Assessment:
    """Return the assessment of the user's county with only the rows the user may see."""
    scope = scope_of(user)
    result = compute_assessment(county_code=scope.county_code, year=year, today=today)
    result.townships, result.schools = visible(result, user)
    return result


def year_choices(year: int) -> list[int]:
    """Return the school years offered in the year select (the asked one included)."""
    this = Semester.of(timezone.localdate()).school_year.start
    return sorted({*range(2018, this + 1), year}, reverse=True)
