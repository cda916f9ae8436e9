"""Reads of donations, for the acting user (the county's books: county users with VIEW only),
and the donor report: what a donor pledged and gave, and where each yuan went.

The report names no one whole: the students a donation paid for appear as their surname and
"*", with their school; no ID number, no bank account, no phone. Its workbook and PDF are
official documents, in Chinese whatever the reader's language (fixed texts are constants).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from django.db.models import Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from jingzhun.accounts.models import mask_phone
from jingzhun.core import xlsx
from jingzhun.core.pdf import cjk_font, pdf_bytes, printable
from jingzhun.core.pdf import cn_date as _cn
from jingzhun.core.scoping import get_object_for_user, scope_queryset
from jingzhun.funds import ledger
from jingzhun.funds.models import Payment
from jingzhun.funds.models_donations import Donor, Pledge, Receipt
from jingzhun.funds.selectors import county_of, may_post
from jingzhun.funds.services_donations import donation_programme
from jingzhun.registry.models import Area
from jingzhun.schools.models import School, Student

ZERO = Decimal("0.00")
D = Pledge.Designation
NAMES_SHOWN = 500  # masked names listed per pledge; the counts and amounts cover every payment


def mask_name(name: str) -> str:
    """Return a person's name as the report shows it: the first character (the surname, or
    its first half) and "*"."""
    name = "".join(name.split())
    return f"{name[:1]}*" if name else ""


def phone_shown(user: Any, donor: Donor) -> str:
    """Return the donor's phone as the user may see it: whole for the aid centre, else masked."""
    return donor.phone if may_post(user) else mask_phone(donor.phone)


def donor_list(user: Any, *, kind: str = "", q: str = "") -> QuerySet[Donor]:
    """Return the county's donors, filtered by kind and by text in the name or the contact,
    with what each pledged and gave (``pledged``, ``given``)."""
    county_of(user)
    rows = scope_queryset(Donor.objects.all(), user)
    if kind in Donor.Kind.values:
        rows = rows.filter(kind=kind)
    if q:
        rows = rows.filter(Q(name__icontains=q) | Q(contact_name__icontains=q))
    return rows.annotate(
        pledged=_sum_of(Pledge.objects.filter(donor=OuterRef("pk"))),
        given=_sum_of(Receipt.objects.filter(donor=OuterRef("pk"))),
    ).order_by("name", "id")


def _sum_of(rows: QuerySet[Any]) -> Any:
    total = rows.values("donor").annotate(total=Sum("amount")).values("total")[:1]
    return Coalesce(
        Subquery(total), ZERO, output_field=DecimalField(max_digits=16, decimal_places=2)
    )


def donor_get(user: Any, donor_id: int) -> Donor:
    """Return the donor (a 404 when it is another county's or missing)."""
    county_of(user)
    return get_object_for_user(Donor.objects.all(), user, pk=donor_id)


def pledges_of(user: Any, donor: Donor) -> list[Pledge]:
    county_of(user)
    return list(
        scope_queryset(Pledge.objects.all(), user).filter(donor=donor).select_related("school")
    )


def receipts_of(user: Any, donor: Donor) -> list[Receipt]:
    county_of(user)
    return list(
        scope_queryset(Receipt.objects.all(), user)
        .filter(donor=donor)
        .select_related("pledge", "entry")
    )


def school_choices(user: Any) -> list[tuple[int, str]]:
    """Return (id, name) of the schools the user may designate a gift to, by name."""
    county_of(user)
    return list(
        scope_queryset(School.objects.all(), user).order_by("name", "id").values_list("pk", "name")
    )


def county_name(user: Any) -> str:
    """Return the name of the user's county ("" when it is not on record)."""
    code = county_of(user)
    return str(Area.objects.filter(code=code).values_list("name", flat=True).first() or "")


def pledge_open(user: Any, donor: Donor) -> list[Pledge]:
    """Return the donor's pledges with money still to receive, oldest first."""
    return sorted(
        (p for p in pledges_of(user, donor) if p.open_amount > 0),
        key=lambda p: (p.pledged_on, p.pk),
    )


# --- The donor report ----------------------------------------------------------------------


@dataclass
class SchoolPaid:
    school: str
    count: int
    amount: Decimal


