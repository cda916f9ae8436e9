"""Dropout early warning: poor students still enrolled, scored by a transparent weighted rule.

Each student's score is the sum of the weights (``warning_rules``) of the signals their
records show, every one said in words. Everything is read as the records stood on the day
asked: enrolments that began later, cases opened later, steps and household changes recorded
later, links found by later identification runs are left out, so a back-test of an earlier
day sees what a clerk could have seen then.

Reads are set-wise: a handful of queries for the whole jurisdiction (ids in chunks), then
plain Python over the rows; never a query per student.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from jingzhun.core.cache import cached
from jingzhun.core.periods import SchoolYear
from jingzhun.core.scoping import scope_of, scope_queryset
from jingzhun.dashboard.warning_rules import SIGNALS, Weights, weights_on
from jingzhun.duty.models import CaseStep, DropoutCase
from jingzhun.identification.models import ChildStatus, IdentificationRun, Link
from jingzhun.registry.models import Area, Household, HouseholdStatusChange, Person
from jingzhun.schools.models import Enrolment, School

CHUNK = 2000
DROPOUT = (ChildStatus.Category.SUSPECTED_DROPOUT, ChildStatus.Category.DROPPED_OUT)
_CN = "〇一二三四五六七八九十"


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    batch: list[int] = []
    for i in ids:
        batch.append(i)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def grade_label(stage: str, grade: int) -> str:
    """Return a grade as documents name it: 五年级 / grade 5, 初三 is 九年级 / grade 9."""
    zh = (translation.get_language() or "").startswith("zh")
    absolute = grade + 6 if stage == "junior" else grade
    if stage == "senior":
        return f"高{_CN[grade]}" if zh and grade <= 10 else _("senior %(n)d") % {"n": grade}
    if stage == "vocational":
        return (
            f"中职{_CN[grade]}年级" if zh and grade <= 10 else _("vocational %(n)d") % {"n": grade}
        )
    if zh and absolute <= 10:
        return f"{_CN[absolute]}年级"
    return _("grade %(n)d") % {"n": absolute}


def distance_km(a: tuple[Any, Any] | None, b: tuple[Any, Any] | None) -> float | None:
    """Return the great-circle distance in km between two (longitude, latitude) points."""
    if a is None or b is None or None in a or None in b:
        return None
    lon1, lat1, lon2, lat2 = (math.radians(float(v)) for v in (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


@dataclass
class Found:
    """One signal found on a student: which, its weight, and what the records say."""

    key: str
    weight: int
    words: str


@dataclass
class RiskRow:
    """One poor student enrolled on the day, with the signals that put them on the list."""

    person_id: int
    student_id: int
    name: str
    township_code: str
    township: str
    school_id: int
    school: str
    class_id: int | None
    class_name: str
    stage: str
    grade: int
    signals: list[Found] = field(default_factory=list)
    last_absence: dt.date | None = None  # the latest absence report up to the day

    @property
    def score(self) -> int:
        return sum(s.weight for s in self.signals)

    @property
    def strongest(self) -> int:
        """Return the weight of the row's strongest signal (0 without any)."""
        return max((s.weight for s in self.signals), default=0)

    @property
    def rank_key(self) -> tuple[int, int, int, int, str, int]:
        """Return the list's order: score, then the number of signals, then the strongest
        signal's weight, then the most recent absence report (highest, most, latest first),
        then the name (and the student, so that the order never depends on the query)."""
        last = self.last_absence.toordinal() if self.last_absence else 0
        return (-self.score, -len(self.signals), -self.strongest, -last, self.name, self.student_id)

    @property
    def grade_key(self) -> str:
        return f"{self.stage}-{self.grade}"

    @property
    def grade_name(self) -> str:
        return grade_label(self.stage, self.grade)

    @property
    def keys(self) -> set[str]:
        return {s.key for s in self.signals}

    @property
    def words(self) -> str:
        return "; ".join(s.words for s in self.signals)


@dataclass(frozen=True)
class Filters:
    """What the list is narrowed to (every field optional)."""

    township: str = ""
    school_id: int | None = None
    class_id: int | None = None
    grade: str = ""  # "<stage>-<grade>"
    signal: str = ""
    min_score: int | None = None  # None: the weights file's list_from


@dataclass
class RiskList:
    """The rows (in ``RiskRow.rank_key`` order) and what the page says about them."""

    on: dt.date
    weights: Weights
    rows: list[RiskRow]
    population: int  # poor students enrolled on the day in the jurisdiction (before filters)
    unrecorded: list[str]  # signals this county's files do not hold


