"""Reads the aid pages and API need beyond `aid.selectors`, each limited to the acting user.

Kept apart from :mod:`jingzhun.aid.selectors` so that the screens can grow without touching
the reads the services and the bulk code rely on. Every function takes the acting user and
goes through :mod:`jingzhun.core.scoping`: a record the user may not see is a 404, like a
missing one.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils.translation import get_language

from jingzhun.aid import selectors
from jingzhun.aid.models import AidNotice, Entitlement, NoticeObjection, RuleBookVersion
from jingzhun.aid.rulebook import RuleBook, load_rulebook, shipped_source
from jingzhun.aid.services import SOURCE, book_of, rulebook_latest
from jingzhun.core.cache import cached, page_of
from jingzhun.core.listing import PAGE_SIZE, ListParams
from jingzhun.core.scoping import get_object_for_user, scope_of, scope_queryset
from jingzhun.funds.models import BankReturn, Payment, PaymentBatch
from jingzhun.registry.models import Area
from jingzhun.schools.models import School, SchoolClass, Stage, Student

# Entitlements that are (or were) on a notice and still stand: what a notice sheet lists.
ON_NOTICE = (Entitlement.Review.NOTICED, Entitlement.Review.APPROVED)


# --- rule books -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _parsed(version_id: int, school_year: int, version: int, source: str) -> RuleBook:
    # Versions are never edited; the source is part of the key all the same, so that a
    # reused primary key (a test database rolled back) can never return another book.
    return book_of(
        RuleBookVersion(pk=version_id, school_year=school_year, version=version, source=source)
    )


def book_of_version(version: RuleBookVersion) -> RuleBook:
    """Return the checked rule book of a stored version (parsed once per process)."""
    return _parsed(version.pk, version.school_year, version.version, version.source)


def programme_labels(versions: Iterable[RuleBookVersion], language: str) -> dict[str, str]:
    """Return programme code -> label in a language, over the given rule book versions."""
    labels: dict[str, str] = {}
    for version in {v.pk: v for v in versions}.values():
        for code, programme in book_of_version(version).programmes.items():
            labels.setdefault(code, programme.label(language))
    return labels


@functools.lru_cache(maxsize=16)
def _shipped(school_year: int) -> RuleBook | None:
    try:
        return load_rulebook(shipped_source(school_year), source=f"{school_year}.yaml")
    except KeyError:
        return None


def current_book(*, user: Any, school_year: int) -> RuleBook | None:
    """Return the book :func:`jingzhun.aid.selectors.current_book` gives, parsed once per
    process: the county's newest version for the year, else the shipped book."""
    scope = scope_of(user)
    if scope.is_empty or not scope.county_code:
        return None
    version = rulebook_latest(scope.county_code, school_year)
    if version is not None:
        return book_of_version(version)
    return _shipped(school_year)


def programme_labels_for(county_code: str, school_year: int) -> dict[str, str]:
    """Return the programmes of the county's rule book for the year, in the active language."""
    version = rulebook_latest(county_code, school_year)
    book = book_of_version(version) if version is not None else _shipped(school_year)
    return book_labels(book, get_language() or "zh-hans")


def book_labels(book: RuleBook | None, language: str) -> dict[str, str]:
    """Return programme code -> label of one rule book (empty without a book)."""
    if book is None:
        return {}
    return {code: p.label(language) for code, p in book.programmes.items()}


# --- students -------------------------------------------------------------------------------


def get_student(*, user: Any, student_id: int) -> Student:
    """Return a student the user may see: on their rolls, or with an entitlement they see.

    A township sees the children of its villages wherever they study, so an entitlement in
    scope makes the student visible even when the school lies in another township.
    """
    scope = scope_of(user)
    if scope.is_empty:
        raise Http404
    rolls = scope_queryset(Student.objects.all(), user).filter(pk=student_id)
    entitled = scope_queryset(Entitlement.objects.all(), user).filter(student_id=student_id)
    if not (rolls.exists() or entitled.exists()):
        raise Http404
    try:
        return Student.objects.get(pk=student_id)
    except Student.DoesNotExist as exc:
        raise Http404 from exc


def student_names(*, user: Any, student_ids: Iterable[int]) -> dict[int, str]:
    """Return id -> name of the given students that the user may see."""
    ids = {int(i) for i in student_ids if i is not None}
    if not ids:
        return {}
    rows = scope_queryset(Student.objects.all(), user).filter(pk__in=ids)
    return dict(rows.values_list("pk", "name").distinct())


def school_names(*, user: Any, school_ids: Iterable[int | str]) -> dict[int, str]:
    """Return id -> name of the given schools that the user may see."""
    ids = {int(i) for i in school_ids if str(i).isdigit()}
    if not ids:
        return {}
    return dict(
        scope_queryset(School.objects.all(), user).filter(pk__in=ids).values_list("pk", "name")
    )


