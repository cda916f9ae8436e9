"""Reads of schools and the rolls, each limited to what the acting user may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Max, Q, QuerySet

from jingzhun.core.listing import ListChoices, ListParams
from jingzhun.core.scoping import scope_of, scope_queryset
from jingzhun.registry import selectors as registry_selectors
from jingzhun.registry.models import Area
from jingzhun.schools.models import Enrolment, School, SchoolClass, Student
from jingzhun.schools.naming import class_of

# Key of the row for schools with no township: schools and universities outside the county.
OUTSIDE_COUNTY = ""


def school_list(*, user: Any) -> QuerySet[School]:
    """Return the schools the user may see (each once)."""
    return scope_queryset(School.objects.all(), user).distinct()


def school_class_list(*, user: Any) -> QuerySet[SchoolClass]:
    """Return the classes the user may see."""
    return scope_queryset(SchoolClass.objects.all(), user)


def student_list(*, user: Any) -> QuerySet[Student]:
    """Return the students the user may see (each once, though seen through several enrolments)."""
    return scope_queryset(Student.objects.all(), user).distinct()


def enrolment_list(*, user: Any) -> QuerySet[Enrolment]:
    """Return the enrolments the user may see."""
    return scope_queryset(Enrolment.objects.all(), user)


def latest_school_year(*, user: Any) -> int | None:
    """Return the latest school year among the user's enrolments (None if they see none)."""
    year = enrolment_list(user=user).aggregate(year=Max("school_year"))["year"]
    return int(year) if year is not None else None


@dataclass
class TownshipRow:
    """Counts for one township (code '' holds the schools outside the county)."""

    code: str
    name: str
    villages: int = 0
    poor_villages: int = 0
    households: int = 0
    persons: int = 0
    schools: int = 0
    students: int = 0
    enrolments: int = 0


@dataclass
class HomeCounts:
    """What the home page shows: per-township counts and their totals."""

    has_jurisdiction: bool
    shows_registry: bool = False
    school_year: int | None = None
    rows: list[TownshipRow] = field(default_factory=list)
    townships: int = 0
    villages: int = 0
    poor_villages: int = 0
    households: int = 0
    persons: int = 0
    schools: int = 0
    students: int = 0
    enrolments: int = 0


def home_counts(*, user: Any) -> HomeCounts:
    """Return the counts per township the user may see, aggregated in the database.

    Students are counted once per township where they have an enrolment (any
    year) and once in the total; enrolments are those of the latest school year
    the user sees.
    """
    if scope_of(user).is_empty:
        return HomeCounts(has_jurisdiction=False)
    names = registry_selectors.township_names(user=user)
    registry = registry_selectors.registry_counts_by_township(user=user)
    year = latest_school_year(user=user)

    schools_by_township = (
        scope_queryset(School.objects.all(), user)
        .order_by()
        .values("township__code", "township__name")
        .annotate(n=Count("pk", distinct=True))
    )
    rolls_by_township = (
        enrolment_list(user=user)
        .order_by()
        .values("school__township__code", "school__township__name")
        .annotate(
            students=Count("student", distinct=True),
            enrolments=Count("pk", filter=Q(school_year=year)),
        )
    )

    rows: dict[str, TownshipRow] = {
        code: TownshipRow(code=code, name=name) for code, name in names.items()
    }

    def row(code: str | None, name: str | None) -> TownshipRow:
        key = code or OUTSIDE_COUNTY
        if key not in rows:
            rows[key] = TownshipRow(code=key, name=name or "")
        return rows[key]

    for code, counts in registry.items():
        r = row(code, names.get(code, code))
        r.villages, r.poor_villages = counts.villages, counts.poor_villages
        r.households, r.persons = counts.households, counts.persons
    for item in schools_by_township:
        row(item["township__code"], item["township__name"]).schools = item["n"]
    for rolls in rolls_by_township:
        r = row(rolls["school__township__code"], rolls["school__township__name"])
        r.students, r.enrolments = rolls["students"], rolls["enrolments"]

    ordered = sorted(rows.values(), key=lambda r: (r.code == OUTSIDE_COUNTY, r.code))
    return HomeCounts(
        has_jurisdiction=True,
        shows_registry=registry_selectors.registry_visible(user=user),
        school_year=year,
        rows=ordered,
        townships=sum(1 for r in ordered if r.code != OUTSIDE_COUNTY),
        villages=sum(r.villages for r in ordered),
        poor_villages=sum(r.poor_villages for r in ordered),
        households=sum(r.households for r in ordered),
        persons=sum(r.persons for r in ordered),
        schools=school_list(user=user).count(),
        students=student_list(user=user).count(),
        enrolments=sum(r.enrolments for r in ordered),
    )


def list_choices(
    *,
    user: Any,
    params: ListParams,
    school_year: int | None = None,
    statuses: list[tuple[str, str]] | None = None,
    reasons: list[tuple[str, str]] | None = None,
    places: bool = True,
    search: bool = True,
) -> ListChoices:
    """Return the filter bar's choices for *user*: their townships, the schools of the chosen
    township (else all theirs), and the classes of the chosen school in *school_year*.

    A user of one school or class is not offered townships or schools: their list is theirs.
    """
    choices = ListChoices(statuses=statuses or [], reasons=reasons or [], search=search)
    if not places:
        return choices
    scope = scope_of(user)
    if scope.level in ("county", "township"):
        if scope.level == "county":
            choices.townships = list(
                scope_queryset(Area.objects.filter(level="township"), user)
                .order_by("code")
                .values_list("code", "name")
            )
        schools = school_list(user=user).filter(township__isnull=False)
        if params.township:
            schools = schools.filter(township__code__startswith=params.township)
        choices.schools = list(schools.order_by("name", "pk").values_list("pk", "name"))
    if params.school_id or scope.level == "school":
        classes = school_class_list(user=user)
        if params.school_id:
            classes = classes.filter(school_id=params.school_id)
        if school_year is not None:
            classes = classes.filter(school_year=school_year)
        choices.classes = [
            (c.pk, class_of(c))
            for c in classes.order_by("stage", "grade", "name").only("pk", "stage", "grade", "name")
        ]
    return choices
