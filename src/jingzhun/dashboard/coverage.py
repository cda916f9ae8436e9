"""The three coverages of objective I, with identification and dropout control, at any date.

Every figure is computed from the records as they stood on the date asked (never typed in):

- identification: the latest confirmed identification run whose records describe a day on
  or before the date (its as-of day); poor
  school-age children (6-15) whose place is known, where they live (village, township);
- aid (I.1): the semester the date falls in, once aid was computed for it; the aid
  app's coverage (every programme due reached the student), a cash payment the bank settled
  after the date counting as not yet paid; where children study (school, township);
- schools (I.2): poor-village schools reaching the basic standard in force on the date (their
  latest survey by the date);
- teachers (I.3): poor-village schools whose teachers are supplemented, trained, exchanged and
  guaranteed on the date (the teachers app's coverage);
- dropout control: poor compulsory-age children (6-15) of the run in force who are not out of
  school on the date: out of school is a dropout case open on the date (opened by then, no
  outcome recorded by then), or a child the run found not enrolled whose case recorded no
  outcome (returned, home teaching, exemption, moved away) between the run and the date.

Each measure is computed once for the user's whole jurisdiction and rolled up to units
(county, township, village, school): never one query per unit. Where an app has no data yet
for the date (no run, no rule book or aid computation, no standard or survey, no roster), its
figure says so in words instead of showing 0.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.accounts.readers import CountyReader
from jingzhun.aid import selectors as aid_selectors
from jingzhun.core import permissions as P
from jingzhun.core.cache import cached
from jingzhun.core.periods import SchoolYear, Semester, SemesterKind
from jingzhun.core.scoping import scope_of, scope_queryset
from jingzhun.dashboard.models import Level, Measure
from jingzhun.duty import selectors as duty_selectors
from jingzhun.funds.models import Payment
from jingzhun.identification import selectors as ident_selectors
from jingzhun.identification.models import ChildStatus, IdentificationRun
from jingzhun.projects import selectors as project_selectors
from jingzhun.registry.models import Area
from jingzhun.schools.models import School
from jingzhun.teachers import selectors as teacher_selectors
from jingzhun.teachers.models import Teacher

TOWNSHIP = 9  # digits of a township's code
COMPULSORY_AGES = (6, 15)
# The aid app's payments name their entitlement in their source (jingzhun.aid.services.SOURCE).
AID_SOURCE = "aid.entitlement:"
MEASURES: tuple[str, ...] = tuple(Measure.values)
LEVELS: tuple[str, ...] = tuple(Level.values)
# Dropout categories of an identification run: compulsory age and not enrolled.
OUT_OF_SCHOOL = (
    ChildStatus.Category.SUSPECTED_DROPOUT,
    ChildStatus.Category.DROPPED_OUT,
)


# --------------------------------------------------------------------------- figures and units


@dataclass(frozen=True)
class Figure:
    """One measure of one unit on a date: covered of total, or why there is no figure."""

    measure: str
    covered: int = 0
    total: int = 0
    state: str = "ok"  # "ok" | "absent" (the app has no data yet) | "na" (not at this level)
    note: str = ""
    url: str = ""

    @property
    def share(self) -> Decimal | None:
        """Return covered/total in per cent (one decimal, half up), None without a figure."""
        if self.state != "ok" or not self.total:
            return None
        return (Decimal(self.covered) * 100 / Decimal(self.total)).quantize(
            Decimal("0.1"), ROUND_HALF_UP
        )

    @property
    def label(self) -> str:
        return str(Measure(self.measure).label)


@dataclass
class Unit:
    """A county, township, village or school, with its figures by measure."""

    level: str
    code: str  # an area code, or "school:<id>" (never shown, never in a URL)
    name: str
    township_code: str
    school_id: int | None = None
    figures: dict[str, Figure] = field(default_factory=dict)

    @property
    def row(self) -> list[Figure]:
        return [self.figures[m] for m in MEASURES if m in self.figures]


# --------------------------------------------------------------------------- counts per measure


@dataclass
class Counts:
    """One measure's counts for the whole jurisdiction, by level and unit key."""

    state: str = "ok"
    note: str = ""
    # {level: {key: [covered, total]}}; the county's key is its code, a school's its id.
    by: dict[str, dict[Any, list[int]]] = field(default_factory=lambda: defaultdict(dict))
    # Levels at which the measure is not counted, with the reason.
    not_here: dict[str, str] = field(default_factory=dict)
    # What the links to the lists behind carry (year, semester, run...).
    link: dict[str, str] = field(default_factory=dict)

    def add(self, level: str, key: Any, covered: int, total: int = 1) -> None:
        entry = self.by[level].setdefault(key, [0, 0])
        entry[0] += covered
        entry[1] += total

    def put(self, level: str, key: Any, covered: int, total: int) -> None:
        self.by[level][key] = [covered, total]


