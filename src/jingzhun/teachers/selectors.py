"""Reads of the teacher roster and the II.3 figures, each limited to what the acting user sees.

Every figure is computed per school (one row per school of the user's jurisdiction) and rolls
up to townships and the county with :func:`roll_up`: counts add up, and shares and gaps are
worked out from the added counts (a township's gap is the sum of its schools' gaps, since one
school's surplus does not fill another's posts).

Readings of the plan made here (DOMAIN.md II.3), each a setting where the plan gives a number:

* A school's teachers are those in a teaching post (teacher or principal) on the date:
  started by then (or start unknown) and not yet left. Other staff do not count.
* Required posts (II.3.1): the pupils enrolled in the school year by stage over the stage's
  pupil-teacher ratio, plus the boarders over ``TEACHER_BOARDERS_PER_EXTRA_POST``, summed and
  rounded up once; a teaching point adds ``TEACHER_EXTRA_POSTS_PER_TEACHING_POINT``.
* Training (II.3.2): a person-time is a training that starts in the calendar year; a school's
  are those of its teachers (by their school now); a teacher is trained in a year when one of
  their trainings starts in it.
* Exchange (II.3.3): the teachers working at a poor-village school on a date are its own
  teachers plus those on exchange there; the share is of the latter among all of them.
* Village schools (II.3.4) are the schools with a village, and the teaching points.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from jingzhun.core.scoping import get_object_for_user, scope_of, scope_queryset
from jingzhun.funds.models import PaymentBatch
from jingzhun.registry.models import Area
from jingzhun.schools.models import Enrolment, School, Stage
from jingzhun.teachers.models import AllowanceLine, Exchange, ServicePeriod, Teacher, Training

# The levels whose users see the roster and its figures (a class teacher's are their pupils).
STAFF_LEVELS = ("county", "township", "school")


def teacher_list(*, user: Any) -> QuerySet[Teacher]:
    """Return the teachers the user may see."""
    return scope_queryset(Teacher.objects.all(), user)


def training_list(*, user: Any) -> QuerySet[Training]:
    """Return the trainings of the teachers the user may see."""
    return scope_queryset(Training.objects.all(), user)


def exchange_list(*, user: Any) -> QuerySet[Exchange]:
    """Return the exchanges from or to the schools the user may see."""
    return scope_queryset(Exchange.objects.all(), user)


def service_period_list(*, user: Any) -> QuerySet[ServicePeriod]:
    """Return the service periods of the teachers the user may see."""
    return scope_queryset(ServicePeriod.objects.all(), user)


# --------------------------------------------------------------------------- rows and roll-up


@dataclass
class SchoolLine:
    """One school's figures; rolled up, a township's (``school_id`` None) or the county's."""

    township_code: str
    township_name: str
    school_id: int | None = None
    school_name: str = ""
    schools: int = 1


R = TypeVar("R", bound=SchoolLine)


def roll_up(rows: Iterable[R], *, by: str = "township") -> list[R]:
    """Add up school rows per township (``by="township"``) or for the county (``"county"``).

    Every whole-number field is summed; the place fields name the township or the county code.
    """
    if by not in ("township", "county"):
        raise ValueError(f"roll_up by township or county, not {by!r}")
    groups: dict[tuple[str, str], list[R]] = defaultdict(list)
    rows = list(rows)
    # The county's total takes every school, those without a township yet included.
    county = next((r.township_code[:6] for r in rows if r.township_code), "")
    for row in rows:
        key = (row.township_code, row.township_name) if by == "township" else (county, "")
        groups[key].append(row)
    out: list[R] = []
    for (code, name), members in sorted(groups.items()):
        values: dict[str, Any] = {}
        for f in dataclasses.fields(members[0]):
            if f.name == "township_code":
                values[f.name] = code
            elif f.name == "township_name":
                values[f.name] = name
            elif f.name == "school_id":
                values[f.name] = None
            elif f.name == "school_name":
                values[f.name] = ""
            else:
                values[f.name] = sum(getattr(m, f.name) for m in members)
        out.append(type(members[0])(**values))
    return out


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _schools(user: Any, *, only: Q | None = None) -> list[School]:
    """Return the county's schools the user may see (not universities nor schools elsewhere)."""
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


