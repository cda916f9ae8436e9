"""Reads of identification, each limited to what the acting user may see.

Every list starts from :func:`jingzhun.core.scoping.scope_queryset`: a township officer
sees the children who live in or study in their township, a principal their school's, a
class teacher their class's, and someone with no jurisdiction nothing. Filters (township,
school, category) only ever narrow a scoped list.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber, Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jingzhun.accounts.roles import Role
from jingzhun.core import crypto
from jingzhun.core import permissions as P
from jingzhun.core.crypto import mask_id
from jingzhun.core.listing import ListParams
from jingzhun.core.models import ImportBatch
from jingzhun.core.resident_id import birth_month
from jingzhun.core.scoping import get_object_for_user, scope_of, scope_queryset
from jingzhun.identification.engine import pinyin_key
from jingzhun.identification.models import (
    ChildStatus,
    Discrepancy,
    IdentificationRun,
    ReviewCandidate,
    RunChange,
)
from jingzhun.registry.models import Area
from jingzhun.schools.models import Enrolment

TOWNSHIP_CODE_LENGTH = 9
SCHOOL_AGE = (6, 15)  # compulsory education (控辍保学)
ALL_AGES = (3, 22)  # every child a run classifies, preschool to university
Category = ChildStatus.Category


# --------------------------------------------------------------------------- current enrolment


def current_enrolments(queryset: QuerySet[Enrolment], *, school_year: int) -> QuerySet[Enrolment]:
    """Return each student's current enrolment in `school_year` among `queryset`.

    The tie-break is the engine's (``engine.CURRENT_ENROLMENT_ORDER``): an enrolment in
    school (enrolled or suspended) first, then the latest status date (none counts as
    oldest), then the highest id. One row per student.
    """
    in_school = Case(When(status__in=Enrolment.ACTIVE, then=Value(0)), default=Value(1))
    return (
        queryset.filter(school_year=school_year)
        .annotate(
            current_rank=Window(
                RowNumber(),
                partition_by=[F("student_id")],
                order_by=[in_school.asc(), F("status_date").desc(nulls_last=True), F("pk").desc()],
            )
        )
        .filter(current_rank=1)
    )


def current_enrolment(*, student_id: int, school_year: int | None = None) -> Enrolment | None:
    """Return a student's current enrolment in a school year (default: their latest year)."""
    mine = Enrolment.objects.filter(student_id=student_id)
    if school_year is None:
        school_year = mine.order_by("-school_year").values_list("school_year", flat=True).first()
        if school_year is None:
            return None
    return current_enrolments(mine, school_year=school_year).first()


# --------------------------------------------------------------------------- runs


def run_list(*, user: Any) -> QuerySet[IdentificationRun]:
    """Return the identification runs of the user's county, newest first."""
    return scope_queryset(IdentificationRun.objects.all(), user).order_by("-id")


def latest_run(*, user: Any) -> IdentificationRun | None:
    """Return the current run the user may see (the latest CONFIRMED one), or None.

    Previews, discarded and failed runs never count: every ledger, coverage page, case
    opening and aid computation reads this run.
    """
    return run_list(user=user).filter(status=IdentificationRun.Status.DONE).first()


def preview_runs(*, user: Any) -> QuerySet[IdentificationRun]:
    """Return the runs of the user's county waiting for confirmation, newest first."""
    return run_list(user=user).filter(status=IdentificationRun.Status.PREVIEW)


def roll_count(*, county_code: str, school_year: int) -> int:
    """Return the number of enrolments of a school year on the county's rolls."""
    # The enrolment's own county code (its student's), so PostgreSQL reads only the
    # county's partitions.
    return Enrolment.objects.filter(
        school_year=school_year, county_code__startswith=county_code
    ).count()


def roll_counts(*, county_code: str) -> list[tuple[int, int]]:
    """Return (school year, enrolments) of the county's rolls, newest year first."""
    return list(
        Enrolment.objects.filter(county_code__startswith=county_code)
        .order_by()
        .values_list("school_year")
        .annotate(n=Count("pk"))
        .order_by("-school_year")
        .values_list("school_year", "n")
    )


