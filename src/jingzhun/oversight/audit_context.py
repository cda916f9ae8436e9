"""What the year-end audit's checks share: the county and year, the payments joined to their
sources, the words and the links of an anomaly (:mod:`jingzhun.oversight.audit_checks`).

A payment names its source as text (``aid.entitlement:123``, ``teachers.allowance:45``): a
check joins a payment to its source by that text in SQL (a correlated ``EXISTS`` on the
payment's unique (source, county) index, or a join), never by reading payments one by one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import CharField, Exists, OuterRef, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from jingzhun.aid.models import Entitlement
from jingzhun.aid.rulebook import RuleBook
from jingzhun.core.periods import Semester, SemesterKind
from jingzhun.funds.models import Payment
from jingzhun.oversight.audit import (
    MAX_LISTED,
    Anomaly,
    Link,
)
from jingzhun.teachers.models import AllowanceLine

AID_SOURCE = "aid.entitlement:"  # as jingzhun.aid.services.SOURCE writes it
ALLOWANCE_SOURCE = "teachers.allowance:"  # as jingzhun.teachers.services writes it
STAGES_ZH = {
    "preschool": "学前教育",
    "primary": "小学",
    "junior": "初中",
    "senior": "普通高中",
    "vocational": "中职",
    "university": "高等教育",
}
ALLOWANCE_ZH = "乡村教师生活补助"
REVIEWS_ZH = {
    "pending": "待班级审核",
    "class_checked": "班级已审核",
    "confirmed": "学校已确认",
    "excluded": "学校已排除",
    "noticed": "公示中",
    "approved": "县级已审批",
    "withdrawn": "已撤销",
}

Found = tuple[int, list[Anomaly]]


def money(amount: Decimal | None) -> str:
    return f"{amount or Decimal('0'):,.2f}"


def say(text: str, zh: str, common: dict[str, Any], **both: tuple[str, str]) -> tuple[str, str]:
    """Return a sentence in the user's language and in Chinese: ``both`` gives each word in
    the user's language first, then in Chinese."""
    return (
        text % {**common, **{k: v[0] for k, v in both.items()}},
        zh % {**common, **{k: v[1] for k, v in both.items()}},
    )


def age_on(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@dataclass
class AuditContext:
    """What every check reads: the county, the year, and the labels of the year's rule book."""

    county: str
    year: int
    book: RuleBook | None

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, 9, 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.year + 1, 8, 31)

    def semester(self, kind: str) -> Semester:
        return Semester.named(self.year, kind)

    def programme(self, code: str) -> tuple[str, str]:
        if code == "rural_teacher_allowance":
            return _("Rural teacher living allowance"), ALLOWANCE_ZH
        found = self.book.programmes.get(code) if self.book else None
        if found is None:
            return code, code
        return found.label(get_language() or "zh-hans"), found.label_zh

    def period(self, kind: str) -> tuple[str, str]:
        label = SemesterKind(kind).label if kind in SemesterKind.values else kind
        zh = "秋季" if kind == SemesterKind.AUTUMN else "春季"
        return (
            f"{self.year}-{self.year + 1} {label}",
            f"{self.year}—{self.year + 1}学年{zh}学期",
        )

    def live(self) -> QuerySet[Payment]:
        """Return the county's payments that are paid or awaiting the bank (not failed)."""
        return Payment.objects.filter(county_code=self.county).exclude(status=Payment.Status.FAILED)

    def paid_entitlements(self) -> QuerySet[Entitlement]:
        """Return the county's entitlements of the year that have a live payment."""
        source = Concat(Value(AID_SOURCE), Cast(OuterRef("pk"), CharField()))
        return Entitlement.objects.filter(county_code=self.county, school_year=self.year).filter(
            Exists(self.live().filter(source=source))
        )

    def paid_lines(self) -> QuerySet[AllowanceLine]:
        """Return the county's allowance lines of the year's months that have a live payment."""
        source = Concat(Value(ALLOWANCE_SOURCE), Cast(OuterRef("pk"), CharField()))
        return AllowanceLine.objects.filter(
            county_code=self.county, month__gte=self.first_day, month__lte=self.last_day
        ).filter(Exists(self.live().filter(source=source)))

    def payments_of(self, prefix: str, rows: QuerySet[Any]) -> dict[str, Payment]:
        """Return the live payments of some sources, by source (one query)."""
        sources = rows.annotate(audit_source=Concat(Value(prefix), Cast("pk", CharField()))).values(
            "audit_source"
        )
        return {
            p.source: p
            for p in self.live().filter(source__in=sources).select_related("batch", "school")
        }


