"""Reads of student aid, each limited to what the acting user may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyarrow as pa
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from jingzhun.aid import compute
from jingzhun.aid.bulk import MONEY, eligible_rows
from jingzhun.aid.models import (
    Adjustment,
    AidComputation,
    AidNotice,
    Entitlement,
    Loan,
    NoticeObjection,
    RuleBookVersion,
)
from jingzhun.aid.rulebook import (
    RuleBook,
    load_rulebook,
    shipped_source,
)
from jingzhun.aid.services import SOURCE, book_of, rulebook_latest
from jingzhun.core import permissions as P
from jingzhun.core.bulk import fetch_arrow
from jingzhun.core.importing import duck
from jingzhun.core.scoping import Scope, get_object_for_user, scope_of, scope_queryset
from jingzhun.funds.models import Allocation, Payment, PaymentBatch
from jingzhun.registry.models import Area
from jingzhun.schools.models import School, Stage

GAP_REASONS = {
    "not_enrolled": _("Not enrolled this semester"),
    "pending_review": _("Pending review or notice"),
    "excluded": _("Excluded by the school"),
    "no_bank_card": _("No bank card"),
    "awaiting_payment": _("Approved, not yet in a payment batch"),
    "in_draft_batch": _("In a draft batch"),
    "batch_approved": _("Approved, not yet sent to the bank"),
    "payment_pending": _("Sent to the bank, not yet confirmed"),
    "payment_failed": _("Payment failed"),
}


def may_manage(user: Any) -> bool:
    return P.user_can(user, P.AID_MANAGE) and user.scope.level == "county"


def may_pay(user: Any) -> bool:
    return P.user_can(user, P.PAY) and user.scope.level == "county"


def may_class_check(user: Any) -> bool:
    return P.user_can(user, P.AID_CLASS_REVIEW)


def may_school_review(user: Any) -> bool:
    return P.user_can(user, P.AID_SCHOOL_REVIEW)


# --- lists ----------------------------------------------------------------------------------


def rulebook_versions(*, user: Any, school_year: int) -> QuerySet[RuleBookVersion]:
    return (
        scope_queryset(RuleBookVersion.objects.all(), user)
        .filter(school_year=school_year)
        .order_by("-version")
    )


def current_book(*, user: Any, school_year: int) -> tuple[RuleBookVersion | None, RuleBook | None]:
    """Return the county's newest rule book version for the year (or the shipped book, unsaved)."""
    scope = scope_of(user)
    if scope.is_empty or not scope.county_code:
        return None, None
    version = rulebook_latest(scope.county_code, school_year)
    if version is not None:
        return version, book_of(version)
    try:
        return None, load_rulebook(shipped_source(school_year), source=f"{school_year}.yaml")
    except KeyError:
        return None, None


def entitlement_list(
    *,
    user: Any,
    school_year: int,
    semester: str,
    school_id: int | None = None,
    programme: str = "",
    review: str = "",
) -> QuerySet[Entitlement]:
    rows = scope_queryset(Entitlement.objects.all(), user).filter(
        school_year=school_year, semester=semester
    )
    if school_id:
        rows = rows.filter(school_id=school_id)
    if programme:
        rows = rows.filter(programme=programme)
    if review:
        rows = rows.filter(review=review)
    return rows.select_related("student", "school", "school_class", "rule_book").order_by(
        "school__name", "school_class__name", "student__name", "programme"
    )


def review_counts(*, user: Any, school_year: int, semester: str) -> dict[str, int]:
    rows = entitlement_list(user=user, school_year=school_year, semester=semester)
    counts = {k: 0 for k in Entitlement.Review.values}
    for review in rows.values_list("review", flat=True):
        counts[review] += 1
    return counts


def computation_list(*, user: Any) -> QuerySet[AidComputation]:
    return scope_queryset(AidComputation.objects.all(), user).select_related(
        "rule_book", "started_by"
    )


def adjustment_list(*, user: Any, computation_id: int | None = None) -> QuerySet[Adjustment]:
    rows = scope_queryset(Adjustment.objects.all(), user).select_related(
        "entitlement__student", "school", "computation"
    )
    if computation_id:
        rows = rows.filter(computation_id=computation_id)
    return rows.order_by("-computation_id", "id")