def input_batches(*, county_code: str) -> list[dict[str, Any]]:
    """Return the imports a run reads: per kind (and school year) the latest that changed rows.

    Each is a plain dict (kind, kind label, file name, school year, landed, rows) so a run
    can keep the list it used.
    """
    kinds = dict(ImportBatch.Kind.choices)
    seen: set[tuple[str, int | None]] = set()
    found: list[dict[str, Any]] = []
    batches = (
        ImportBatch.objects.filter(status=ImportBatch.Status.DONE)
        .filter(Q(county_code__startswith=county_code) | Q(county_code=""))
        .filter(Q(rows_created__gt=0) | Q(rows_updated__gt=0))
        .order_by("-id")
        .values("id", "kind", "file_name", "school_year", "finished_at", "created_at", "rows_total")
    )
    for b in batches[:500]:
        key = (b["kind"], b["school_year"])
        if key in seen:
            continue
        seen.add(key)
        landed = b["finished_at"] or b["created_at"]
        found.append(
            {
                "id": b["id"],
                "kind": b["kind"],
                "kind_label": str(kinds.get(b["kind"], b["kind"])),
                "file_name": b["file_name"],
                "school_year": b["school_year"],
                "landed": timezone.localtime(landed).strftime("%Y-%m-%d %H:%M") if landed else "",
                "rows": b["rows_total"],
            }
        )
    return sorted(found, key=lambda b: (b["kind"], -(b["school_year"] or 0)))


def get_run(*, user: Any, run_id: int) -> IdentificationRun:
    """Return one run of the user's county; 404 if missing or another county's."""
    return get_object_for_user(IdentificationRun.objects.all(), user, pk=run_id)


def running_run(*, user: Any) -> IdentificationRun | None:
    """Return the run of the user's county that is still running, if any."""
    return run_list(user=user).filter(status=IdentificationRun.Status.RUNNING).first()


def may_start_run(user: Any) -> bool:
    """Return whether the user may start an identification run (aid centre, county admin)."""
    return P.user_can(user, P.IMPORT_DATA)


def may_review(user: Any) -> bool:
    """Return whether the user may accept or reject candidates (the service checks again)."""
    return P.user_can(user, P.VIEW) and getattr(user, "role", "") != Role.INSPECTOR


def may_record_cases(user: Any) -> bool:
    """Return whether the user may record home teaching or a proof of study elsewhere.

    County staff who edit the registry, and township officers (who close dropout cases).
    """
    if getattr(user, "role", "") == Role.INSPECTOR:
        return False
    if P.user_can(user, P.EDIT_REGISTRY):
        return True
    return getattr(user, "role", "") == Role.TOWNSHIP_OFFICER and P.user_can(user, P.VIEW)


# --------------------------------------------------------------------------- rows of a run


def status_list(*, user: Any, run: IdentificationRun) -> QuerySet[ChildStatus]:
    """Return the child statuses of a run that the user may see."""
    return scope_queryset(ChildStatus.objects.filter(run=run), user)


def change_list(*, user: Any, run: IdentificationRun) -> QuerySet[RunChange]:
    """Return what a run found changed since the previous run, within the user's scope."""
    qs = scope_queryset(RunChange.objects.filter(run=run), user)
    return qs.select_related("person", "school").order_by("kind", "village_code", "pk")


def discrepancy_list(*, user: Any, run: IdentificationRun) -> QuerySet[Discrepancy]:
    """Return the registry/roll disagreements of a run, within the user's scope."""
    qs = scope_queryset(Discrepancy.objects.filter(run=run), user)
    return qs.select_related("person", "student", "school").order_by("kind", "pk")


def candidate_list(*, user: Any, pending_only: bool = True) -> QuerySet[ReviewCandidate]:
    """Return the review candidates of the user's jurisdiction (pending ones by default)."""
    qs = scope_queryset(ReviewCandidate.objects.all(), user)
    if pending_only:
        qs = qs.filter(decision=ReviewCandidate.Decision.PENDING)
    return qs.select_related("person__household__village", "student", "school").order_by(
        "-probability", "pk"
    )


def get_candidate(*, user: Any, candidate_id: int) -> ReviewCandidate:
    """Return one candidate of the user's jurisdiction; 404 otherwise."""
    qs = ReviewCandidate.objects.select_related(
        "person__household__village", "student", "school__township", "decided_by", "run"
    )
    return get_object_for_user(qs, user, pk=candidate_id)


@dataclass
class Tally:
    code: str
    label: Any
    n: int


def category_counts(*, user: Any, run: IdentificationRun) -> list[Tally]:
    """Return the number of children per category in the user's scope (every category listed)."""
    found = dict(
        status_list(user=user, run=run)
        .order_by()
        .values("category")
        .annotate(n=Count("pk"))
        .values_list("category", "n")
    )
    return [Tally(value, label, int(found.get(value, 0))) for value, label in Category.choices]