def absent(note: str) -> Counts:
    return Counts(state="absent", note=note)


@dataclass
class Places:
    """The units of the jurisdiction: townships, villages, schools (ids) and their names."""

    county: tuple[str, str]
    townships: list[tuple[str, str]]
    villages: list[tuple[str, str]]
    schools: list[tuple[int, str, str, str]]  # id, name, township code, village code

    def school_township(self) -> dict[int, str]:
        return {s[0]: s[2] for s in self.schools}

    def school_village(self) -> dict[int, str]:
        return {s[0]: s[3] for s in self.schools}


def _places(user: Any) -> Places:
    scope = scope_of(user)
    county_name = (
        Area.objects.filter(code=scope.county_code).values_list("name", flat=True).first() or ""
    )
    townships: list[tuple[str, str]] = []
    villages: list[tuple[str, str]] = []
    if scope.level in ("county", "township"):
        areas = scope_queryset(Area.objects.all(), user).filter(code__startswith=scope.area_code)
        for code, name, level in areas.order_by("code").values_list("code", "name", "level"):
            if level == Area.Level.TOWNSHIP:
                townships.append((code, name))
            elif level == Area.Level.VILLAGE:
                villages.append((code, name))
    schools = (
        scope_queryset(School.objects.filter(location=School.Location.IN_COUNTY), user)
        .exclude(kind=School.Kind.UNIVERSITY)
        .filter(township__isnull=False)
        .order_by("township__code", "code")
        .values_list("pk", "name", "township__code", Coalesce("village__code", "township__code"))
        .distinct()
    )
    return Places(
        (scope.county_code, county_name),
        townships,
        villages,
        [(pk, name, t or "", v or "") for pk, name, t, v in schools],
    )


def _end_of(on: dt.date) -> dt.datetime:
    return dt.datetime.combine(
        on + dt.timedelta(days=1), dt.time.min, tzinfo=timezone.get_current_timezone()
    )


def run_on(user: Any, on: dt.date) -> IdentificationRun | None:
    """Return the identification run in force on a date: the latest confirmed run whose
    records describe a day on or before it (its ``as_of``)."""
    return (
        ident_selectors.run_list(user=user)
        .filter(status=IdentificationRun.Status.DONE, as_of__lte=on)
        .order_by("-as_of", "-id")
        .first()
    )


def _no_run(on: dt.date) -> Counts:
    return absent(_("No confirmed identification run describes a day by %(date)s.") % {"date": on})


def _identification(user: Any, on: dt.date, run: IdentificationRun | None) -> Counts:
    if run is None:
        return _no_run(on)
    counts = Counts(link={"run_as_of": run.as_of.isoformat()})
    result = ident_selectors.coverage(user=user, run=run)
    scope = scope_of(user)
    counts.put("county", scope.county_code, result.total.school_age_known, result.total.school_age)
    for row in result.townships:
        counts.put("township", row.code, row.school_age_known, row.school_age)
    for row in result.villages:
        counts.put("village", row.code, row.school_age_known, row.school_age)
    counts.not_here["school"] = _("Counted where children live, not by school.")
    return counts