def _school_year(day: dt.date) -> int:
    return SchoolYear.of(day).start


def _enrolled_on(user: Any, on: dt.date, stages: tuple[str, ...]) -> list[dict[str, Any]]:
    """Return each student's enrolment on the day in the user's jurisdiction, as it stood then."""
    year = _school_year(on)
    rows = (
        scope_queryset(Enrolment.objects.all(), user)
        .filter(school_year=year, stage__in=stages, school__location=School.Location.IN_COUNTY)
        .filter(Q(enrolled_on__isnull=True) | Q(enrolled_on__lte=on))
        # in school then: still active, or left after the day
        .filter(Q(status__in=Enrolment.ACTIVE) | Q(status_date__gt=on))
        .values(
            "pk",
            "student_id",
            "student__person_id",
            "student__name",
            "student__birth_date",
            "school_id",
            "school__name",
            "school__township__code",
            "school__township__name",
            "school__village__longitude",
            "school__village__latitude",
            "school__township__longitude",
            "school__township__latitude",
            "school_class_id",
            "school_class__name",
            "stage",
            "grade",
            "boarding",
            "status",
        )
        .order_by("student_id", "-pk")
    )
    one: dict[int, dict[str, Any]] = {}
    for row in rows:
        one.setdefault(
            row["student_id"], dict(row)
        )  # one enrolment per student (two is a roll error)
    return list(one.values())


def _links(student_ids: list[int], on: dt.date) -> dict[int, int]:
    """Return student -> registry person for links found by runs on or before the day."""
    out: dict[int, int] = {}
    for chunk in _chunks(student_ids):
        for sid, pid in Link.objects.filter(student_id__in=chunk, run__as_of__lte=on).values_list(
            "student_id", "person_id"
        ):
            out[sid] = pid
    return out


def _household_poor_on(households: dict[int, str], on: dt.date) -> dict[int, str]:
    """Return each household's status on the day: its history up to then, else its status."""
    status = dict(households)
    for chunk in _chunks(households):
        history = (
            HouseholdStatusChange.objects.filter(household_id__in=chunk, recorded_on__lte=on)
            .order_by("household_id", "recorded_on", "pk")
            .values_list("household_id", "status")
        )
        for hid, st in history:
            status[hid] = st
    return status


def _recorded(county_code: str, on: dt.date, year: int) -> dict[str, bool]:
    """Return, per signal, whether the county's files hold what it needs (up to the day)."""
    people = Person.objects.filter(county_code=county_code)
    cases = DropoutCase.objects.filter(village_code__startswith=county_code, opened_on__lte=on)
    villages = Area.objects.filter(code__startswith=county_code, level=Area.Level.VILLAGE)
    return {
        "absences": cases.filter(source=DropoutCase.Source.ABSENCE).exists()
        or CaseStep.objects.filter(
            village_code__startswith=county_code, kind=CaseStep.Kind.ABSENCE, happened_on__lte=on
        ).exists(),
        "earlier_dropout": cases.exists()
        or IdentificationRun.objects.filter(county_code=county_code, as_of__lte=on).exists()
        or Enrolment.objects.filter(county_code=county_code, school_year__lt=year).exists(),
        "over_age": True,  # every registry person and most roll students carry a birth date
        "repeated_grade": Enrolment.objects.filter(
            county_code=county_code, school_year__lt=year
        ).exists(),
        "left_behind": people.filter(left_behind=True).exists(),
        "disability": people.exclude(disability_kind="").exists()
        or people.filter(disability_grade__isnull=False).exists(),
        "household_change": HouseholdStatusChange.objects.filter(
            household__village__code__startswith=county_code, recorded_on__lte=on
        ).exists(),
        "transition": True,  # the grade is on every roll row
        "boarding_distance": villages.filter(longitude__isnull=False).exists(),
    }


def _household_words(status: str, day: dt.date) -> str:
    date = day.isoformat()
    if status == Household.Status.LEFT_POVERTY:
        return _("household left poverty on %(date)s") % {"date": date}
    if status == Household.Status.REMOVED:
        return _("household removed from the registry on %(date)s") % {"date": date}
    return _("household registered as poor again on %(date)s") % {"date": date}