def notice_list(*, user: Any) -> QuerySet[AidNotice]:
    return scope_queryset(AidNotice.objects.all(), user).select_related("school")


def get_notice(*, user: Any, notice_id: int) -> AidNotice:
    return get_object_for_user(
        AidNotice.objects.select_related("school__township"), user, pk=notice_id
    )


def objection_list(*, user: Any, notice: AidNotice) -> QuerySet[NoticeObjection]:
    return (
        scope_queryset(NoticeObjection.objects.all(), user)
        .filter(notice=notice)
        .select_related("student")
    )


def batch_list(*, user: Any) -> QuerySet[PaymentBatch]:
    return scope_queryset(PaymentBatch.objects.all(), user)


def get_batch(*, user: Any, batch_id: int) -> PaymentBatch:
    return get_object_for_user(PaymentBatch.objects.all(), user, pk=batch_id)


def payment_list(*, user: Any, batch: PaymentBatch) -> QuerySet[Payment]:
    return scope_queryset(Payment.objects.all(), user).filter(batch=batch).select_related("school")


def allocation_list(*, user: Any, school_year: int) -> QuerySet[Allocation]:
    return scope_queryset(Allocation.objects.all(), user).filter(school_year=school_year)


def loan_list(*, user: Any) -> QuerySet[Loan]:
    return scope_queryset(Loan.objects.all(), user).select_related("student", "school")


def student_entitlements(*, user: Any, student_id: int) -> list[Entitlement]:
    """Return a student's entitlements the user may see, oldest period first."""
    return list(
        scope_queryset(Entitlement.objects.all(), user)
        .filter(student_id=student_id)
        .select_related("rule_book", "school", "student", "school_class")
        .order_by("school_year", "-semester", "programme")
    )


# --- coverage -------------------------------------------------------------------------------


@dataclass
class CoverageRow:
    key: str
    label: str
    students: int
    covered: int

    @property
    def share(self) -> Decimal | None:
        if not self.students:
            return None
        return (Decimal(self.covered) * 100 / Decimal(self.students)).quantize(Decimal("0.1"))


@dataclass
class Gap:
    student_id: int
    student_name: str
    school_name: str
    programme: str
    amount: Decimal | None
    reason: str
    detail: str = ""
    school_id: int | None = None
    township: str = ""  # the area code of the school's township (else the child's)
    class_id: int | None = None

    @property
    def reason_label(self) -> str:
        return str(GAP_REASONS.get(self.reason, self.reason))


@dataclass
class Coverage:
    school_year: int
    semester: str
    county: CoverageRow
    by_stage: list[CoverageRow] = field(default_factory=list)
    by_township: list[CoverageRow] = field(default_factory=list)
    by_school: list[CoverageRow] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    # What reached the students: cash confirmed paid by the bank, fees waived (approved).
    cash_paid: Decimal = Decimal("0.00")
    waived: Decimal = Decimal("0.00")
    # What is due and has not reached them yet (not counting exclusions).
    outstanding: Decimal = Decimal("0.00")


def _scope_filter(scope: Scope) -> tuple[str, list[Any]]:
    if scope.level in ("county", "township"):
        return "(village_code LIKE ? OR school_township LIKE ?)", [f"{scope.area_code}%"] * 2
    if scope.level == "school":
        return "school_id = ?", [scope.school_id]
    if scope.level == "class":
        return "school_class_id = ?", [scope.class_id]
    return "FALSE", []


ENT_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("student_id", pa.int64()),
        ("programme", pa.string()),
        ("kind", pa.string()),
        ("amount", MONEY),
        ("review", pa.string()),
        ("review_reason", pa.string()),
        ("has_card", pa.bool_()),
    ]
)
PAY_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("status", pa.string()),
        ("id", pa.int64()),
        ("batch_status", pa.string()),
    ]
)