def _line(school: School) -> dict[str, Any]:
    township = school.township
    return {
        "township_code": township.code if township else "",
        "township_name": township.name if township else "",
        "school_id": school.pk,
        "school_name": school.name,
    }


def _teachers_in_post(user: Any, on: dt.date, school_ids: Sequence[int]) -> dict[int, int]:
    """Return {school id: teachers in a teaching post on the date}."""
    counts = (
        scope_queryset(Teacher.objects.filter(Teacher.in_post_q(on)), user)
        .filter(school_id__in=school_ids)
        .order_by()
        .values("school_id")
        .annotate(n=Count("pk"))
    )
    return {c["school_id"]: c["n"] for c in counts}


VILLAGE_SCHOOLS = Q(village__isnull=False) | Q(kind=School.Kind.TEACHING_POINT)


# --------------------------------------------------------------------------- staffing (II.3.1)


@dataclass
class StaffingRow(SchoolLine):
    primary_pupils: int = 0
    junior_pupils: int = 0
    senior_pupils: int = 0
    boarders: int = 0
    required: int = 0
    teachers: int = 0
    gap: int = 0


def _ratios() -> dict[str, Fraction]:
    return {
        Stage.PRIMARY: Fraction(str(settings.TEACHER_RATIO_PRIMARY)),
        Stage.JUNIOR: Fraction(str(settings.TEACHER_RATIO_JUNIOR)),
        Stage.SENIOR: Fraction(str(settings.TEACHER_RATIO_SENIOR)),
    }


def required_posts(
    *, pupils: dict[str, int], boarders: int = 0, teaching_point: bool = False
) -> int:
    """Return the teacher posts a school needs for its pupils by stage (II.3.1)."""
    ratios = _ratios()
    posts = sum((Fraction(n) / ratios[stage] for stage, n in pupils.items()), Fraction(0))
    per_boarders = settings.TEACHER_BOARDERS_PER_EXTRA_POST
    if boarders and per_boarders:
        posts += Fraction(boarders, per_boarders)
    extra = settings.TEACHER_EXTRA_POSTS_PER_TEACHING_POINT if teaching_point else 0
    return math.ceil(posts) + extra


def staffing_gaps(*, user: Any, school_year: int, on: dt.date | None = None) -> list[StaffingRow]:
    """Return each school's required posts, teachers in post and gap (II.3.1).

    Pupils are the school's enrolments of the school year with status enrolled, in primary,
    junior and senior high; teachers those in post on `on` (default today).
    """
    on = on or timezone.localdate()
    schools = _schools(user)
    ids = [s.pk for s in schools]
    ratios = _ratios()
    pupils: dict[int, dict[str, int]] = defaultdict(dict)
    boarders: dict[int, int] = defaultdict(int)
    # The rolls of the schools the user sees, whichever county the pupils come from.
    for item in (
        Enrolment.objects.filter(
            school_id__in=ids,
            school_year=school_year,
            status=Enrolment.Status.ENROLLED,
            stage__in=list(ratios),
        )
        .order_by()
        .values("school_id", "stage")
        .annotate(n=Count("pk"), boarders=Count("pk", filter=Q(boarding=True)))
    ):
        pupils[item["school_id"]][item["stage"]] = item["n"]
        boarders[item["school_id"]] += item["boarders"]
    teachers = _teachers_in_post(user, on, ids)
    rows = []
    for school in schools:
        by_stage = pupils.get(school.pk, {})
        required = required_posts(
            pupils=by_stage,
            boarders=boarders[school.pk],
            teaching_point=school.kind == School.Kind.TEACHING_POINT,
        )
        actual = teachers.get(school.pk, 0)
        rows.append(
            StaffingRow(
                **_line(school),
                primary_pupils=by_stage.get(Stage.PRIMARY, 0),
                junior_pupils=by_stage.get(Stage.JUNIOR, 0),
                senior_pupils=by_stage.get(Stage.SENIOR, 0),
                boarders=boarders[school.pk],
                required=required,
                teachers=actual,
                gap=max(0, required - actual),
            )
        )
    return rows


