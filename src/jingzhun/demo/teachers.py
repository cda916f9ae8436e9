"""The demo county's teachers after the roster import: careers, trainings and exchanges (II.3).

The roster (``teachers.xlsx``, :mod:`jingzhun.demo.generator.teachers`) says who teaches
where; what a county records by hand afterwards is written here, through the teachers
services, by the demo's county administrator:

* service histories, as far as they count for commendation (II.3.4): most teachers' first
  postings at village schools or teaching points (some since closed, named in words), and the
  ongoing stretch of those who teach at one now; their years at town schools are not recorded
  (each period is one write through the service, and the demo's setup time matters). Some have
  spent 20 years and more at village schools, so that the commendation list has names;
* trainings in 2016, 2017 and 2018, near the plan's 220, 230 and 230 person-times
  (:data:`TRAINING_PERSON_TIMES`: 2017 falls short), and in the current (calendar) year;
* exchanges of urban backbone teachers into poor-village schools this school year, by turn
  reaching the plan's 10% and falling short of it (:data:`EXCHANGE_PATTERN`); a school that
  falls short had a teacher on exchange the year before.

Each part is written once: a part the county already has is left as it is, so a second run
changes nothing. Every draw comes from a generator seeded from the demo's seed.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Min, Q

from jingzhun.core.periods import SchoolYear
from jingzhun.registry.models import Area
from jingzhun.schools.models import School
from jingzhun.teachers import selectors
from jingzhun.teachers.models import Exchange, ServicePeriod, Teacher, Training
from jingzhun.teachers.services import exchange_create, service_period_create, training_create

TEACHERS_DEMO_SEED_OFFSET = 0x49493033  # "II03"
# Person-times of the planned years (the plan: 220, 230, 230), one year short of its target.
TRAINING_PERSON_TIMES = {2016: 226, 2017: 214, 2018: 237}
# The person-times of the current year, if it is not one of those.
TRAINING_PERSON_TIMES_LATER = 232
# Teachers given a whole career at village schools and teaching points, at least.
LONG_SERVICE_AT_LEAST = 3
# By turn, over the poor-village schools in code order: whether this school year's exchanges
# reach the target share there.
EXCHANGE_PATTERN = (True, False, True)

Level = Training.Level
# (programme, level, days, who it is for: None anyone, else a test on the teacher)
Programme = tuple[str, str, int, Callable[[Teacher], bool] | None]


def _rural(teacher: Teacher) -> bool:
    school = teacher.school
    return school.village_id is not None or school.kind == School.Kind.TEACHING_POINT


def _programmes(year: int, county: str) -> list[Programme]:
    return [
        (f"国培计划（{year}）——乡村教师访名校研修", Level.NATIONAL, 10, _rural),
        (f"国培计划（{year}）——送教下乡培训", Level.NATIONAL, 5, _rural),
        (
            f"国培计划（{year}）——乡村校园长工作坊",
            Level.NATIONAL,
            7,
            lambda t: t.post == Teacher.Post.PRINCIPAL,
        ),
        (f"湖北省{year}年农村骨干教师培训", Level.PROVINCIAL, 7, lambda t: t.backbone),
        (
            f"湖北省{year}年特岗教师岗前培训",
            Level.PROVINCIAL,
            5,
            lambda t: t.staffing == Teacher.Staffing.SPECIAL_POST,
        ),
        (f"江城市{year}年中小学班主任能力提升培训", Level.MUNICIPAL, 3, None),
        (f"江城市{year}年学科骨干教师研修", Level.MUNICIPAL, 4, None),
        (f"{county}{year}年中小学教师全员培训", Level.COUNTY, 2, None),
        (
            f"{county}{year}年幼儿园教师保教能力培训",
            Level.COUNTY,
            2,
            lambda t: t.school.kind == School.Kind.KINDERGARTEN,
        ),
        (
            f"{county}{year}年教学点教师复式教学培训",
            Level.COUNTY,
            2,
            lambda t: t.school.kind == School.Kind.TEACHING_POINT,
        ),
    ]


_CAPACITY: dict[str, tuple[int, int]] = {
    Level.NATIONAL: (8, 16),
    Level.PROVINCIAL: (10, 24),
    Level.MUNICIPAL: (15, 30),
}
_COUNTY_CAPACITY = (20, 60)


@dataclass
class TeachersDemo:
    """What the demo recorded, and the II.3 figures it gives (as the county administrator)."""

    teachers: int = 0
    service_periods: int = 0
    trainings: dict[int, int] = field(default_factory=dict)  # year -> person-times recorded
    exchanges: int = 0
    # the figures, as the selectors give them
    short_schools: int = 0
    long_service: int = 0
    person_times: dict[int, int] = field(default_factory=dict)
    exchange_schools: int = 0
    exchange_meeting: int = 0


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _current_kind(teacher: Teacher) -> str:
    if teacher.school.kind == School.Kind.TEACHING_POINT:
        return ServicePeriod.Kind.TEACHING_POINT
    if teacher.school.village_id is not None:
        return ServicePeriod.Kind.VILLAGE_SCHOOL
    return ServicePeriod.Kind.TOWN_OR_CITY


class _Careers:
    def __init__(
        self, rng: random.Random, schools: list[School], villages: list[str], as_of: dt.date
    ) -> None:
        self.rng = rng
        self.as_of = as_of
        self.rural = [s for s in schools if s.village_id or s.kind == School.Kind.TEACHING_POINT]
        self.town = [
            s
            for s in schools
            if not s.village_id and s.kind in (School.Kind.PRIMARY, School.Kind.NINE_YEAR)
        ]
        self.villages = villages

    def start(self, teacher: Teacher) -> tuple[dt.date, dt.date]:
        """Return (career start, start at the present school)."""
        here = teacher.started_on or self.as_of
        birth = teacher.birth_date or _years_before(here, 30)
        career = dt.date(birth.year + 21 + int(self.rng.random() * 3), 9, 1)
        return min(career, here), here

    def rural_place(self, teacher: Teacher) -> tuple[str, School | None, str]:
        rng = self.rng
        kind = (
            ServicePeriod.Kind.TEACHING_POINT
            if rng.random() < 0.35
            else ServicePeriod.Kind.VILLAGE_SCHOOL
        )
        others = [s for s in self.rural if s.pk != teacher.school_id]
        if others and rng.random() < 0.45:
            school = others[int(rng.random() * len(others))]
            if school.kind == School.Kind.TEACHING_POINT:
                kind = ServicePeriod.Kind.TEACHING_POINT
            return kind, school, ""
        village = self.villages[int(rng.random() * len(self.villages))] if self.villages else ""
        word = "教学点" if kind == ServicePeriod.Kind.TEACHING_POINT else "小学"
        return kind, None, f"{village}{word}（已撤并）"

    def town_place(self, teacher: Teacher) -> tuple[str, School | None, str]:
        others = [s for s in self.town if s.pk != teacher.school_id]
        if others:
            return ServicePeriod.Kind.TOWN_OR_CITY, others[int(self.rng.random() * len(others))], ""
        return ServicePeriod.Kind.TOWN_OR_CITY, None, "外县学校"

    def plan(
        self, teacher: Teacher, whole_rural: bool = False
    ) -> list[tuple[str, School | None, str, dt.date, dt.date | None]]:
        """Return the teacher's periods, earliest first; the last one is at their school now."""
        rng = self.rng
        career, here = self.start(teacher)
        periods: list[tuple[str, School | None, str, dt.date, dt.date | None]] = []
        young = teacher.staffing == Teacher.Staffing.SPECIAL_POST
        if (here - career).days >= 365 and not young:
            first_rural = whole_rural or rng.random() < 0.65
            span_years = (here - career).days // 365
            # a long career before this school was spent at more than one place
            split = whole_rural or span_years >= 12 or (span_years >= 6 and rng.random() < 0.6)
            if split:
                cut_years = max(1, min(span_years - 1, 3 + int(rng.random() * 8)))
                cut = dt.date(career.year + cut_years, 9, 1)
                if not career < cut < here:
                    split = False
            where = self.rural_place(teacher) if first_rural else self.town_place(teacher)
            if split:
                periods.append((*where, career, cut))
                second = self.rural_place(teacher) if whole_rural else self.town_place(teacher)
                periods.append((*second, cut, here))
            else:
                periods.append((*where, career, here))
        periods.append((_current_kind(teacher), teacher.school, "", here, None))
        return periods