def compute(user: Any, on: dt.date, weights: Weights | None = None) -> RiskList:
    """Return every poor student enrolled on the day in the user's jurisdiction, scored.

    Includes students with no signal (score 0): the list filters them; the back-test needs
    them as its population.
    """
    weights = weights or weights_on(on)
    scope = scope_of(user)
    if scope.is_empty:
        return RiskList(on, weights, [], 0, [])
    year = _school_year(on)
    enrolments = _enrolled_on(user, on, weights.stages)
    student_ids = [e["student_id"] for e in enrolments]
    linked = _links(student_ids, on)
    person_of = {
        e["student_id"]: e["student__person_id"] or linked.get(e["student_id"]) for e in enrolments
    }
    person_ids = sorted({p for p in person_of.values() if p})
    persons: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(person_ids):
        for p in Person.objects.filter(pk__in=chunk).values(
            "pk",
            "name",
            "birth_date",
            "left_behind",
            "disability_kind",
            "disability_grade",
            "household_id",
            "household__status",
            "household__village__longitude",
            "household__village__latitude",
        ):
            persons[p["pk"]] = dict(p)
    status_on = _household_poor_on(
        {p["household_id"]: p["household__status"] for p in persons.values()}, on
    )
    poor = {
        pid
        for pid, p in persons.items()
        if status_on.get(p["household_id"]) != Household.Status.REMOVED
    }
    # Children already out of school on the day (an identification case open then) are on the
    # dropout ledger, not on this list.
    open_case: set[int] = set()
    absences: dict[int, dict[dt.date, int | None]] = defaultdict(dict)
    episodes: dict[int, list[dt.date]] = defaultdict(list)
    absence_from = on - dt.timedelta(days=weights.setting("absences", "lookback_days"))
    for chunk in _chunks(sorted(poor)):
        for c in DropoutCase.objects.filter(person_id__in=chunk, opened_on__lte=on).values(
            "pk", "person_id", "source", "opened_on", "absence_days", "closed_on", "resolved_on"
        ):
            if c["source"] == DropoutCase.Source.ABSENCE:
                if c["opened_on"] > absence_from:
                    absences[c["person_id"]][c["opened_on"]] = c["absence_days"]
            else:
                episodes[c["person_id"]].append(c["opened_on"])
                if c["closed_on"] is None or c["closed_on"] > on:
                    open_case.add(c["person_id"])
        for pid, day in CaseStep.objects.filter(
            case__person_id__in=chunk,
            kind=CaseStep.Kind.ABSENCE,
            happened_on__lte=on,
            happened_on__gt=absence_from,
        ).values_list("case__person_id", "happened_on"):
            absences[pid].setdefault(day, None)  # the report that opened a case counts once
    # Roll history up to the day: repeats and earlier dropouts.
    history: dict[int, list[tuple[int, str, int, str, dt.date | None]]] = defaultdict(list)
    for chunk in _chunks(student_ids):
        for sid, y, stage, grade, st, st_date in (
            Enrolment.objects.filter(student_id__in=chunk, school_year__lte=year)
            .filter(Q(enrolled_on__isnull=True) | Q(enrolled_on__lte=on))
            .values_list("student_id", "school_year", "stage", "grade", "status", "status_date")
        ):
            history[sid].append((y, stage, grade, st, st_date))
    changes: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
    change_from = on - dt.timedelta(days=weights.setting("household_change", "lookback_days"))
    households = sorted({persons[p]["household_id"] for p in poor})
    for chunk in _chunks(households):
        for hid, st, day in HouseholdStatusChange.objects.filter(
            household_id__in=chunk, recorded_on__lte=on, recorded_on__gt=change_from
        ).values_list("household_id", "status", "recorded_on"):
            changes[hid].append((day, st))
    recorded = _recorded(scope.county_code, on, year)
    rows: list[RiskRow] = []
    for e in enrolments:
        found_pid = person_of.get(e["student_id"])
        if not found_pid or found_pid not in poor or found_pid in open_case:
            continue
        pid = int(found_pid)
        person = persons[pid]
        row = RiskRow(
            person_id=pid,
            student_id=e["student_id"],
            name=person["name"],
            township_code=e["school__township__code"] or "",
            township=e["school__township__name"] or "",
            school_id=e["school_id"],
            school=e["school__name"],
            class_id=e["school_class_id"],
            class_name=e["school_class__name"] or "",
            stage=e["stage"],
            grade=e["grade"],
        )
        _signals(
            row,
            weights,
            e=e,
            p=person,
            year=year,
            absences=absences.get(pid, {}),
            episodes=episodes.get(pid, []),
            history=history.get(e["student_id"], []),
            changes=changes.get(person["household_id"], []),
            on=on,
        )
        rows.append(row)
    rows.sort(key=lambda r: r.rank_key)
    unrecorded = [k for k in SIGNALS if not recorded[k]]
    return RiskList(on, weights, rows, len(rows), unrecorded)