# --------------------------------------------------------------------------- training (II.3.2)


@dataclass
class TrainingRow(SchoolLine):
    person_times: int = 0
    teachers: int = 0
    trained_teachers: int = 0
    # The same two counts again for a school in a poor village (0 elsewhere), so that the
    # poor-village share rolls up with the rest.
    poor_village_schools: int = 0
    poor_village_teachers: int = 0
    poor_village_trained: int = 0

    @property
    def trained_share(self) -> float | None:
        return _share(self.trained_teachers, self.teachers)

    @property
    def poor_village_trained_share(self) -> float | None:
        return _share(self.poor_village_trained, self.poor_village_teachers)


@dataclass
class TrainingSummary:
    """Training person-times of a year against the plan's target, and the rows behind them."""

    year: int
    target: int | None
    rows: list[TrainingRow] = field(default_factory=list)

    @property
    def total(self) -> TrainingRow:
        totals = roll_up(self.rows, by="county")
        return totals[0] if totals else TrainingRow(township_code="", township_name="", schools=0)

    @property
    def person_times(self) -> int:
        return self.total.person_times

    @property
    def target_met(self) -> bool | None:
        """Whether the person-times reach the year's target (None: no target that year)."""
        return None if self.target is None else self.person_times >= self.target


def training_target(year: int) -> int | None:
    """Return the plan's training person-times for a calendar year (II.3.2), if it sets one."""
    targets: dict[int, int] = settings.TEACHER_TRAINING_TARGETS
    return targets.get(year)


def training_summary(*, user: Any, year: int, on: dt.date | None = None) -> TrainingSummary:
    """Return the person-times of trainings starting in `year`, per school, with the target.

    Teachers counted for the trained share are those in post on `on` (default: the year's
    last day, or today within the year).
    """
    today = timezone.localdate()
    on = on or min(dt.date(year, 12, 31), max(today, dt.date(year, 1, 1)))
    schools = _schools(user)
    ids = [s.pk for s in schools]
    in_year = Q(started_on__year=year)
    times = {
        c["teacher__school_id"]: c["n"]
        for c in scope_queryset(Training.objects.filter(in_year), user)
        .filter(teacher__school_id__in=ids)
        .order_by()
        .values("teacher__school_id")
        .annotate(n=Count("pk"))
    }
    in_post = scope_queryset(Teacher.objects.filter(Teacher.in_post_q(on)), user).filter(
        school_id__in=ids
    )
    counts = {
        c["school_id"]: (c["n"], c["trained"])
        for c in in_post.order_by()
        .values("school_id")
        .annotate(
            n=Count("pk", distinct=True),
            trained=Count("pk", distinct=True, filter=Q(trainings__started_on__year=year)),
        )
    }
    rows = []
    for school in schools:
        teachers, trained = counts.get(school.pk, (0, 0))
        poor = school.in_poor_village
        rows.append(
            TrainingRow(
                **_line(school),
                person_times=times.get(school.pk, 0),
                teachers=teachers,
                trained_teachers=trained,
                poor_village_schools=int(poor),
                poor_village_teachers=teachers if poor else 0,
                poor_village_trained=trained if poor else 0,
            )
        )
    return TrainingSummary(year=year, target=training_target(year), rows=rows)


# --------------------------------------------------------------------------- exchange (II.3.3)


@dataclass
class ExchangeRow(SchoolLine):
    teachers: int = 0  # the school's own teachers in post
    exchanged_in: int = 0  # teachers on exchange there
    meeting_target: int = 0  # schools whose share reaches the target

    @property
    def working_there(self) -> int:
        return self.teachers + self.exchanged_in

    @property
    def share(self) -> float | None:
        return _share(self.exchanged_in, self.working_there)