def _service_history(actor: Any, teachers: list[Teacher], careers: _Careers, as_of: dt.date) -> int:
    """Record every teacher's years at village schools and teaching points; return how many
    periods were recorded."""
    # The longest-serving candidates for a whole rural career: older teachers at village
    # schools and teaching points first.
    old = sorted(
        (t for t in teachers if t.birth_date and t.birth_date <= _years_before(as_of, 45)),
        key=lambda t: (not _rural(t), t.birth_date, t.pk),
    )
    whole = {t.pk for t in old[: LONG_SERVICE_AT_LEAST * 2]}
    made = 0
    for teacher in teachers:
        periods = careers.plan(teacher, whole_rural=teacher.pk in whole)
        for kind, school, place, start, end in periods:
            if kind not in ServicePeriod.RURAL:
                continue  # only the years that count for II.3.4 are recorded (each is a write)
            service_period_create(
                actor=actor,
                teacher=teacher,
                kind=kind,
                started_on=start,
                ended_on=end,
                school=school,
                place=place,
            )
            made += 1
    return made


def _career_starts(teachers: list[Teacher]) -> dict[int, dt.date]:
    first = dict(
        ServicePeriod.objects.filter(teacher__in=teachers)
        .values("teacher_id")
        .annotate(first=Min("started_on"))
        .values_list("teacher_id", "first")
    )
    return {t.pk: first.get(t.pk) or t.started_on or dt.date(1990, 9, 1) for t in teachers}