@dataclass
class PaidOut:
    """The payments made from a donation's own programme account."""

    count: int = 0
    amount: Decimal = ZERO
    paid_count: int = 0
    paid_amount: Decimal = ZERO
    pending_count: int = 0
    pending_amount: Decimal = ZERO
    failed_count: int = 0
    failed_amount: Decimal = ZERO
    schools: list[SchoolPaid] = field(default_factory=list)
    # (masked name, school, amount, status) of each payment, up to NAMES_SHOWN
    names: list[tuple[str, str, Decimal, str]] = field(default_factory=list)


@dataclass
class PledgeFlow:
    """Where one pledge's money is: its account's stages and, for a school or named students,
    the payments made from it."""

    pledge: Pledge
    target: str  # the programme code, the school's name, or the named students (masked)
    programme: str
    pledged: Decimal
    received: Decimal
    open: Decimal
    allocated: Decimal = ZERO
    reserved: Decimal = ZERO
    paid: Decimal = ZERO
    returned: Decimal = ZERO
    available: Decimal = ZERO
    shared: bool = False  # the account also holds other channels' money (a named programme)
    students: list[str] = field(default_factory=list)  # masked names of named students
    paid_out: PaidOut | None = None


@dataclass
class DonorReport:
    donor: Donor
    on: dt.date
    pledged: Decimal
    received: Decimal
    to_pool: Decimal  # received without a designation: into the pooled account
    pool_share: Decimal  # donations' share of all money received into the pool and programmes
    flows: list[PledgeFlow]
    receipts: list[Receipt]


def _paid_out(county: str, programme: str, year: int) -> PaidOut:
    rows = Payment.objects.filter(county_code=county, programme=programme, batch__school_year=year)
    out = PaidOut()
    for r in rows.values("status").annotate(n=Count("id"), total=Sum("amount")):
        n, total = r["n"], r["total"] or ZERO
        out.count += n
        out.amount += total
        if r["status"] == Payment.Status.PAID:
            out.paid_count, out.paid_amount = n, total
        elif r["status"] == Payment.Status.FAILED:
            out.failed_count, out.failed_amount = n, total
        else:
            out.pending_count, out.pending_amount = n, total
    live = rows.exclude(status=Payment.Status.FAILED)
    out.schools = [
        SchoolPaid(r["school__name"] or "—", r["n"], r["total"] or ZERO)
        for r in live.values("school__name")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by("school__name")
    ]
    out.names = [
        (
            mask_name(p["beneficiary"] or p["payee_name"]),
            p["school__name"] or "—",
            p["amount"],
            p["status"],
        )
        for p in rows.order_by("school__name", "id").values(
            "beneficiary", "payee_name", "school__name", "amount", "status"
        )[:NAMES_SHOWN]
    ]
    return out


def donor_report(user: Any, donor_id: int) -> DonorReport:
    """Return what the donor pledged and gave and where each yuan went (set-wise reads)."""
    county = county_of(user)
    donor = donor_get(user, donor_id)
    pledges = pledges_of(user, donor)
    receipts = receipts_of(user, donor)
    received_by: dict[int | None, Decimal] = defaultdict(lambda: ZERO)
    for r in receipts:
        received_by[r.pledge_id] += r.amount
    years = {p.school_year for p in pledges if p.school_year is not None}
    balances = {
        (b.programme, b.school_year): b
        for year in sorted(years)
        for b in ledger.programme_balances(county, year)
    }
    student_ids = {i for p in pledges for i in p.students}
    student_names = dict(
        Student.objects.filter(county_code=county, pk__in=student_ids).values_list("pk", "name")
    )
    flows: list[PledgeFlow] = []
    for p in sorted(pledges, key=lambda p: (p.pledged_on, p.pk)):
        programme = donation_programme(p)
        flow = PledgeFlow(
            pledge=p,
            target="",
            programme=programme,
            pledged=p.amount,
            received=received_by[p.pk],
            open=p.open_amount,
        )
        if p.designation == D.PROGRAMME:
            flow.target, flow.shared = p.programme, True
        elif p.designation == D.SCHOOL:
            flow.target = p.school.name if p.school else "—"
        elif p.designation == D.STUDENTS:
            flow.students = [mask_name(student_names.get(i, "")) or "—" for i in p.students]
            flow.target = "、".join(flow.students)
        if programme and p.school_year is not None:
            b = balances.get((programme, p.school_year))
            if b is not None:
                flow.allocated, flow.reserved, flow.paid = b.allocated, b.reserved, b.paid
                flow.returned, flow.available = b.returned, b.available
            if p.designation in (D.SCHOOL, D.STUDENTS):
                flow.paid_out = _paid_out(county, programme, p.school_year)
        flows.append(flow)
    to_pool = received_by[None] + sum(
        (received_by[p.pk] for p in pledges if p.designation == D.GENERAL), ZERO
    )
    on = timezone.localdate()
    share = next(
        (s for c, _a, s in ledger.pool_channel_shares(county, on) if c == "donation"), ZERO
    )
    return DonorReport(
        donor=donor,
        on=on,
        pledged=sum((p.amount for p in pledges), ZERO),
        received=sum((r.amount for r in receipts), ZERO),
        to_pool=to_pool,
        pool_share=share,
        flows=flows,
        receipts=receipts,
    )