def area_names(*, user: Any, codes: Iterable[str]) -> dict[str, str]:
    """Return code -> name of the given areas that the user may see."""
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    return dict(
        scope_queryset(Area.objects.all(), user).filter(code__in=wanted).values_list("code", "name")
    )


def loan_candidates(*, user: Any, school_year: int) -> QuerySet[Student]:
    """Return identified university students of the year the user may see (for loans)."""
    return (
        scope_queryset(Student.objects.all(), user)
        .filter(
            link__isnull=False,  # identified: linked to a registry person
            enrolments__school_year=school_year,
            enrolments__stage=Stage.UNIVERSITY,
        )
        .distinct()
        .order_by("name", "pk")
    )


# --- review ---------------------------------------------------------------------------------


def own_class(*, user: Any) -> SchoolClass | None:
    """Return the class a class teacher works in, or None for other users."""
    scope = scope_of(user)
    if scope.level != "class" or scope.class_id is None:
        return None
    return (
        scope_queryset(SchoolClass.objects.select_related("school"), user)
        .filter(pk=scope.class_id)
        .first()
    )


def own_school(*, user: Any) -> School | None:
    """Return the school a principal works in, or None for other users."""
    scope = scope_of(user)
    if scope.level != "school" or scope.school_id is None:
        return None
    return scope_queryset(School.objects.all(), user).filter(pk=scope.school_id).first()


def period_rows(*, user: Any, school_year: int, semester: str) -> QuerySet[Entitlement]:
    """Return the semester's entitlements the user may see, with what the screens show."""
    return selectors.entitlement_list(user=user, school_year=school_year, semester=semester)


@dataclass
class SchoolReview:
    """How far one school's entitlements of a semester have come through review."""

    school_id: int
    school_name: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def review_by_school(*, user: Any, school_year: int, semester: str) -> list[SchoolReview]:
    """Return, per school the user may see, the number of entitlements in each review state."""
    rows = (
        period_rows(user=user, school_year=school_year, semester=semester)
        .order_by()
        .values("school_id", "school__name", "review")
        .annotate(n=Count("id"))
    )
    schools: dict[int, SchoolReview] = {}
    for row in rows:
        entry = schools.setdefault(
            row["school_id"],
            SchoolReview(
                row["school_id"], row["school__name"], dict.fromkeys(Entitlement.Review.values, 0)
            ),
        )
        entry.counts[row["review"]] += row["n"]
    return sorted(schools.values(), key=lambda s: s.school_name)


@dataclass
class StudentLines:
    """One student's entitlements of a semester, as the review pages list them."""

    student: Student
    school_class: SchoolClass | None
    lines: list[Entitlement] = field(default_factory=list)

    @property
    def reviews(self) -> set[str]:
        return {e.review for e in self.lines}


def by_student(entitlements: Iterable[Entitlement]) -> list[StudentLines]:
    """Group entitlements (already scoped and ordered) by student, keeping the order."""
    grouped: dict[int, StudentLines] = {}
    for e in entitlements:
        entry = grouped.setdefault(e.student_id, StudentLines(e.student, e.school_class))
        entry.lines.append(e)
    return list(grouped.values())


def class_counts(
    *, user: Any, school: School, school_year: int, semester: str
) -> list[dict[str, Any]]:
    """Return per class of a school: its id, label parts and entitlements awaiting class check."""
    rows = (
        period_rows(user=user, school_year=school_year, semester=semester)
        .filter(school=school)
        .order_by()
        .values(
            "school_class_id",
            "school_class__stage",
            "school_class__grade",
            "school_class__name",
            "review",
        )
        .annotate(n=Count("id"))
    )
    classes: dict[int | None, dict[str, Any]] = {}
    for row in rows:
        entry = classes.setdefault(
            row["school_class_id"],
            {
                "id": row["school_class_id"],
                "stage": row["school_class__stage"] or "",
                "grade": row["school_class__grade"],
                "name": row["school_class__name"] or "",
                "counts": defaultdict(int),
            },
        )
        entry["counts"][row["review"]] += row["n"]
    return sorted(classes.values(), key=lambda c: (c["stage"], c["grade"] or 0, c["name"]))


# --- notices --------------------------------------------------------------------------------


def notice_entitlements(*, user: Any, notice: AidNotice) -> QuerySet[Entitlement]:
    """Return the entitlements put on a notice that the user may see (all, whatever review)."""
    return (
        scope_queryset(Entitlement.objects.all(), user)
        .filter(notice=notice)
        .select_related("student", "school_class", "rule_book")
        .order_by("school_class__grade", "school_class__name", "student__name", "programme")
    )