def _aid(user: Any, on: dt.date, places: Places) -> Counts:
    semester = Semester.of(on)
    year, kind = semester.school_year.start, semester.kind
    label = f"{semester.school_year} {SemesterKind(kind).label}"
    _version, book = aid_selectors.current_book(user=user, school_year=year)
    if book is None:
        return absent(
            _("No aid rule book for school year %(year)s.") % {"year": semester.school_year}
        )
    computed = (
        aid_selectors.computation_list(user=user)
        .filter(school_year=year, semester=kind, status="done")
        .exists()
    )
    if not computed:
        return absent(
            _("Aid for the semester %(semester)s has not been computed.") % {"semester": label}
        )
    result = aid_selectors.coverage(user=user, school_year=year, semester=kind)
    counts = Counts(link={"year": str(year), "semester": kind})
    scope = scope_of(user)
    counts.put("county", scope.county_code, result.county.covered, result.county.students)
    for row in result.by_township:
        counts.put("township", row.key, row.covered, row.students)
    for row in result.by_school:
        counts.put("school", int(row.key), row.covered, row.students)
    # Students covered now whose cash the bank settled after the date were not covered then.
    gapped = {g.student_id for g in result.gaps}
    # Payments are the county's records: only their settling dates are read (as the aid app's
    # coverage reads their status), for the user's own students' entitlements below.
    batches = aid_selectors.batch_list(user=CountyReader(scope.county_code)).filter(
        school_year=year, semester=kind
    )
    late = [
        int(source[len(AID_SOURCE) :])
        for source in _late_sources(batches, on)
        if source[len(AID_SOURCE) :].isdigit()
    ]
    if late:
        township_of = places.school_township()
        seen: set[int] = set()
        for student_id, school_id, village in (
            aid_selectors.entitlement_list(user=user, school_year=year, semester=kind)
            .filter(pk__in=late)
            .order_by()
            .values_list("student_id", "school_id", "village_code")
        ):
            if student_id in gapped or student_id in seen:
                continue
            seen.add(student_id)
            township = township_of.get(school_id) or village[:TOWNSHIP]
            for level, key in (
                ("county", scope.county_code),
                ("township", township),
                ("school", school_id),
            ):
                if key in counts.by[level]:
                    counts.by[level][key][0] -= 1
    counts.not_here["village"] = _("Counted where children study, not by village.")
    return counts


def _late_sources(batches: Any, on: dt.date) -> list[str]:
    return list(
        Payment.objects.filter(
            batch__in=batches,
            source__startswith=AID_SOURCE,
            status=Payment.Status.PAID,
            settled_at__gte=_end_of(on),
        ).values_list("source", flat=True)
    )


def _schools(user: Any, on: dt.date, places: Places) -> Counts:
    result = project_selectors.standard_coverage(user, on=on)
    if not result.schools:
        return absent(
            _("No basic standard in force on %(date)s, or no poor-village school.") % {"date": on}
        )
    if all(r.surveyed_on is None for r in result.schools):
        return absent(_("No poor-village school was surveyed by %(date)s.") % {"date": on})
    return _per_school(
        [(r.school_id, r.township_code, int(r.reached)) for r in result.schools], user, places
    )


def _per_school(rows: list[tuple[int, str, int]], user: Any, places: Places) -> Counts:
    counts = Counts()
    village_of = places.school_village()
    county = scope_of(user).county_code
    for school_id, township, reached in rows:
        counts.add("school", school_id, reached)
        counts.add("township", township, reached)
        counts.add("county", county, reached)
        village = village_of.get(school_id, "")
        if len(village) > TOWNSHIP:
            counts.add("village", village, reached)
    return counts