# --- The report as documents (Chinese, whatever the reader's language) ---------------------

KIND_CN = {"person": "个人", "company": "企业", "organisation": "社会组织"}
DESIGNATION_CN = {
    "general": "统筹使用（进入资金池）",
    "programme": "指定项目",
    "school": "指定学校",
    "students": "指定受助学生",
}
STATUS_CN = {"paid": "已支付", "pending": "待银行回盘", "failed": "支付失败"}


def _year_cn(year: int | None) -> str:
    return f"{year}-{year + 1}学年" if year is not None else "—"


def _f(value: Decimal) -> float:
    return float(value)


def report_xlsx(report: DonorReport) -> bytes:
    """Return the donor report as a workbook: per pledge, per school paid, per student paid."""
    d = report.donor
    flows = [
        [
            f.pledge.pk,
            f.pledge.pledged_on.isoformat(),
            DESIGNATION_CN[f.pledge.designation],
            f.target or "—",
            _year_cn(f.pledge.school_year),
            _f(f.pledged),
            _f(f.received),
            _f(f.open),
            _f(f.allocated),
            _f(f.reserved),
            _f(f.paid),
            _f(f.available),
        ]
        for f in report.flows
    ]
    flows.append(
        ["合计", "", "", "", "", _f(report.pledged), _f(report.received), "", "", "", "", ""]
    )
    schools = [
        [f.pledge.pk, s.school, s.count, _f(s.amount)]
        for f in report.flows
        if f.paid_out
        for s in f.paid_out.schools
    ]
    names = [
        [f.pledge.pk, school, name, _f(amount), STATUS_CN.get(status, status)]
        for f in report.flows
        if f.paid_out
        for name, school, amount, status in f.paid_out.names
    ]
    receipts = [
        [
            r.received_on.isoformat(),
            r.pledge_id or "—",
            _f(r.amount),
            r.document,
            r.entry_id or "",
        ]
        for r in sorted(report.receipts, key=lambda r: (r.received_on, r.pk))
    ]
    return xlsx.workbook(
        [
            xlsx.Sheet(
                f"{d.name}（{KIND_CN.get(d.kind, d.kind)}）捐赠资金去向",
                [
                    "认捐编号",
                    "认捐日期",
                    "用途",
                    "对象",
                    "学年",
                    "认捐金额",
                    "已到账",
                    "未到账",
                    "项目拨入",
                    "已审批待支付",
                    "已支付",
                    "可用余额",
                ],
                flows,
            ),
            xlsx.Sheet(
                "到账记录", ["到账日期", "认捐编号", "金额", "凭证或说明", "凭证号"], receipts
            ),
            xlsx.Sheet("按学校支付情况", ["认捐编号", "学校", "人数", "金额"], schools),
            xlsx.Sheet("受助学生", ["认捐编号", "学校", "学生", "金额", "状态"], names),
        ]
    )