def notice_sheet_entitlements(*, user: Any, notice: AidNotice) -> QuerySet[Entitlement]:
    """Return the entitlements a printed notice lists: those on it still standing."""
    return notice_entitlements(user=user, notice=notice).filter(review__in=ON_NOTICE)


def get_objection(*, user: Any, notice: AidNotice, objection_id: int) -> NoticeObjection:
    """Return one objection of a notice that the user may see (404 otherwise)."""
    return get_object_for_user(NoticeObjection.objects.filter(notice=notice), user, pk=objection_id)


# --- payment --------------------------------------------------------------------------------


def return_list(*, user: Any, batch: PaymentBatch) -> QuerySet[BankReturn]:
    """Return the bank return files applied to a batch, newest first."""
    return (
        scope_queryset(BankReturn.objects.all(), user)
        .filter(batch=batch)
        .select_related("imported_by")
    )


def _entitlement_id(source: str) -> int | None:
    tail = source[len(SOURCE) :] if source.startswith(SOURCE) else ""
    return int(tail) if tail.isdigit() else None


def batch_payments(*, user: Any, batch: PaymentBatch, params: ListParams) -> QuerySet[Payment]:
    """Return a batch's payments the user may see, filtered, one row per student and programme.

    Townships and schools are the school's; the status is the payment's, the "reason" filter
    its programme; the search looks in the student's and the account holder's names.
    """
    rows = scope_queryset(Payment.objects.all(), user).filter(batch=batch)
    if params.class_id:
        in_class = scope_queryset(Entitlement.objects.all(), user).filter(
            school_year=batch.school_year,
            semester=batch.semester,
            school_class_id=params.class_id,
        )
        rows = rows.filter(
            source__in=[f"{SOURCE}{pk}" for pk in in_class.values_list("pk", flat=True)]
        )
    rows = params.apply(
        rows,
        township="school__township__code",
        school="school_id",
        status="status",
        reason="programme",
        names=("beneficiary", "payee_name"),
    )
    return rows.select_related("school").order_by("school__name", "beneficiary", "programme", "id")


@dataclass(frozen=True)
class PaymentStudent:
    """Who a payment is for: the student of its entitlement, and their class."""

    student_id: int
    name: str
    school_class: SchoolClass | None


def payment_students(*, user: Any, payments: Iterable[Payment]) -> dict[int, PaymentStudent]:
    """Return payment id -> the student it pays (through its entitlement) that the user sees."""
    wanted = {p.pk: _entitlement_id(p.source) for p in payments}
    ents = {
        e.pk: e
        for e in scope_queryset(Entitlement.objects.all(), user)
        .filter(pk__in={i for i in wanted.values() if i is not None})
        .select_related("student", "school_class")
    }
    out: dict[int, PaymentStudent] = {}
    for pk, ent_id in wanted.items():
        e = ents.get(ent_id) if ent_id is not None else None
        if e is not None:
            out[pk] = PaymentStudent(e.student_id, e.student.name, e.school_class)
    return out


def siblings_on_account(
    *, user: Any, batch: PaymentBatch, accounts: Iterable[str]
) -> dict[str, int]:
    """Return account index -> number of different students the batch pays into that account.

    Only accounts paying two or more students are returned: siblings whose aid goes to one
    parent's card.
    """
    wanted = {a for a in accounts if a}
    if not wanted:
        return {}
    sources = (
        scope_queryset(Payment.objects.all(), user)
        .filter(batch=batch, account_index__in=wanted)
        .values_list("account_index", "source")
    )
    by_ent = {_entitlement_id(s): a for a, s in sources}
    students: dict[str, set[int]] = defaultdict(set)
    for ent_id, student_id in (
        Entitlement.objects.filter(pk__in={i for i in by_ent if i is not None})
        .values_list("pk", "student_id")
        .iterator()
    ):
        students[by_ent[ent_id]].add(student_id)
    return {a: len(s) for a, s in students.items() if len(s) > 1}


@dataclass(frozen=True)
class EntitlementPayment:
    """Where the payment of one entitlement stands (no account number)."""

    batch_reference: str
    batch_status: str
    status: str
    settled_at: Any
    reason: str


def entitlement_payments(*, entitlements: Iterable[Entitlement]) -> dict[int, EntitlementPayment]:
    """Return entitlement id -> its latest payment's state, for entitlements already read
    through the user's scope (a payment's state is part of the entitlement the user sees;
    neither the account nor the holder is returned)."""
    ids = {e.pk for e in entitlements}
    if not ids:
        return {}
    rows = (
        Payment.objects.filter(source__in=[f"{SOURCE}{pk}" for pk in ids])
        .order_by("id")
        .values_list(
            "source", "batch__reference", "batch__status", "status", "settled_at", "bank_reason"
        )
    )
    out: dict[int, EntitlementPayment] = {}
    for source, ref, batch_status, status, settled, reason in rows:
        ent_id = _entitlement_id(source)
        if ent_id is None:
            continue
        current = out.get(ent_id)
        # A live payment outranks an earlier failed one; among equals the latest wins.
        if current is not None and current.status != "failed" and status == "failed":
            continue
        out[ent_id] = EntitlementPayment(ref, batch_status, status, settled, reason)
    return out