def _teachers(user: Any, on: dt.date, places: Places) -> Counts:
    in_post = teacher_selectors.teacher_list(user=user).filter(Teacher.in_post_q(on)).exists()
    if not in_post:
        return absent(_("No teacher roster in post on %(date)s.") % {"date": on})
    year = SchoolYear.of(on).start
    rows = teacher_selectors.teacher_coverage(user=user, school_year=year, year=year, on=on)
    counts = _per_school(
        [(r.school_id, r.township_code, r.covered) for r in rows if r.school_id is not None],
        user,
        places,
    )
    counts.link = {"year": str(year)}
    return counts


def _dropout(user: Any, on: dt.date, run: IdentificationRun | None, places: Places) -> Counts:
    if run is None:
        return _no_run(on)
    scope = scope_of(user)
    children = ident_selectors.status_list(user=user, run=run).filter(
        age__gte=COMPULSORY_AGES[0], age__lte=COMPULSORY_AGES[1]
    )
    # Each child's latest case opened by the date: (opened, outcome date, school).
    latest: dict[int, tuple[dt.date, dt.date | None, int | None]] = {}
    for person_id, opened, resolved, closed, school_id in (
        duty_selectors.case_list(user=user)
        .filter(opened_on__lte=on)
        .order_by("person_id", "opened_on", "pk")
        .values_list("person_id", "opened_on", "resolved_on", "closed_on", "school_id")
    ):
        latest[person_id] = (opened, resolved or closed, school_id)
    township_of = places.school_township()
    counts = Counts(link={"show": "all"})
    lives_here = scope.level in ("county", "township")
    for person_id, category, village, school_id in children.order_by().values_list(
        "person_id", "category", "village_code", "school_id"
    ):
        case = latest.get(person_id)
        outcome_on = case[1] if case is not None else None
        outcome_by_then = outcome_on is not None and outcome_on <= on
        if case is not None and not outcome_by_then:
            out = True  # a case open on the date
        elif category in OUT_OF_SCHOOL:
            # found not enrolled: out unless a case recorded an outcome since the run
            out = not (outcome_on is not None and outcome_by_then and outcome_on >= run.as_of)
        else:
            out = False
        ok = int(not out)
        school = school_id or (case[2] if case is not None else None)
        if lives_here and village.startswith(scope.area_code):
            counts.add("county", scope.county_code, ok)
            counts.add("township", village[:TOWNSHIP], ok)
            counts.add("village", village, ok)
        if school is not None and school in township_of:
            counts.add("school", school, ok)
    return counts


def compute(user: Any, on: dt.date) -> dict[str, Counts]:
    """Return each measure's counts for the user's jurisdiction on a date (not cached)."""
    places = _places(user)
    run = run_on(user, on)
    return {
        Measure.IDENTIFICATION: _identification(user, on, run),
        Measure.AID: _aid(user, on, places),
        Measure.SCHOOLS: _schools(user, on, places),
        Measure.TEACHERS: _teachers(user, on, places),
        Measure.DROPOUT: _dropout(user, on, run, places),
    }


def _figures_and_places(user: Any, on: dt.date) -> tuple[dict[str, Counts], Places]:
    """Return the counts and places, cached per change of the data, scope, language, date."""
    return cached(
        "dashboard.coverage",
        user=user,
        parts=(on.isoformat(),),
        compute=lambda: (compute(user, on), _places(user)),
    )


# --------------------------------------------------------------------------- units


def may_see(user: Any) -> bool:
    """Whether the user may open the coverages: staff of a county, township or school."""
    return scope_of(user).level in ("county", "township", "school") and P.user_can(user, P.VIEW)


def levels_for(user: Any) -> list[str]:
    """Return the levels the user may ask for (a principal: their school only)."""
    level = scope_of(user).level
    if level == "county":
        return list(LEVELS)
    if level == "township":
        return ["township", "village", "school"]
    if level == "school":
        return ["school"]
    return []