def report_pdf(report: DonorReport, *, issuer: str) -> bytes:
    """Return the donor report as a PDF for the donor: the same figures as the workbook."""
    font = cjk_font()
    title = ParagraphStyle("title", fontName=font, fontSize=18, leading=26, alignment=TA_CENTER)
    plain = ParagraphStyle("plain", fontName=font, fontSize=11, leading=17, wordWrap="CJK")
    small = ParagraphStyle("small", fontName=font, fontSize=9, leading=12, wordWrap="CJK")

    def para(text: str, style: ParagraphStyle = small) -> Paragraph:
        return Paragraph(escape(printable(text, font)), style)

    def table(rows: list[list[str]], widths: list[float]) -> Table:
        t = Table([[para(c) for c in row] for row in rows], colWidths=widths, repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E6E6E6")),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        return t

    d = report.donor
    money = "{:,.2f}".format
    story: list[Any] = [
        para("社会捐赠资金使用情况报告", title),
        Spacer(1, 6 * mm),
        para(
            f"捐赠方：{d.name}（{KIND_CN.get(d.kind, d.kind)}）　　"
            f"填报单位：{issuer}　　统计日期：{_cn(report.on)}",
            plain,
        ),
        para(
            f"认捐合计{money(report.pledged)}元，已到账{money(report.received)}元，"
            f"其中统筹使用（进入资金池）{money(report.to_pool)}元。"
            "全部捐赠资金由县教育局统一管理，多个渠道进水、一个龙头放水。",
            plain,
        ),
        Spacer(1, 4 * mm),
    ]
    if report.to_pool:
        story.append(
            para(
                "统筹使用的捐赠资金与其他渠道资金一并进入资金池，按比例拨付各资助项目；"
                f"目前社会捐赠占资金池累计收入的{report.pool_share * 100:.1f}%。",
                plain,
            )
        )
        story.append(Spacer(1, 3 * mm))
    rows = [
        ["认捐日期", "用途", "对象", "学年", "认捐", "到账", "项目拨入", "待支付", "已支付", "余额"]
    ]
    for f in report.flows:
        rows.append(
            [
                f.pledge.pledged_on.isoformat(),
                DESIGNATION_CN[f.pledge.designation],
                f.target or "—",
                _year_cn(f.pledge.school_year),
                money(f.pledged),
                money(f.received),
                money(f.allocated) if f.programme else "—",
                money(f.reserved) if f.programme else "—",
                money(f.paid) if f.programme else "—",
                money(f.available) if f.programme else "—",
            ]
        )
    widths = [w * mm for w in (20, 22, 26, 20, 16, 16, 16, 16, 16, 16)]
    story.append(table(rows, widths) if report.flows else para("尚无认捐记录。", plain))
    if any(f.shared for f in report.flows):
        story.append(Spacer(1, 2 * mm))
        story.append(
            para("注：指定项目的金额为该项目账户的全部收支，含其他渠道拨入的资金。", small)
        )
    for f in report.flows:
        if not f.paid_out or not f.paid_out.count:
            continue
        po = f.paid_out
        story += [
            Spacer(1, 5 * mm),
            para(
                f"{f.pledge.pledged_on.isoformat()}认捐（{DESIGNATION_CN[f.pledge.designation]}）"
                f"的支付情况：共{po.count}笔{money(po.amount)}元，其中已支付{po.paid_count}笔"
                f"{money(po.paid_amount)}元，待银行回盘{po.pending_count}笔"
                f"{money(po.pending_amount)}元，支付失败退回{po.failed_count}笔"
                f"{money(po.failed_amount)}元。",
                plain,
            ),
            Spacer(1, 2 * mm),
            table(
                [["学校", "人数", "金额（元）"]]
                + [[s.school, str(s.count), money(s.amount)] for s in po.schools],
                [90 * mm, 30 * mm, 40 * mm],
            ),
            Spacer(1, 2 * mm),
            para(
                "受助学生："
                + "、".join(f"{name}（{school}）" for name, school, _a, _s in po.names),
                small,
            ),
        ]
    story += [
        Spacer(1, 6 * mm),
        para("本报告不含受助学生的身份证号、银行账号等个人信息，学生姓名仅显示姓氏。", small),
    ]
    return pdf_bytes(story, pagesize=A4, side_mm=12, top_mm=18)