def _trainings(
    actor: Any,
    teachers: list[Teacher],
    rng: random.Random,
    county_name: str,
    as_of: dt.date,
) -> dict[int, int]:
    """Record the trainings of the planned years and of every year since; return the counts."""
    starts = _career_starts(teachers)
    staff = [t for t in teachers if t.post in Teacher.TEACHING_POSTS]
    done: dict[int, int] = {}
    for year in sorted({*TRAINING_PERSON_TIMES, as_of.year}):
        if year > as_of.year:
            continue
        wanted = TRAINING_PERSON_TIMES.get(year, TRAINING_PERSON_TIMES_LATER)
        last = min(dt.date(year, 11, 30), as_of - dt.timedelta(days=1))
        eligible = [t for t in staff if starts[t.pk] <= dt.date(year, 3, 1)]
        if not eligible or last < dt.date(year, 3, 1):
            continue
        programmes = _programmes(year, county_name)
        made = 0
        session = 0
        while made < wanted:
            name, level, days, who = programmes[session % len(programmes)]
            round_no = session // len(programmes) + 1
            session += 1
            pool = [t for t in eligible if who is None or who(t)] or eligible
            lo, hi = _CAPACITY.get(level, _COUNTY_CAPACITY)
            k = min(wanted - made, len(pool), lo + int(rng.random() * (hi - lo + 1)))
            span = (last - dt.date(year, 3, 1)).days - days
            start = dt.date(year, 3, 1) + dt.timedelta(days=int(rng.random() * max(1, span)))
            end = start + dt.timedelta(days=days - 1)
            title = name if round_no == 1 else f"{name}（第{round_no}期）"
            for teacher in rng.sample(pool, k):
                training_create(
                    actor=actor,
                    teacher=teacher,
                    programme=title,
                    level=level,
                    started_on=start,
                    ended_on=end,
                    hours=days * 8,
                )
            made += k
        done[year] = made
    return done