def _link(measure: str, counts: Counts, on: dt.date, unit: Unit) -> str:
    params: dict[str, Any] = dict(counts.link)
    if unit.level == "school" and unit.school_id is not None:
        params["school"] = unit.school_id
    if unit.level in ("township", "village", "school") and unit.township_code:
        params["township"] = unit.code if unit.level == "village" else unit.township_code
    name = {
        Measure.IDENTIFICATION: "identification:coverage",
        Measure.AID: "aid:coverage",
        Measure.SCHOOLS: "projects:coverage",
        Measure.TEACHERS: "teachers:coverage",
        Measure.DROPOUT: "duty:ledger",
    }[Measure(measure)]
    if measure == Measure.SCHOOLS:
        params["on"] = on.isoformat()
    params.pop("run_as_of", None)
    query = urlencode(params)
    return f"{reverse(name)}?{query}" if query else reverse(name)


def _figure(measure: str, counts: Counts, on: dt.date, unit: Unit) -> Figure:
    if counts.state != "ok":
        return Figure(measure, state=counts.state, note=counts.note)
    if unit.level in counts.not_here:
        return Figure(measure, state="na", note=counts.not_here[unit.level])
    key: Any = unit.school_id if unit.level == "school" else unit.code
    covered, total = counts.by.get(unit.level, {}).get(key, (0, 0))
    note = "" if total else _("Nothing to count here.")
    return Figure(measure, max(covered, 0), total, note=note, url=_link(measure, counts, on, unit))


def _units(user: Any, places: Places, level: str, within: str | None) -> list[Unit]:
    scope = scope_of(user)
    if scope.level == "school":
        level = "school"  # a principal's one unit is their school
    if level == "county":
        if scope.level == "county":
            return [Unit("county", places.county[0], places.county[1], "")]
        if scope.level == "township":
            level = "township"
        else:
            level = "school"
    out: list[Unit] = []
    if level == "township":
        out = [Unit("township", code, name, code) for code, name in places.townships]
    elif level == "village":
        out = [Unit("village", code, name, code[:TOWNSHIP]) for code, name in places.villages]
    elif level == "school":
        out = [
            Unit("school", f"school:{pk}", name, township, pk)
            for pk, name, township, _village in places.schools
        ]
    if within:
        out = [u for u in out if u.township_code == within]
    return out


def coverage_at(
    *, user: Any, on: dt.date, level: str = "county", within: str | None = None
) -> list[Unit]:
    """Return the units of a level in the user's jurisdiction with their figures on a date.

    ``within`` (a township code) keeps the units of one township. A user with no jurisdiction
    of county, township or school (a class teacher, nobody) gets nothing.
    """
    if not may_see(user) or level not in LEVELS:
        return []
    counts, places = _figures_and_places(user, on)
    units = _units(user, places, level, within)
    for unit in units:
        unit.figures = {m: _figure(m, counts[m], on, unit) for m in MEASURES}
    return units


def total_unit(*, user: Any, on: dt.date, within: str | None = None) -> Unit | None:
    """Return the whole of the user's jurisdiction (or of one township of it) on a date."""
    scope = scope_of(user)
    if within and scope.level in ("county", "township"):
        found = coverage_at(user=user, on=on, level="township", within=within)
        return found[0] if found else None
    if scope.level == "school":
        return None
    found = coverage_at(user=user, on=on, level="county")
    return found[0] if len(found) == 1 else None


# --------------------------------------------------------------------------- the home page


def home_coverage(user: Any) -> dict[str, Any]:
    """Return the home page's coverage cards: each measure's share today for the user's unit
    (cached with the coverage figures; nothing for a user who may not see them)."""
    if not may_see(user):
        return {"coverage_cards": [], "coverage_unit": None}
    today = timezone.localdate()
    unit = total_unit(user=user, on=today)
    if unit is None:
        schools = coverage_at(user=user, on=today, level="school")
        unit = schools[0] if len(schools) == 1 else None
    return {
        "coverage_cards": unit.row if unit is not None else [],
        "coverage_unit": unit,
        "coverage_url": reverse("centre:coverage"),
        "coverage_on": today,
    }