def _signals(
    row: RiskRow,
    weights: Weights,
    *,
    e: dict[str, Any],
    p: dict[str, Any],
    year: int,
    absences: dict[dt.date, int | None],
    episodes: list[dt.date],
    history: list[tuple[int, str, int, str, dt.date | None]],
    changes: list[tuple[dt.date, str]],
    on: dt.date,
) -> None:
    """Add to the row every signal its records show, in the rule's order, in words."""

    def add(key: str, words: str) -> None:
        row.signals.append(Found(key, weights.weight(key), words))

    if absences:
        last = max(absences)
        row.last_absence = last
        days = absences[last]
        total = sum(d or 0 for d in absences.values())
        if len(absences) == 1:
            words = (
                _("absence reported on %(date)s (%(days)d days)")
                % {"date": last.isoformat(), "days": days}
                if days
                else _("absence reported on %(date)s") % {"date": last.isoformat()}
            )
        else:
            words = _("%(n)d absence reports, the last on %(date)s") % {
                "n": len(absences),
                "date": last.isoformat(),
            }
            if total:
                words += _(" (%(days)d days in all)") % {"days": total}
        add("absences", words)
    drop = Enrolment.Status.DROPPED_OUT
    earlier = set(episodes) | {d for _y, _s, _g, st, d in history if st == drop and d and d <= on}
    undated = any(st == drop and not d and y < year for y, _s, _g, st, d in history)
    if earlier:
        add(
            "earlier_dropout",
            _("out of school before: dropout episode of %(date)s")
            % {"date": max(earlier).isoformat()},
        )
    elif undated:
        add("earlier_dropout", _("out of school before: marked dropped out on an older roll"))
    birth = p["birth_date"] or e["student__birth_date"]
    entry = weights.setting("over_age", "entry_age").get(row.stage)
    if birth and entry:
        sage = year - birth.year - (1 if (birth.month, birth.day) > (8, 31) else 0)
        over = sage - (entry + row.grade - 1)
        if over >= weights.setting("over_age", "min_years"):
            add(
                "over_age",
                _("over-age by %(years)d years for %(grade)s")
                % {"years": over, "grade": row.grade_name}
                if over != 1
                else _("over-age by 1 year for %(grade)s") % {"grade": row.grade_name},
            )
    seen: dict[tuple[str, int], int] = {}
    repeats: list[tuple[int, str, int]] = []
    for y, stage, grade, _st, _d in sorted(history):
        first = seen.setdefault((stage, grade), y)
        if first != y and (y, stage, grade) not in repeats:
            repeats.append((y, stage, grade))
    if repeats:
        add(
            "repeated_grade",
            "; ".join(
                _("repeated %(grade)s in %(year)d") % {"grade": grade_label(s, g), "year": y}
                for y, s, g in repeats
            ),
        )
    if p["left_behind"]:
        add("left_behind", _("left-behind child"))
    if p["disability_kind"] or p["disability_grade"]:
        kind = p["disability_kind"] or _("kind not given")
        if p["disability_grade"]:
            words = _("disability: %(kind)s, grade %(grade)d") % {
                "kind": kind,
                "grade": p["disability_grade"],
            }
        else:
            words = _("disability: %(kind)s") % {"kind": kind}
        add("disability", words)
    if changes:
        day, st = max(changes)
        add("household_change", _household_words(st, day))
    if [row.stage, row.grade] in weights.setting("transition", "grades"):
        if row.stage == "primary":
            words = _("last year of primary school (grade 6 to 7)")
        elif row.stage == "junior":
            words = _("last year of junior high (grade 9 to 10)")
        else:
            words = _("last year of %(grade)s") % {"grade": row.grade_name}
        add("transition", words)
    if e["boarding"]:
        home = (p["household__village__longitude"], p["household__village__latitude"])
        school = (e["school__village__longitude"], e["school__village__latitude"])
        if None in school:
            school = (e["school__township__longitude"], e["school__township__latitude"])
        km = distance_km(home, school)
        if km is not None and km >= weights.setting("boarding_distance", "km"):
            add("boarding_distance", _("boards %(km).1f km from home") % {"km": km})


def apply_filters(result: RiskList, filters: Filters | None = None) -> list[RiskRow]:
    """Return the rows of a computed list that the filters keep (score, place, grade, signal)."""
    f = filters or Filters()
    minimum = result.weights.list_from if f.min_score is None else f.min_score
    rows = [r for r in result.rows if r.score >= minimum]
    if f.township:
        rows = [r for r in rows if r.township_code.startswith(f.township)]
    if f.school_id:
        rows = [r for r in rows if r.school_id == f.school_id]
    if f.class_id:
        rows = [r for r in rows if r.class_id == f.class_id]
    if f.grade:
        rows = [r for r in rows if r.grade_key == f.grade]
    if f.signal:
        rows = [r for r in rows if f.signal in r.keys]
    return rows