def meets_exchange_target(exchanged_in: int, working_there: int) -> bool:
    """Return whether exchanged teachers are at least the target share of those there."""
    if working_there == 0:
        return False
    return exchanged_in * 100 >= settings.TEACHER_EXCHANGE_MIN_PERCENT * working_there


def exchange_shares(*, user: Any, on: dt.date | None = None) -> list[ExchangeRow]:
    """Return, for each poor-village school, the teachers on exchange there on `on` (II.3.3)."""
    on = on or timezone.localdate()
    schools = _schools(user, only=Q(in_poor_village=True))
    ids = [s.pk for s in schools]
    teachers = _teachers_in_post(user, on, ids)
    incoming = {
        c["to_school_id"]: c["n"]
        for c in scope_queryset(Exchange.objects.filter(Exchange.at_q(on)), user)
        .filter(to_school_id__in=ids)
        .order_by()
        .values("to_school_id")
        .annotate(n=Count("teacher", distinct=True))
    }
    rows = []
    for school in schools:
        own, there = teachers.get(school.pk, 0), incoming.get(school.pk, 0)
        rows.append(
            ExchangeRow(
                **_line(school),
                teachers=own,
                exchanged_in=there,
                meeting_target=int(meets_exchange_target(there, own + there)),
            )
        )
    return rows


# --------------------------------------------------------------------------- titles (II.3.4)


@dataclass
class TitleRow(SchoolLine):
    teachers: int = 0
    senior: int = 0  # of them, with a senior title (高级 or 正高级)

    @property
    def senior_share(self) -> float | None:
        return _share(self.senior, self.teachers)


def senior_title_shares(*, user: Any, on: dt.date | None = None) -> list[TitleRow]:
    """Return, for each village school and teaching point, its teachers with a senior title."""
    on = on or timezone.localdate()
    schools = _schools(user, only=VILLAGE_SCHOOLS)
    counts = {
        c["school_id"]: (c["n"], c["senior"])
        for c in scope_queryset(Teacher.objects.filter(Teacher.in_post_q(on)), user)
        .filter(school_id__in=[s.pk for s in schools])
        .order_by()
        .values("school_id")
        .annotate(n=Count("pk"), senior=Count("pk", filter=Q(title__in=Teacher.SENIOR_TITLES)))
    }
    rows = []
    for school in schools:
        teachers, senior = counts.get(school.pk, (0, 0))
        rows.append(TitleRow(**_line(school), teachers=teachers, senior=senior))
    return rows


@dataclass(frozen=True)
class LongServiceTeacher:
    """A teacher with many years at village schools and teaching points (II.3.4)."""

    teacher_id: int
    name: str
    id_masked: str
    school_id: int
    school_name: str
    township_code: str
    days: int

    @property
    def years(self) -> float:
        return round(self.days / 365.25, 1)


def _years_before(on: dt.date, years: int) -> dt.date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


def rural_service_days(periods: Iterable[tuple[dt.date, dt.date | None]], on: dt.date) -> int:
    """Return the days covered by periods up to `on` (ongoing ones run to it), overlaps once."""
    spans = sorted(
        (start, min(end or on, on)) for start, end in periods if start < min(end or on, on)
    )
    total, reach = 0, None
    for start, end in spans:
        if reach is not None and start < reach:
            start = reach
        if end > start:
            total += (end - start).days
            reach = end
    return total