def change_counts(*, user: Any, run: IdentificationRun) -> list[Tally]:
    """Return the number of changes per kind in the user's scope (kinds that occur)."""
    found = dict(
        scope_queryset(RunChange.objects.filter(run=run), user)
        .order_by()
        .values("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    return [
        Tally(value, label, int(found[value]))
        for value, label in RunChange.Kind.choices
        if value in found
    ]


# --------------------------------------------------------------------------- ledgers


@dataclass(frozen=True)
class Ledger:
    """One of the three dropout-control ledgers (控辍保学台账)."""

    slug: str
    title: Any
    filter: Q


LEDGERS: dict[str, Ledger] = {
    ledger.slug: ledger
    for ledger in (
        Ledger(
            "school-age",
            _("Ledger of school-age children"),
            Q(age__gte=SCHOOL_AGE[0], age__lte=SCHOOL_AGE[1]),
        ),
        Ledger(
            "suspected",
            _("Ledger of suspected dropouts"),
            Q(category=Category.SUSPECTED_DROPOUT),
        ),
        Ledger("dropped", _("Ledger of confirmed dropouts"), Q(category=Category.DROPPED_OUT)),
        Ledger(
            "verify-outside",
            _("Children to verify as studying outside the county"),
            Q(category=Category.TO_VERIFY_OUTSIDE),
        ),
    )
}


def search_q(params: ListParams, *, person: str = "person", student: str = "student") -> Q:
    """Return the search of a list: the child's name, or a whole roll number (blind index)."""
    match = Q(**{f"{person}__name__icontains": params.q})
    if student:
        match |= Q(**{f"{student}__name__icontains": params.q})
        match |= Q(**{f"{student}__roll_index": crypto.blind_index(params.q, purpose="roll")})
    return match


def ledger_rows(
    *,
    user: Any,
    run: IdentificationRun,
    ledger: Ledger,
    params: ListParams | None = None,
    group: str = "township",
) -> QuerySet[ChildStatus]:
    """Return a ledger's children in the user's scope, narrowed by the list filters.

    Filters: township (of the child's home village), school and class (of the run's
    enrolment), status (the category), and a name or roll number. Rows come ordered by
    the group ("township" or "school"), then by name.
    """
    params = params or ListParams()
    qs = params.apply(
        status_list(user=user, run=run).filter(ledger.filter),
        township="village_code",
        school="school_id",
        klass="enrolment__school_class_id",
        status="category",
    )
    if params.q:
        qs = qs.filter(search_q(params))
    qs = qs.select_related("person", "school", "enrolment__school_class", "student").annotate(
        township_code=Substr("village_code", 1, TOWNSHIP_CODE_LENGTH),
        village_name=Subquery(
            Area.objects.filter(code=OuterRef("village_code")).values("name")[:1]
        ),
        township_name=Subquery(
            Area.objects.filter(
                code=Substr(OuterRef("village_code"), 1, TOWNSHIP_CODE_LENGTH)
            ).values("name")[:1]
        ),
    )
    if group == "school":
        return qs.order_by("school__name", "school_id", "grade", "person__name", "pk")
    return qs.order_by("village_code", "person__name", "pk")


def ledger_categories(ledger: Ledger) -> list[tuple[str, str]]:
    """Return the status filter of a ledger: the categories of the school-age ledger (the
    others hold one category each, so they offer none)."""
    if ledger.slug != "school-age":
        return []
    return [(value, str(label)) for value, label in Category.choices]


def filtered_changes(
    *, user: Any, run: IdentificationRun, params: ListParams | None = None
) -> QuerySet[RunChange]:
    """Return a run's changes in the user's scope, narrowed by the list filters.

    Filters: township (of the child's home village), school, status (the kind of change),
    and a name.
    """
    params = params or ListParams()
    qs = params.apply(
        change_list(user=user, run=run), township="village_code", school="school_id", status="kind"
    )
    if params.q:
        qs = qs.filter(search_q(params, student=""))
    return qs


DECIDED = "decided"  # the status filter's "accepted or rejected"


def candidate_statuses() -> list[tuple[str, str]]:
    """Return the status filter of the review queue: waiting, decided (either way), each."""
    pending, *others = ReviewCandidate.Decision.choices
    return [
        (pending[0], str(pending[1])),
        (DECIDED, str(_("Decided"))),
        *((value, str(label)) for value, label in others),
    ]


def filtered_candidates(
    *, user: Any, params: ListParams | None = None
) -> QuerySet[ReviewCandidate]:
    """Return review candidates in the user's scope, narrowed by the list filters.

    The status filter is the decision (pending when not given: the review queue); decided
    ones come newest first.
    """
    params = params or ListParams()
    decision = params.status or ReviewCandidate.Decision.PENDING
    qs = candidate_list(user=user, pending_only=False)
    if decision == DECIDED:
        qs = qs.exclude(decision=ReviewCandidate.Decision.PENDING)
    else:
        qs = qs.filter(decision=decision)
    qs = params.apply(qs, township="village_code", school="school_id")
    if params.q:
        qs = qs.filter(search_q(params))
    if decision != ReviewCandidate.Decision.PENDING:
        qs = qs.order_by("-decided_at", "-pk")
    return qs.select_related("decided_by")


def filtered_runs(*, user: Any, params: ListParams | None = None) -> QuerySet[IdentificationRun]:
    """Return the county's runs narrowed by the status filter, newest first."""
    params = params or ListParams()
    return params.apply(run_list(user=user), status="status").select_related(
        "started_by", "confirmed_by"
    )


@dataclass
class Group:
    key: str  # township code, or school id as text ("" for no school)
    name: str
    n: int


def ledger_groups(*, user: Any, run: IdentificationRun, ledger: Ledger) -> dict[str, list[Group]]:
    """Return a ledger's counts per township and per school, counted in the database."""
    qs = status_list(user=user, run=run).filter(ledger.filter).order_by()
    by_township = list(
        qs.values(code=Substr("village_code", 1, TOWNSHIP_CODE_LENGTH))
        .annotate(n=Count("pk"))
        .order_by("code")
    )
    names = area_names([row["code"] for row in by_township])
    by_school = list(
        qs.values("school_id", "school__name").annotate(n=Count("pk")).order_by("school__name")
    )
    return {
        "township": [
            Group(row["code"], names.get(row["code"], row["code"]), row["n"]) for row in by_township
        ],
        "school": [
            Group(str(row["school_id"] or ""), row["school__name"] or "", row["n"])
            for row in by_school
        ],
    }


def area_names(codes: list[str]) -> dict[str, str]:
    """Return {code: name} of the given area codes (names are labels, not records)."""
    return dict(Area.objects.filter(code__in=set(codes)).values_list("code", "name"))


# --------------------------------------------------------------------------- coverage


@dataclass
class CoverageRow:
    """Children of poor families and how many of them have a known status."""

    code: str
    name: str
    school_age: int
    school_age_known: int
    all_ages: int
    all_ages_known: int

    @property
    def school_age_share(self) -> Decimal | None:
        return percent(self.school_age_known, self.school_age)

    @property
    def all_ages_share(self) -> Decimal | None:
        return percent(self.all_ages_known, self.all_ages)


@dataclass
class Coverage:
    total: CoverageRow
    townships: list[CoverageRow] = field(default_factory=list)
    villages: list[CoverageRow] = field(default_factory=list)


def percent(part: int, whole: int) -> Decimal | None:
    """Return part/whole as a percentage with one decimal (half up), None when whole is 0."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _coverage_metrics() -> dict[str, Any]:
    school_age = Q(age__gte=SCHOOL_AGE[0], age__lte=SCHOOL_AGE[1])
    all_ages = Q(age__gte=ALL_AGES[0], age__lte=ALL_AGES[1])
    return {
        "school_age": Count("pk", filter=school_age),
        "school_age_known": Count("pk", filter=school_age & Q(known=True)),
        "all_ages": Count("pk", filter=all_ages),
        "all_ages_known": Count("pk", filter=all_ages & Q(known=True)),
    }


def coverage(*, user: Any, run: IdentificationRun) -> Coverage:
    """Return identification coverage per village, township and in total, counted in the DB.

    Coverage is about where the children live: a county or township user counts the
    children of their own villages (not those who only study in their schools).
    """
    qs = status_list(user=user, run=run).order_by()
    scope = scope_of(user)
    if scope.level in ("county", "township"):
        qs = qs.filter(village_code__startswith=scope.area_code)
    metrics = _coverage_metrics()
    total = qs.aggregate(**metrics)
    townships = list(
        qs.values(code=Substr("village_code", 1, TOWNSHIP_CODE_LENGTH))
        .annotate(**metrics)
        .order_by("code")
    )
    villages = list(qs.values(code=F("village_code")).annotate(**metrics).order_by("code"))
    names = area_names([r["code"] for r in townships] + [r["code"] for r in villages])
    if scope.level in ("county", "township"):
        names.update(area_names([scope.area_code]))

    def row(data: Any, code: str) -> CoverageRow:
        return CoverageRow(
            code=code,
            name=names.get(code, code),
            school_age=int(data["school_age"] or 0),
            school_age_known=int(data["school_age_known"] or 0),
            all_ages=int(data["all_ages"] or 0),
            all_ages_known=int(data["all_ages_known"] or 0),
        )

    total_code = scope.area_code if scope.level in ("county", "township") else ""
    total_row = row(total, total_code)
    if not total_code:
        total_row.name = str(_("Total"))
    return Coverage(
        total=total_row,
        townships=[row(r, r["code"]) for r in townships],
        villages=[row(r, r["code"]) for r in villages],
    )


# --------------------------------------------------------------------------- a candidate's evidence


@dataclass
class Comparison:
    """One field of the registry person beside the same field on the roll."""

    label: Any
    person: Any
    student: Any
    agrees: bool | None  # None: cannot be told (a value is missing)
    note: Any = ""


_WHOLE_ID = re.compile(r"\d{17}[\dXx]")

# Evidence keys the fuzzy stage writes, and what they mean to a reviewer.
EVIDENCE_LABELS: dict[str, Any] = {
    "name_agrees": _("Names agree (characters or pinyin)"),
    "birth_date_agrees": _("Birth dates agree"),
    "sex_agrees": _("Sexes agree"),
    "village_agrees": _("Same village"),
    "township_agrees": _("Same township"),
    "id_distance": _("ID numbers differ in this many characters"),
    "match_weight": _("Match weight"),
    "match_probability": _("Match probability"),
}


def masked_evidence(evidence: Any) -> dict[str, Any]:
    """Return the linkage model's evidence as a dict, any whole ID number in it masked."""
    if isinstance(evidence, str):
        try:
            evidence = json.loads(evidence)
        except ValueError:
            return {"evidence": _mask_ids(evidence)}
    if not isinstance(evidence, dict):
        return {}
    out: dict[str, Any] = {}
    for key, value in evidence.items():
        if isinstance(value, float):
            value = round(value, 4)
        elif isinstance(value, str):
            value = _mask_ids(value)
        elif isinstance(value, dict | list):
            value = _mask_ids(json.dumps(value, ensure_ascii=False))
        out[str(key)] = value
    return out


def evidence_rows(evidence: Any) -> list[tuple[Any, Any]]:
    """Return the evidence as (label, value) pairs a person can read, known keys first."""
    found = masked_evidence(evidence)
    keys = sorted(found, key=lambda k: (k not in EVIDENCE_LABELS, k))
    return [(EVIDENCE_LABELS.get(key, key), found[key]) for key in keys]


def _mask_ids(text: str) -> str:
    return _WHOLE_ID.sub(lambda m: mask_id(m.group(0)), text)


def candidate_school(candidate: ReviewCandidate) -> Any:
    """Return the school the candidate's student is enrolled at (latest year), or None."""
    if candidate.school_id is not None:
        return candidate.school
    enrolment = current_enrolment(student_id=candidate.student_id)
    return enrolment.school if enrolment is not None else None


def candidate_comparison(candidate: ReviewCandidate) -> list[Comparison]:
    """Return the registry person and the roll student side by side, field by field."""
    person, student = candidate.person, candidate.student
    rows: list[Comparison] = []
    same_name = person.name == student.name
    same_sound = not same_name and pinyin_key(person.name) == pinyin_key(student.name)
    rows.append(
        Comparison(
            _("Name"),
            person.name,
            student.name,
            same_name or same_sound,
            _("same pinyin") if same_sound else "",
        )
    )
    rows.append(
        Comparison(
            _("Resident ID"),
            person.id_masked,
            student.id_masked or "—",
            (person.id_index == student.id_index) if student.id_index else None,
            "" if student.id_index else _("no ID on the roll"),
        )
    )
    rows.append(
        Comparison(
            # the month shown, the whole dates compared (core.resident_id.birth_month)
            _("Birth month"),
            birth_month(person.birth_date),
            birth_month(student.birth_date) or "—",
            (person.birth_date == student.birth_date) if student.birth_date else None,
            ""
            if not student.birth_date or person.birth_date == student.birth_date
            else _("the days differ"),
        )
    )
    rows.append(
        Comparison(
            _("Sex"),
            person.get_sex_display(),
            student.get_sex_display() if student.sex else "—",
            (person.sex == student.sex) if student.sex else None,
        )
    )
    village = person.household.village
    school = candidate_school(candidate)
    place: bool | None = None
    note: Any = ""
    if school is not None and school.village_id is not None:
        place = school.village_id == village.pk
        note = _("the school is in the child's village") if place else ""
    if school is not None and not place and school.township_id is not None:
        township = school.township.code if school.township else ""
        if township and village.code.startswith(township):
            place, note = True, _("the school is in the child's township")
        else:
            place = False
    rows.append(
        Comparison(
            _("Village / school"),
            village.name,
            school.name if school is not None else "—",
            place,
            note,
        )
    )
    return rows