def _exchanges(
    actor: Any,
    teachers: list[Teacher],
    rng: random.Random,
    school_year: int,
    as_of: dt.date,
) -> int:
    """Send urban backbone teachers to poor-village schools; return the exchanges recorded."""
    year = SchoolYear(school_year)
    poor = sorted({t.school for t in teachers if t.school.in_poor_village}, key=lambda s: s.code)
    townships = sorted({t.school.township.code for t in teachers if t.school.township})
    seat = townships[0] if townships else ""

    def urban(t: Teacher) -> bool:
        school = t.school
        return (
            school.village_id is None
            and not school.in_poor_village
            and school.kind != School.Kind.TEACHING_POINT
            and (school.township is None or school.township.code == seat)
            and t.post == Teacher.Post.TEACHER
        )

    backbone = [t for t in teachers if urban(t) and t.backbone]
    rng.shuffle(backbone)
    # more teachers of senior titles, where the backbone teachers run out
    seniors = [
        t
        for t in teachers
        if urban(t) and not t.backbone and t.title not in (Teacher.Title.NONE, Teacher.Title.JUNIOR)
    ]
    rng.shuffle(seniors)
    senders = backbone + seniors
    own: dict[int, int] = defaultdict(int)
    for t in teachers:
        if t.post in Teacher.TEACHING_POSTS and (t.started_on is None or t.started_on <= as_of):
            own[t.school.pk] += 1
    made = 0
    last_year = SchoolYear(school_year - 1)
    for i, school in enumerate(poor):
        meets = EXCHANGE_PATTERN[i % len(EXCHANGE_PATTERN)]
        enough = math.ceil(own[school.pk] / 9)  # x / (own + x) >= 10%
        now = enough if meets else max(0, enough - 1)
        for _ in range(now):
            if not senders:
                break
            exchange_create(
                actor=actor,
                teacher=senders.pop(0),
                to_school=school,
                started_on=year.first_day,
                ended_on=year.last_day,
            )
            made += 1
        if not meets and senders:
            exchange_create(
                actor=actor,
                teacher=senders.pop(0),
                to_school=school,
                started_on=last_year.first_day,
                ended_on=last_year.last_day,
            )
            made += 1
    return made


def teachers_demo(
    *, actor: Any, county: Area, school_year: int, as_of: dt.date, seed: int
) -> TeachersDemo:
    """Record the county's teachers' careers, trainings and exchanges, once; return figures."""
    teachers = list(
        Teacher.objects.filter(county_code=county.code)
        .select_related("school__township")
        .order_by("id")
    )
    result = TeachersDemo(teachers=len(teachers))
    with transaction.atomic():
        if teachers and not ServicePeriod.objects.filter(teacher__county_code=county.code).exists():
            schools = list(
                School.objects.filter(
                    Q(township__code__startswith=county.code) | Q(township__isnull=True),
                    location=School.Location.IN_COUNTY,
                )
                .exclude(kind=School.Kind.UNIVERSITY)
                .order_by("code")
            )
            villages = sorted(
                Area.objects.filter(
                    level=Area.Level.VILLAGE, code__startswith=county.code
                ).values_list("name", flat=True)
            )
            careers = _Careers(
                random.Random(seed + TEACHERS_DEMO_SEED_OFFSET), schools, villages, as_of
            )
            result.service_periods = _service_history(actor, teachers, careers, as_of)
        if teachers and not Training.objects.filter(teacher__county_code=county.code).exists():
            rng = random.Random(seed + TEACHERS_DEMO_SEED_OFFSET + 1)
            result.trainings = _trainings(actor, teachers, rng, county.name, as_of)
        if teachers and not Exchange.objects.filter(teacher__county_code=county.code).exists():
            rng = random.Random(seed + TEACHERS_DEMO_SEED_OFFSET + 2)
            result.exchanges = _exchanges(actor, teachers, rng, school_year, as_of)
    gaps = selectors.staffing_gaps(user=actor, school_year=school_year, on=as_of)
    result.short_schools = sum(1 for r in gaps if r.gap > 0)
    result.long_service = len(selectors.long_service_teachers(user=actor, on=as_of))
    for year in sorted({*TRAINING_PERSON_TIMES, as_of.year}):
        # the schools' rows added up: a school with no township yet (the county seat's, taken
        # from the rolls) rolls up apart from the county in the summary's own total
        rows = selectors.training_summary(user=actor, year=year).rows
        result.person_times[year] = sum(r.person_times for r in rows)
    shares = selectors.exchange_shares(user=actor, on=as_of)
    result.exchange_schools = len(shares)
    result.exchange_meeting = sum(r.meeting_target for r in shares)
    return result