# --- links ------------------------------------------------------------------------------------


def batch_link(payment: Payment | None) -> list[Link]:
    if payment is None:
        return []
    return [Link(payment.batch.reference, reverse("aid:batch", args=[payment.batch_id]))]


def child_links(e: Entitlement) -> list[Link]:
    return [
        Link(_("Child's page"), reverse("dashboard:child", args=[e.person_id])),
        Link(_("Aid of the student"), reverse("aid:student", args=[e.student_id])),
    ]


def teacher_link(line: AllowanceLine) -> Link:
    return Link(
        _("Allowance of %(month)s") % {"month": f"{line.month:%Y-%m}"},
        f"{reverse('teachers:allowance')}?month={line.month:%Y-%m}",
    )


def entitlement_rows(qs: QuerySet[Entitlement]) -> list[Entitlement]:
    return list(
        qs.select_related("student", "person__household", "school", "notice").order_by(
            "school_id", "student_id", "programme", "semester"
        )[:MAX_LISTED]
    )


def aid_facts(ctx: AuditContext, e: Entitlement, payment: Payment | None) -> dict[str, Any]:
    return {
        "name": e.student.name,
        "id": e.person.id_masked or e.student.id_masked or "—",
        "amount": money(payment.amount if payment else e.amount),
        "school": e.school.name,
    }


def aid_anomaly(
    kind: str,
    severity: str,
    e: Entitlement,
    payment: Payment | None,
    words: tuple[str, str],
    extra: Iterable[Link] = (),
) -> Anomaly:
    return Anomaly(
        kind=kind,
        severity=severity,
        text=words[0],
        text_zh=words[1],
        amount=payment.amount if payment else e.amount,
        school=e.school.name,
        references=(payment.reference,) if payment else (),
        links=tuple([*batch_link(payment), *child_links(e), *extra]),
    )


def teacher_anomalies(
    ctx: AuditContext,
    kind: str,
    severity: str,
    lines: QuerySet[AllowanceLine],
    wording: Callable[[AllowanceLine], tuple[str, str, dict[str, Any], dict[str, tuple[str, str]]]],
) -> list[Anomaly]:
    """Word the allowance lines a check found (fetched in one query)."""
    payments = ctx.payments_of(ALLOWANCE_SOURCE, lines)
    found = []
    for line in lines.select_related("teacher", "school").order_by(
        "month", "school_id", "teacher_id"
    )[:MAX_LISTED]:
        payment = payments.get(f"{ALLOWANCE_SOURCE}{line.pk}")
        text, zh, extra, both = wording(line)
        words = say(
            text,
            zh,
            {
                "name": line.teacher.name,
                "id": line.teacher.id_masked or "—",
                "amount": money(payment.amount if payment else line.amount),
                "school": line.school.name,
                **extra,
            },
            programme=ctx.programme("rural_teacher_allowance"),
            month=(f"{line.month:%Y-%m}", f"{line.month.year}年{line.month.month}月"),
            **both,
        )
        found.append(
            Anomaly(
                kind=kind,
                severity=severity,
                text=words[0],
                text_zh=words[1],
                amount=payment.amount if payment else line.amount,
                school=line.school.name,
                references=(payment.reference,) if payment else (),
                links=tuple([*batch_link(payment), teacher_link(line)]),
            )
        )
    return found


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