def coverage(*, user: Any, school_year: int, semester: str) -> Coverage:
    """Return aid coverage (objective I.1) for what the user may see, with every gap's reason.

    The students are the identified ones whose household qualifies under the rule book; a
    student is covered when every programme they are due this semester reached them: waivers
    approved, cash approved and confirmed paid by the bank.
    """
    scope = scope_of(user)
    empty = Coverage(school_year, semester, CoverageRow("county", "", 0, 0))
    _version, book = current_book(user=user, school_year=school_year)
    if scope.is_empty or book is None:
        return empty
    county = scope.county_code
    # Each qualifying student's enrolment for the semester, attending or not.
    chosen = eligible_rows(
        book,
        compute.semester_enrolments(compute.load_raw(county, school_year), school_year, semester),
    )
    ents = fetch_arrow(
        "SELECT e.id, e.student_id, e.programme, e.kind, e.amount, e.review, e.review_reason, "
        "h.bank_index IS NOT NULL FROM aid_entitlement e "
        "JOIN registry_person p ON p.id = e.person_id AND p.county_code = e.county_code "
        "JOIN registry_household h ON h.id = p.household_id "
        "WHERE e.school_year = %s AND e.semester = %s AND e.village_code LIKE %s "
        "AND e.county_code = %s AND e.review <> 'withdrawn'",
        [school_year, semester, f"{county}%", county[:6]],
        ENT_SCHEMA,
    )
    pays = fetch_arrow(
        "SELECT p.source, p.status, p.id, b.status FROM funds_payment p "
        "JOIN funds_paymentbatch b ON b.id = p.batch_id "
        "WHERE b.county_code = %s AND p.county_code = %s AND b.school_year = %s "
        "AND b.semester = %s",
        [county, county[:6], school_year, semester],
        PAY_SCHEMA,
    )
    schools = fetch_arrow(
        "SELECT s.id, s.name, coalesce(a.code, '') FROM schools_school s "
        "LEFT JOIN registry_area a ON a.id = s.township_id",
        [],
        pa.schema([("id", pa.int64()), ("name", pa.string()), ("township", pa.string())]),
    )
    names = fetch_arrow(
        "SELECT s.id, s.name FROM schools_student s WHERE s.county_code = %s",
        [county],
        pa.schema([("id", pa.int64()), ("name", pa.string())]),
    )
    where, params = _scope_filter(scope)
    con = duck()
    try:
        for name, table in (
            ("chosen", chosen),
            ("ents", ents),
            ("pays", pays),
            ("schools", schools),
            ("names", names),
        ):
            con.register(name, table)
        con.execute(
            """
            CREATE TEMP TABLE pop AS
            SELECT c.*, sc.township AS school_township, sc.name AS school_name
            FROM chosen c JOIN schools sc ON sc.id = c.school_id
            """
        )
        con.execute(f"DELETE FROM pop WHERE NOT ({where})", params)
        con.execute(
            f"""
            CREATE TEMP TABLE lines AS
            WITH live AS (
                SELECT CAST(substr(source, {len(SOURCE) + 1}) AS BIGINT) AS ent_id, status,
                       batch_status
                FROM pays WHERE source LIKE '{SOURCE}%'
                QUALIFY row_number() OVER (PARTITION BY source ORDER BY (status <> 'failed') DESC, id DESC) = 1
            )
            SELECT e.student_id, e.programme, e.kind, e.amount, e.review_reason,
                   CASE
                     WHEN e.review = 'excluded' THEN 'excluded'
                     WHEN e.review <> 'approved' THEN 'pending_review'
                     WHEN e.kind = 'waiver' THEN NULL
                     WHEN l.status = 'paid' THEN NULL
                     WHEN l.status = 'pending' AND l.batch_status = 'draft' THEN 'in_draft_batch'
                     WHEN l.status = 'pending' AND l.batch_status = 'approved'
                       THEN 'batch_approved'
                     WHEN l.status = 'pending' THEN 'payment_pending'
                     WHEN l.status = 'failed' AND NOT e.has_card THEN 'no_bank_card'
                     WHEN l.status = 'failed' THEN 'payment_failed'
                     WHEN NOT e.has_card THEN 'no_bank_card'
                     ELSE 'awaiting_payment'
                   END AS reason
            FROM ents e JOIN pop p ON p.student_id = e.student_id
            LEFT JOIN live l ON l.ent_id = e.id
            """
        )
        per_student = (
            con.sql(
                """
            SELECT p.student_id, p.stage, p.school_id, p.school_name,
                   coalesce(nullif(p.school_township, ''), substr(p.village_code, 1, 9)) AS township,
                   p.attends AND NOT EXISTS (
                       SELECT 1 FROM lines l WHERE l.student_id = p.student_id AND l.reason IS NOT NULL
                   ) AS covered
            FROM pop p
            """
            )
            .to_arrow_table()
            .to_pylist()
        )
        money = con.execute(
            """
            SELECT coalesce(sum(amount) FILTER (WHERE reason IS NULL AND kind = 'cash'), 0),
                   coalesce(sum(amount) FILTER (WHERE reason IS NULL AND kind = 'waiver'), 0),
                   coalesce(sum(amount) FILTER (
                       WHERE reason IS NOT NULL AND reason <> 'excluded'), 0)
            FROM lines
            """
        ).fetchall()[0]
        gap_rows = (
            con.sql(
                """
            SELECT p.student_id, coalesce(n.name, '') AS name, p.school_name, '' AS programme,
                   NULL::DECIMAL(14, 2) AS amount, 'not_enrolled' AS reason, '' AS detail,
                   p.school_id, p.school_class_id,
                   coalesce(nullif(p.school_township, ''), substr(p.village_code, 1, 9))
                     AS township
            FROM pop p LEFT JOIN names n ON n.id = p.student_id WHERE NOT p.attends
            UNION ALL
            SELECT l.student_id, coalesce(n.name, ''), p.school_name, l.programme, l.amount,
                   l.reason, l.review_reason, p.school_id, p.school_class_id,
                   coalesce(nullif(p.school_township, ''), substr(p.village_code, 1, 9))
            FROM lines l JOIN pop p ON p.student_id = l.student_id
            LEFT JOIN names n ON n.id = l.student_id
            WHERE l.reason IS NOT NULL AND p.attends
            ORDER BY 3, 2, 4
            """
            )
            .to_arrow_table()
            .to_pylist()
        )
    finally:
        con.close()
    county_name = Area.objects.filter(code=county).values_list("name", flat=True).first()
    result = Coverage(school_year, semester, CoverageRow("county", county_name or county, 0, 0))
    if money is not None:
        result.cash_paid, result.waived, result.outstanding = (Decimal(v) for v in money)
    stage_labels = dict(Stage.choices)
    stage: dict[str, CoverageRow] = {}
    township: dict[str, CoverageRow] = {}
    school: dict[str, CoverageRow] = {}
    for row in per_student:
        for bucket, key, label in (
            (stage, row["stage"], str(stage_labels.get(row["stage"], row["stage"]))),
            (township, row["township"], row["township"]),
            (school, str(row["school_id"]), row["school_name"]),
        ):
            entry = bucket.setdefault(key, CoverageRow(key, label, 0, 0))
            entry.students += 1
            entry.covered += int(bool(row["covered"]))
        result.county.students += 1
        result.county.covered += int(bool(row["covered"]))
    township_names = dict(Area.objects.filter(code__in=list(township)).values_list("code", "name"))
    for code, entry in township.items():
        entry.label = township_names.get(code, code)
    order = {s: i for i, s in enumerate(Stage.values)}
    result.by_stage = sorted(stage.values(), key=lambda r: order.get(r.key, 99))
    result.by_township = sorted(township.values(), key=lambda r: r.key)
    result.by_school = sorted(school.values(), key=lambda r: r.label)
    result.gaps = [
        Gap(
            r["student_id"],
            r["name"],
            r["school_name"],
            r["programme"],
            r["amount"],
            r["reason"],
            r["detail"] or "",
            r["school_id"],
            r["township"] or "",
            r["school_class_id"],
        )
        for r in gap_rows
    ]
    return result


def school_choices(*, user: Any) -> QuerySet[School]:
    return (
        scope_queryset(School.objects.all(), user).filter(township__isnull=False).order_by("name")
    )