def scored(user: Any, on: dt.date, weights: Weights | None = None) -> RiskList:
    """Return ``compute(user, on)``, cached per change of the data, per the user's scope (level,
    county, area, school, class), language, today's date, the day asked and the weights file's
    digest: the whole jurisdiction's list, unfiltered, which the filters then narrow in Python,
    so that every filter and page of it is served from one entry."""
    weights = weights or weights_on(on)
    return cached(
        "dashboard.warning",
        user=user,
        parts=(on.isoformat(), weights.version, weights.digest),
        compute=lambda: compute(user, on, weights),
    )


def risk_list(
    *, user: Any, on: dt.date, filters: Filters | None = None, weights: Weights | None = None
) -> RiskList:
    """Return the risk list for the user's jurisdiction on the day, filtered.

    ``population`` stays the number of poor students enrolled then (before any filter).
    """
    result = scored(user, on, weights)
    result.rows = apply_filters(result, filters)
    return result


# --------------------------------------------------------------------------- back-test


@dataclass
class AtK:
    k: int
    hits: int
    precision: float | None
    recall: float | None


@dataclass
class Backtest:
    """Warnings as of a day scored against the dropouts later runs found."""

    as_of: dt.date
    weights: Weights
    runs_after: list[dt.date]
    population: int
    dropouts: int  # of the population, found out of school by a later run
    warned: int  # of the population, scoring at least list_from
    warned_hits: int
    at_k: list[AtK]
    unrecorded: list[str]

    @property
    def base_rate(self) -> float | None:
        return self.dropouts / self.population if self.population else None

    @property
    def recall(self) -> float | None:
        """The share of later dropouts the list (score >= list_from) had warned of."""
        return self.warned_hits / self.dropouts if self.dropouts else None

    @property
    def precision(self) -> float | None:
        return self.warned_hits / self.warned if self.warned else None


def backtest_days(*, user: Any) -> list[dt.date]:
    """Return the days of the confirmed identification runs of the user's county, in order."""
    scope = scope_of(user)
    if scope.is_empty:
        return []
    return sorted(
        set(
            IdentificationRun.objects.filter(
                county_code=scope.county_code, status=IdentificationRun.Status.DONE
            ).values_list("as_of", flat=True)
        )
    )


def default_backtest_day(*, user: Any) -> dt.date | None:
    """Return the earliest run's day that has a later run (None without two run days)."""
    days = backtest_days(user=user)
    return days[0] if len(days) > 1 else None


def backtest(
    *,
    user: Any,
    as_of: dt.date,
    k_values: Iterable[int] = (10, 20, 50, 100),
    weights: Weights | None = None,
) -> Backtest:
    """Score the warnings as of a day against the dropouts later identification runs found.

    The outcome is a child of the population (poor, enrolled on the day, in the user's
    jurisdiction) whom any confirmed identification run dated after the day classified as a
    suspected dropout (compulsory age, on no roll) or a dropout (the roll says so): both are
    children out of school, which is what the warning exists to prevent.
    """
    result = scored(user, as_of, weights)
    scope = scope_of(user)
    later = IdentificationRun.objects.filter(
        county_code=scope.county_code, status=IdentificationRun.Status.DONE, as_of__gt=as_of
    )
    population = {r.person_id for r in result.rows}
    found: set[int] = set()
    for chunk in _chunks(sorted(population)):
        found.update(
            ChildStatus.objects.filter(
                run__in=later, person_id__in=chunk, category__in=DROPOUT
            ).values_list("person_id", flat=True)
        )
    ranked = [r.person_id in found for r in result.rows]
    at_k = []
    for k in sorted(set(k_values)):
        top = ranked[:k]
        hits = sum(top)
        at_k.append(
            AtK(
                k=k,
                hits=hits,
                precision=hits / len(top) if top else None,
                recall=hits / len(found) if found else None,
            )
        )
    warned = [r for r in result.rows if r.score >= result.weights.list_from]
    return Backtest(
        as_of=as_of,
        weights=result.weights,
        runs_after=sorted(set(later.values_list("as_of", flat=True))),
        population=len(population),
        dropouts=len(found),
        warned=len(warned),
        warned_hits=sum(1 for r in warned if r.person_id in found),
        at_k=at_k,
        unrecorded=result.unrecorded,
    )