def classes_by_id(*, class_ids: Iterable[int | None]) -> dict[int, SchoolClass]:
    """Return id -> class for the classes of rows the user was already given (scoped reads:
    a township sees its children in another township's school, and that school's class)."""
    ids = {int(i) for i in class_ids if i}
    if not ids:
        return {}
    return {c.pk: c for c in SchoolClass.objects.filter(pk__in=ids)}


def filter_gaps(gaps: Iterable[selectors.Gap], params: ListParams) -> list[selectors.Gap]:
    """Return the coverage gaps the list filters keep (township, school, class, programme as
    the status filter, reason, and a name search)."""
    q = params.q.casefold()
    return [
        g
        for g in gaps
        if (not params.township or g.township.startswith(params.township))
        and (not params.school_id or g.school_id == params.school_id)
        and (not params.class_id or g.class_id == params.class_id)
        and (not params.status or g.programme == params.status)
        and (not params.reason or g.reason == params.reason)
        and (not q or q in g.student_name.casefold())
    ]


# --- coverage, cached -----------------------------------------------------------------------

# A gap as cached: plain values (no objects to rebuild), the amount as text.
GapTuple = tuple[Any, ...]


def _compact(g: selectors.Gap) -> GapTuple:
    amount = None if g.amount is None else str(g.amount)
    return (
        g.student_id,
        g.student_name,
        g.school_name,
        g.programme,
        amount,
        g.reason,
        g.detail,
        g.school_id,
        g.township,
        g.class_id,
    )


def _gap(t: GapTuple) -> selectors.Gap:
    student_id, name, school, programme, amount, reason, detail, school_id, township, klass = t
    return selectors.Gap(
        student_id,
        name,
        school,
        programme,
        None if amount is None else Decimal(amount),
        reason,
        detail,
        school_id,
        township,
        klass,
    )


def _figures(
    *, user: Any, school_year: int, semester: str
) -> tuple[selectors.Coverage, list[GapTuple]]:
    """Return the coverage tables (gaps left out) and the gaps as tuples, cached together by
    :mod:`jingzhun.core.cache` under the user's scope, the period, the language and the data
    version: a new computation, review, notice or payment gives new figures."""

    def compute() -> tuple[selectors.Coverage, list[GapTuple]]:
        cov = selectors.coverage(user=user, school_year=school_year, semester=semester)
        gaps = [_compact(g) for g in cov.gaps]
        cov.gaps = []
        return cov, gaps

    return cached("aid.coverage", user=user, parts=(school_year, semester), compute=compute)


def coverage(*, user: Any, school_year: int, semester: str) -> selectors.Coverage:
    """Return aid coverage with every gap (:func:`jingzhun.aid.selectors.coverage`), cached."""
    cov, gaps = _figures(user=user, school_year=school_year, semester=semester)
    cov.gaps = [_gap(t) for t in gaps]
    return cov


def coverage_summary(
    *, user: Any, school_year: int, semester: str
) -> tuple[selectors.Coverage, int]:
    """Return the coverage tables (no gaps) and the number of gaps, cached on their own so
    that a page does not read every gap."""

    def compute() -> tuple[selectors.Coverage, int]:
        cov, gaps = _figures(user=user, school_year=school_year, semester=semester)
        return cov, len(gaps)

    return cached("aid.coverage.summary", user=user, parts=(school_year, semester), compute=compute)


def coverage_gap_page(
    *, user: Any, school_year: int, semester: str, params: ListParams, page: str | None
) -> Page[Any]:
    """Return one page of the gaps the list filters keep (cached per filters and page)."""

    def compute() -> tuple[int, int, list[GapTuple]]:
        _cov, gaps = _figures(user=user, school_year=school_year, semester=semester)
        kept = filter_gaps((_gap(t) for t in gaps), params)
        found = Paginator(kept, PAGE_SIZE).get_page(page)
        return len(kept), found.number, [_compact(g) for g in found.object_list]

    number = page if page and page.isdigit() else None
    total, number_found, rows = cached(
        "aid.coverage.page",
        user=user,
        parts=(school_year, semester, params.query(), number),
        compute=compute,
    )
    return page_of(total, number_found, [_gap(t) for t in rows], PAGE_SIZE)