def long_service_teachers(
    *, user: Any, on: dt.date | None = None, years: int | None = None
) -> list[LongServiceTeacher]:
    """Return the teachers in post with at least `years` (default 20) at village schools and
    teaching points by `on` (default today), longest first."""
    on = on or timezone.localdate()
    years = settings.TEACHER_COMMENDATION_YEARS if years is None else years
    needed = (on - _years_before(on, years)).days
    if scope_of(user).level not in STAFF_LEVELS:
        return []
    periods: dict[int, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    for teacher_id, start, end in (
        scope_queryset(
            ServicePeriod.objects.filter(kind__in=ServicePeriod.RURAL, started_on__lt=on), user
        )
        .order_by()
        .values_list("teacher_id", "started_on", "ended_on")
    ):
        periods[teacher_id].append((start, end))
    days = {pk: rural_service_days(spans, on) for pk, spans in periods.items()}
    eligible = [pk for pk, n in days.items() if n >= needed]
    teachers = (
        scope_queryset(Teacher.objects.filter(pk__in=eligible), user)
        .filter(Q(left_on__isnull=True) | Q(left_on__gt=on))
        .select_related("school__township")
    )
    out = [
        LongServiceTeacher(
            teacher_id=t.pk,
            name=t.name,
            id_masked=t.id_masked,
            school_id=t.school_id,
            school_name=t.school.name,
            township_code=t.school.township.code if t.school.township else "",
            days=days[t.pk],
        )
        for t in teachers
    ]
    return sorted(out, key=lambda t: (-t.days, t.township_code, t.name, t.teacher_id))


# --------------------------------------------------------------------------- coverage (I.3)


@dataclass
class CoverageRow(SchoolLine):
    """Each poor-village school's teacher coverage (I.3): 1 for a school that meets a part.

    The allowance ("guaranteed", II.3.4) is due at village primary schools and teaching
    points only: elsewhere it is not counted against the school.
    """

    supplemented: int = 0  # no staffing gap
    trained: int = 0  # a teacher of the school trained in the year
    exchanged: int = 0  # teachers on exchange reach the target share
    allowance_due: int = 0  # the school's teachers are owed the rural living allowance
    allowance_paid: int = 0  # every one of them was paid last month's
    covered: int = 0  # every part that applies


def allowance_month(on: dt.date) -> dt.date:
    """Return the month whose allowance coverage looks at on a date: the last full month."""
    return (on.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _allowance_paid(school_ids: Sequence[int], on: dt.date) -> dict[int, bool]:
    """Return {school id: every teacher in post there on `on` was paid last month's allowance}."""
    from jingzhun.funds.models import Payment

    month = allowance_month(on)
    teachers: dict[int, set[int]] = defaultdict(set)
    for teacher_id, school_id in (
        Teacher.objects.filter(Teacher.in_post_q(on), school_id__in=school_ids)
        .order_by()
        .values_list("pk", "school_id")
    ):
        teachers[school_id].add(teacher_id)
    lines = dict(
        AllowanceLine.objects.filter(
            month=month,
            teacher__school_id__in=school_ids,
            review=AllowanceLine.Review.APPROVED,
        )
        .order_by()
        .values_list("pk", "teacher_id")
    )
    sources = {f"teachers.allowance:{pk}": teacher for pk, teacher in lines.items()}
    paid = {
        sources[source]
        for source in Payment.objects.filter(
            source__in=list(sources), status=Payment.Status.PAID
        ).values_list("source", flat=True)
    }
    return {sid: bool(teachers[sid]) and teachers[sid] <= paid for sid in school_ids}


def teacher_coverage(
    *, user: Any, school_year: int, year: int, on: dt.date | None = None
) -> list[CoverageRow]:
    """Return the I.3 coverage of each poor-village school the user may see."""
    on = on or timezone.localdate()
    gaps = {r.school_id: r for r in staffing_gaps(user=user, school_year=school_year, on=on)}
    training = {r.school_id: r for r in training_summary(user=user, year=year, on=on).rows}
    exchange = {int(r.school_id or 0): r for r in exchange_shares(user=user, on=on)}
    kinds = dict(School.objects.filter(pk__in=list(exchange)).values_list("pk", "kind"))
    villages = set(
        School.objects.filter(pk__in=list(exchange), village__isnull=False).values_list(
            "pk", flat=True
        )
    )
    due = {
        sid
        for sid in exchange
        if kinds.get(sid) == School.Kind.TEACHING_POINT
        or (kinds.get(sid) == School.Kind.PRIMARY and sid in villages)
    }
    paid = _allowance_paid(sorted(due), on)
    rows = []
    for school_id, ex in exchange.items():
        supplemented = int(gaps[school_id].gap == 0)
        trained = int(training[school_id].trained_teachers > 0)
        exchanged = ex.meeting_target
        owed = int(school_id in due)
        settled = int(paid.get(school_id, False))
        rows.append(
            CoverageRow(
                township_code=ex.township_code,
                township_name=ex.township_name,
                school_id=school_id,
                school_name=ex.school_name,
                supplemented=supplemented,
                trained=trained,
                exchanged=exchanged,
                allowance_due=owed,
                allowance_paid=settled,
                covered=int(bool(supplemented and trained and exchanged and (settled or not owed))),
            )
        )
    return rows


# --------------------------------------------------------------------------- pages and forms


def school_choices(*, user: Any, poor_village: bool = False) -> list[tuple[int, str]]:
    """Return (id, name) of the county's schools the user may see (only those in poor
    villages with `poor_village`), by township and code."""
    only = Q(in_poor_village=True) if poor_village else None
    return [(s.pk, s.name) for s in _schools(user, only=only)]


def get_school(*, user: Any, school_id: int, poor_village: bool = False) -> School:
    """Return one school of :func:`school_choices`, else 404 (missing and forbidden alike)."""
    only = Q(pk=school_id) & (Q(in_poor_village=True) if poor_village else Q())
    found = _schools(user, only=only)
    if not found:
        raise Http404
    return found[0]


def teachers_in_post(*, user: Any, school_id: int, on: dt.date | None = None) -> QuerySet[Teacher]:
    """Return the teachers in a teaching post at one school the user may see, by name."""
    on = on or timezone.localdate()
    return (
        teacher_list(user=user)
        .filter(Teacher.in_post_q(on), school_id=school_id)
        .order_by("name", "pk")
    )


def get_teacher(*, user: Any, teacher_id: int) -> Teacher:
    """Return one teacher the user may see, else 404 (missing and forbidden alike)."""
    return get_object_for_user(Teacher.objects.select_related("school"), user, pk=teacher_id)


def township_names(*, user: Any) -> dict[str, str]:
    """Return {township code: name} of the townships of the schools the user may see."""
    return {s.township.code: s.township.name for s in _schools(user) if s.township is not None}


def jurisdiction_name(*, user: Any) -> str:
    """Return the name of the user's own jurisdiction: their county, township or school."""
    scope = scope_of(user)
    if scope.level == "school" and scope.school_id is not None:
        school = School.objects.filter(pk=scope.school_id).first()
        return school.name if school else ""
    if scope.level in ("county", "township"):
        area = Area.objects.filter(code=scope.area_code).first()
        return area.name if area else ""
    return ""


# --------------------------------------------------------------------------- allowance (II.3.4)


def allowance_lines(*, user: Any, month: dt.date) -> QuerySet[AllowanceLine]:
    """Return the month's allowance lines the user may see (a school's, a township's, ...)."""
    if scope_of(user).level not in STAFF_LEVELS:
        return AllowanceLine.objects.none()
    return scope_queryset(AllowanceLine.objects.filter(month=month.replace(day=1)), user)


def allowance_schools(*, user: Any, month: dt.date) -> list[dict[str, Any]]:
    """Return the schools with lines in the month the user sees, with their lines to review."""
    return [
        {"id": r["school_id"], "name": r["school__name"], "lines": r["n"], "pending": r["pending"]}
        for r in allowance_lines(user=user, month=month)
        .order_by("school__name", "school_id")
        .values("school_id", "school__name")
        .annotate(n=Count("pk"), pending=Count("pk", filter=Q(review=AllowanceLine.Review.PENDING)))
    ]


def allowance_batch(*, user: Any, month: dt.date) -> PaymentBatch | None:
    """Return the payment batch of the month's allowance (county users only)."""
    scope = scope_of(user)
    if scope.level != "county":
        return None
    key = f"teachers-allowance:{scope.county_code}:{month:%Y-%m}"
    return scope_queryset(PaymentBatch.objects.filter(idempotency_key=key), user).first()
