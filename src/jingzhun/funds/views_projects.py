"""Fund pages: projects' money (III.2): set-up (立项) → approval → implementation
(disbursements against time nodes) → performance evaluation (绩效评价).

Readers are the county's users with VIEW (:func:`selectors.may_read`); writers the aid centre
(:func:`selectors.may_post`). Allocating and disbursing are shown as a preview first and posted
on confirmation, like the transfer form of the ledger's home page. A user below the county
gets the 403 page; another county's project is a 404. The evaluation report (PDF) is an
official document, in Chinese whatever the reader's language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from jingzhun.core import permissions as P
from jingzhun.core import xlsx
from jingzhun.core.audit import audit_record
from jingzhun.core.downloads import attachment
from jingzhun.core.errors import forbidden
from jingzhun.core.listing import paginate
from jingzhun.core.money import format_yuan
from jingzhun.core.pdf import cjk_font, pdf_bytes, printable
from jingzhun.core.pdf import cn_date as official_date
from jingzhun.core.working_year import working_year
from jingzhun.funds import ledger, selectors
from jingzhun.funds import selectors_projects as reads
from jingzhun.funds import services_projects as writes
from jingzhun.funds.models import Evaluation, FundProject, Indicator
from jingzhun.funds.views import _download, _nav, _page, funds_view

S = FundProject.Status
# The time nodes of a school project (projects.ProjectNode) a payment is usually made against.
NODE_SUGGESTIONS = ("立项", "审批", "招标", "开工", "竣工", "验收")
GRADES_CN = {"excellent": "优", "good": "良", "fair": "中", "poor": "差"}
CATEGORIES_CN = {"output": "产出指标", "effect": "效益指标", "satisfaction": "满意度指标"}
STATUS_CN = {
    "set_up": "已立项待审批",
    "approved": "已审批",
    "implementing": "实施中",
    "evaluated": "已评价",
}


def _grades() -> dict[str, str]:
    return {
        "excellent": _("Excellent (90 and above)"),
        "good": _("Good (80 to under 90)"),
        "fair": _("Fair (60 to under 80)"),
        "poor": _("Poor (under 60)"),
    }


def _tabs() -> list[tuple[str, str, str]]:
    return _nav()


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> Any:
    return _page(
        request, template, {"jz_nav": _tabs(), "active": "projects", **context}, status=status
    )


def _years(user: Any) -> list[int]:
    return list(range(working_year(selectors.county_of(user)) + 1, 2015, -1))


# --- Forms ---------------------------------------------------------------------------------


def _money_field(label: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, max_digits=14, decimal_places=2, min_value=Decimal("0.01")
    )


class SetUpForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Project name"), max_length=200)
    school_year = forms.IntegerField(label=gettext_lazy("School year"), min_value=2015)
    budget = _money_field(gettext_lazy("Budget (yuan)"))
    source = forms.CharField(
        label=gettext_lazy("School project (reference)"),
        max_length=80,
        required=False,
        help_text=gettext_lazy('For instance "projects.project:12"; blank if none.'),
    )
    purpose = forms.CharField(label=gettext_lazy("Purpose"), max_length=300, required=False)
    document = forms.CharField(label=gettext_lazy("Set-up document"), max_length=200)
    set_up_on = forms.DateField(label=gettext_lazy("Set up on"))


class ApproveForm(forms.Form):
    document = forms.CharField(label=gettext_lazy("Approval document"), max_length=200)
    approved_on = forms.DateField(label=gettext_lazy("Approved on"))


class AllocateForm(forms.Form):
    amount = _money_field(gettext_lazy("Amount (yuan)"))
    channel = forms.ChoiceField(label=gettext_lazy("From"), required=False)
    note = forms.CharField(label=gettext_lazy("Document or note"), max_length=200)
    received_on = forms.DateField(label=gettext_lazy("Date"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = ledger.channel_labels()
        self.fields["channel"].choices = [  # type: ignore[attr-defined]
            ("", _("The pooled account")),
            *((c, names[c]) for c in ledger.CHANNELS),
        ]


class DisburseForm(forms.Form):
    amount = _money_field(gettext_lazy("Amount (yuan)"))
    paid_on = forms.DateField(label=gettext_lazy("Paid on"))
    node_label = forms.CharField(label=gettext_lazy("Time node"), max_length=60)
    node = forms.CharField(
        label=gettext_lazy("Time node (reference)"),
        max_length=80,
        required=False,
        help_text=gettext_lazy('For instance "projects.node:34"; blank if none.'),
    )
    payee = forms.CharField(label=gettext_lazy("Payee"), max_length=100)
    document = forms.CharField(label=gettext_lazy("Contract or voucher"), max_length=200)


class IndicatorForm(forms.Form):
    category = forms.ChoiceField(
        label=gettext_lazy("Category"),
        choices=[("", "—"), *Indicator.Category.choices],
        required=False,
    )
    name = forms.CharField(label=gettext_lazy("Indicator"), max_length=100, required=False)
    target = forms.DecimalField(
        label=gettext_lazy("Target"), max_digits=14, decimal_places=2, required=False
    )
    actual = forms.DecimalField(
        label=gettext_lazy("Actual"), max_digits=14, decimal_places=2, required=False
    )
    unit = forms.CharField(label=gettext_lazy("Unit"), max_length=20, required=False)
    weight = forms.DecimalField(
        label=gettext_lazy("Weight"), max_digits=5, decimal_places=2, required=False
    )

    def row(self) -> writes.IndicatorRow | None:
        """Return the row entered, None when left empty; a half-filled row is an error."""
        d = self.cleaned_data
        if not any(d.get(k) not in (None, "") for k in ("category", "name", "target", "actual")):
            return None
        missing = [
            k for k in ("category", "name", "target", "actual", "weight") if d.get(k) in (None, "")
        ]
        if missing:
            raise ValidationError(_("Fill in every column of a row, or leave it empty."))
        return writes.IndicatorRow(
            category=d["category"],
            name=d["name"],
            target=d["target"],
            actual=d["actual"],
            weight=d["weight"],
            unit=d.get("unit") or "",
        )


IndicatorFormSet = forms.formset_factory(IndicatorForm, extra=8, max_num=20, absolute_max=20)


class EvaluationForm(forms.Form):
    evaluated_on = forms.DateField(label=gettext_lazy("Evaluated on"))
    conclusion = forms.CharField(
        label=gettext_lazy("Conclusion"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )


# --- The list ------------------------------------------------------------------------------


def _filters(request: HttpRequest) -> dict[str, Any]:
    status = str(request.GET.get("status", ""))
    year = str(request.GET.get("year", ""))
    return {
        "status": status if status in S.values else "",
        "year": int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else None,
        "q": " ".join(str(request.GET.get("q", "")).split())[:40],
    }


def _listed(request: HttpRequest) -> tuple[dict[str, Any], Any]:
    f = _filters(request)
    rows = reads.fund_projects(request.user, status=f["status"], school_year=f["year"], q=f["q"])
    return f, rows


@funds_view("GET", "HEAD")
def project_money(request: HttpRequest) -> Any:
    """The county's fund projects: budget, allocated, disbursed, status, score; paged."""
    user: Any = request.user
    f, rows = _listed(request)
    listed = paginate(request.GET, rows.select_related("evaluation"))
    projects = list(listed)
    money = reads.money_of(user, projects)
    query = "&".join(f"{k}={v}" for k, v in f.items() if v)
    return _render(
        request,
        "funds/project_money.html",
        {
            "title": _("Project money"),
            "f": f,
            "statuses": S.choices,
            "years": _years(user),
            "page": listed,
            "query": query,
            "total": listed.paginator.count,
            "rows": [
                {
                    "p": p,
                    "budget": format_yuan(m.budget),
                    "allocated": format_yuan(m.allocated),
                    "disbursed": format_yuan(m.disbursed),
                    "remaining": format_yuan(m.remaining),
                    "score": getattr(getattr(p, "evaluation", None), "score", None),
                }
                for p in projects
                for m in [money[p.pk]]
            ],
            "may_post": selectors.may_post(user),
        },
    )


@funds_view("GET", "HEAD")
def project_money_export(request: HttpRequest) -> HttpResponse:
    """Download the fund projects as filtered."""
    user: Any = request.user
    _f, rows = _listed(request)
    projects = list(rows.select_related("evaluation"))
    money = reads.money_of(user, projects)
    data = []
    for p in projects:
        m = money[p.pk]
        ev = getattr(p, "evaluation", None)
        data.append(
            [
                p.pk,
                f"{p.school_year}-{p.school_year + 1}",
                p.name,
                p.source,
                p.programme,
                STATUS_CN.get(p.status, p.status),
                float(m.budget),
                float(m.allocated),
                float(m.disbursed),
                float(m.remaining),
                float(ev.score) if ev else "",
                GRADES_CN[ev.grade] if ev else "",
                p.set_up_on.isoformat(),
                p.approved_on.isoformat() if p.approved_on else "",
            ]
        )
    headers = [
        "编号",
        "学年",
        "项目名称",
        "学校项目",
        "资金项目代码",
        "状态",
        "预算",
        "已拨付",
        "已支付",
        "预算余额",
        "绩效得分",
        "绩效等级",
        "立项日期",
        "审批日期",
    ]
    audit_record(
        actor=user, action="funds.export_project_money", target=None, data={"rows": len(data)}
    )
    return _download(
        xlsx.workbook([xlsx.Sheet("项目资金一览表", headers, data)]), "project-money.xlsx"
    )


@funds_view("GET", "HEAD", "POST")
def project_money_new(request: HttpRequest) -> Any:
    """Set up (立项) a project's money: the aid centre only."""
    user: Any = request.user
    if not selectors.may_post(user):
        return forbidden(request, P.PAY)
    form = SetUpForm(
        initial={
            "school_year": working_year(selectors.county_of(user)),
            "set_up_on": timezone.localdate(),
            "source": str(request.GET.get("source", ""))[:80],
        }
    )
    status = 200
    if request.method == "POST":
        form = SetUpForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                fp = writes.fund_project_set_up(
                    actor=user,
                    name=d["name"],
                    school_year=d["school_year"],
                    budget=d["budget"],
                    source=d["source"],
                    purpose=d["purpose"],
                    document=d["document"],
                    set_up_on=d["set_up_on"],
                )
            except PermissionDenied:
                return forbidden(request, P.PAY)
            except ValidationError as exc:
                form.add_error(None, exc)
                status = 400
            else:
                messages.success(request, _("The project is set up; another officer approves it."))
                return redirect("funds:project-money-detail", fund_project_id=fp.pk)
        else:
            status = 400
    return _render(
        request,
        "funds/project_money_new.html",
        {"title": _("Set up a project"), "form": form},
        status=status,
    )


# --- One project ---------------------------------------------------------------------------


def _disbursement_rows(items: Sequence[Any]) -> list[dict[str, Any]]:
    return [{"d": d, "amount": format_yuan(d.amount)} for d in items]


@funds_view("GET", "HEAD", "POST")
def project_money_detail(request: HttpRequest, fund_project_id: int) -> Any:
    """One project: its money, disbursements and evaluation; the aid centre approves it,
    allocates money to it and disburses (preview, then confirm)."""
    user: Any = request.user
    fp = reads.fund_project_get(user, fund_project_id)
    today = timezone.localdate()
    forms_ = {
        "approve": ApproveForm(initial={"approved_on": today}),
        "allocate": AllocateForm(initial={"received_on": today}),
        "disburse": DisburseForm(initial={"paid_on": today}),
    }
    preview: dict[str, Any] | None = None
    action = ""
    status = 200
    if request.method == "POST":
        if not selectors.may_post(user):
            return forbidden(request, P.PAY)
        action = str(request.POST.get("action", ""))
        if action not in forms_:
            return redirect("funds:project-money-detail", fund_project_id=fp.pk)
        form_class = {"approve": ApproveForm, "allocate": AllocateForm, "disburse": DisburseForm}
        form = form_class[action](request.POST)
        forms_[action] = form
        if not form.is_valid():
            status = 400
        elif action == "approve" or request.POST.get("confirm") == "1":
            try:
                done = _act(user, fp, action, form.cleaned_data)
            except PermissionDenied:
                return forbidden(request, P.PAY)
            except ValidationError as exc:
                form.add_error(None, exc)
                status = 400
            else:
                messages.success(request, done)
                return redirect("funds:project-money-detail", fund_project_id=fp.pk)
        else:
            preview = _preview(user, fp, action, form.cleaned_data)
    money = reads.money_of(user, [fp])[fp.pk]
    evaluation = reads.evaluation_of(user, fp)
    may_post = selectors.may_post(user)
    return _render(
        request,
        "funds/project_money_detail.html",
        {
            "title": fp.name,
            "fp": fp,
            "m": {
                name: format_yuan(getattr(money, name))
                for name in (
                    "budget",
                    "allocated",
                    "disbursed",
                    "available",
                    "remaining",
                    "unallocated",
                )
            },
            "disbursements": _disbursement_rows(reads.disbursements(user, fp)),
            "evaluation": evaluation,
            "indicators": list(evaluation.indicators.all()) if evaluation else [],
            "grade": _grades()[evaluation.grade] if evaluation else "",
            "forms": forms_,
            "action": action,
            "preview": preview,
            "node_suggestions": NODE_SUGGESTIONS,
            "may_approve": may_post and fp.status == S.SET_UP and fp.set_up_by_id != user.pk,
            "awaits_other": may_post and fp.status == S.SET_UP and fp.set_up_by_id == user.pk,
            "may_pay": may_post and fp.status in (S.APPROVED, S.IMPLEMENTING),
            "may_evaluate": may_post and fp.status == S.IMPLEMENTING,
        },
        status=status,
    )


def _act(user: Any, fp: FundProject, action: str, d: dict[str, Any]) -> str:
    """Do what the confirmed form asks; return the message to show."""
    if action == "approve":
        writes.fund_project_approve(
            actor=user,
            fund_project_id=fp.pk,
            document=d["document"],
            approved_on=d["approved_on"],
        )
        return _("The project is approved.")
    if action == "allocate":
        writes.fund_project_allocate(
            actor=user,
            fund_project_id=fp.pk,
            amount=d["amount"],
            note=d["note"],
            channel=d["channel"],
            received_on=d["received_on"],
        )
        return _("The allocation is posted to the ledger.")
    writes.disbursement_record(
        actor=user,
        fund_project_id=fp.pk,
        amount=d["amount"],
        paid_on=d["paid_on"],
        node_label=d["node_label"],
        node=d["node"],
        payee=d["payee"],
        document=d["document"],
    )
    return _("The disbursement is paid and posted to the ledger.")


def _preview(user: Any, fp: FundProject, action: str, d: dict[str, Any]) -> dict[str, Any]:
    """Say what confirming would do, and whether the budget or the allocation refuses it."""
    money = reads.money_of(user, [fp])[fp.pk]
    amount: Decimal = d["amount"]
    if action == "allocate":
        source = ledger.channel_labels()[d["channel"]] if d["channel"] else _("The pooled account")
        warning = ""
        if money.allocated + amount > money.budget:
            warning = _("This is more than the budget leaves to allocate; it will be refused.")
        elif not d["channel"] and amount > selectors.pool_balance(user):
            warning = _("The pooled account holds less than this; it will be refused.")
        return {
            "text": _(
                "%(amount)s yuan from %(source)s will be allocated to this project, which will "
                "then have %(after)s yuan allocated of its %(budget)s yuan budget. Nothing is "
                "posted until you confirm."
            )
            % {
                "amount": format_yuan(amount),
                "source": source,
                "after": format_yuan(money.allocated + amount),
                "budget": format_yuan(money.budget),
            },
            "warning": warning,
        }
    warning = ""
    if amount > money.remaining:
        warning = _("This is more than the budget leaves; it will be refused.")
    elif amount > money.available:
        warning = _("This is more than was allocated and not yet paid; it will be refused.")
    return {
        "text": _(
            "%(amount)s yuan will be paid to %(payee)s against the time node %(node)s. The "
            "project will then have disbursed %(after)s yuan of its %(budget)s yuan budget, and "
            "its programme will hold %(left)s yuan. Nothing is paid until you confirm."
        )
        % {
            "amount": format_yuan(amount),
            "payee": d["payee"],
            "node": d["node_label"],
            "after": format_yuan(money.disbursed + amount),
            "budget": format_yuan(money.budget),
            "left": format_yuan(money.available - amount),
        },
        "warning": warning,
    }


# --- The evaluation ------------------------------------------------------------------------


@funds_view("GET", "HEAD", "POST")
def project_money_evaluate(request: HttpRequest, fund_project_id: int) -> Any:
    """Record the performance evaluation: indicators, the score they give (preview), confirm."""
    user: Any = request.user
    fp = reads.fund_project_get(user, fund_project_id)
    if not selectors.may_post(user):
        return forbidden(request, P.PAY)
    form = EvaluationForm(initial={"evaluated_on": timezone.localdate()})
    formset = IndicatorFormSet(prefix="ind")
    preview: dict[str, Any] | None = None
    status = 200
    if request.method == "POST":
        form = EvaluationForm(request.POST)
        formset = IndicatorFormSet(request.POST, prefix="ind")
        rows: list[writes.IndicatorRow] = []
        problem: ValidationError | None = None
        if form.is_valid() and formset.is_valid():
            try:
                for f in formset:
                    row = f.row()
                    if row is not None:
                        rows.append(row)
                writes.check_indicators(rows)
            except ValidationError as exc:
                problem = exc
        else:
            problem = ValidationError(_("Check the rows marked."))
        if problem is not None:
            form.add_error(None, problem)
            status = 400
        elif request.POST.get("confirm") == "1":
            try:
                writes.evaluation_record(
                    actor=user,
                    fund_project_id=fp.pk,
                    indicators=rows,
                    conclusion=form.cleaned_data["conclusion"],
                    evaluated_on=form.cleaned_data["evaluated_on"],
                )
            except PermissionDenied:
                return forbidden(request, P.PAY)
            except ValidationError as exc:
                form.add_error(None, exc)
                status = 400
            else:
                messages.success(request, _("The evaluation is recorded."))
                return redirect("funds:project-money-detail", fund_project_id=fp.pk)
        else:
            score = writes.evaluation_score(rows)
            preview = {
                "rows": rows,
                "score": score,
                "grade": _grades()[Evaluation(score=score).grade],
            }
    return _render(
        request,
        "funds/project_money_evaluate.html",
        {
            "title": _("Evaluate %(name)s") % {"name": fp.name},
            "fp": fp,
            "form": form,
            "formset": formset,
            "preview": preview,
            "may_evaluate": fp.status == S.IMPLEMENTING,
        },
        status=status,
    )


@funds_view("GET", "HEAD")
def project_money_pdf(request: HttpRequest, fund_project_id: int) -> HttpResponse:
    """Download the evaluation report (PDF, in Chinese)."""
    user: Any = request.user
    fp = reads.fund_project_get(user, fund_project_id)
    evaluation = reads.evaluation_of(user, fp)
    if evaluation is None:
        messages.error(request, _("The project is not yet evaluated."))
        return redirect("funds:project-money-detail", fund_project_id=fp.pk)
    money = reads.money_of(user, [fp])[fp.pk]
    content = evaluation_pdf(fp, evaluation, money, on=timezone.localdate())
    audit_record(actor=user, action="funds.project_evaluation_pdf", target=evaluation)
    return attachment(content, f"project-evaluation-{fp.pk}.pdf", "application/pdf")


def _cn(day: dt.date | None) -> str:
    return official_date(day) if day else "—"


def _num(value: Decimal) -> str:
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"


def evaluation_pdf(
    fp: FundProject, evaluation: Evaluation, money: reads.ProjectMoney, *, on: dt.date
) -> bytes:
    """Return the performance evaluation report of a project's money (项目资金绩效评价报告)."""
    font = cjk_font()
    title = ParagraphStyle("title", fontName=font, fontSize=18, leading=26, alignment=TA_CENTER)
    plain = ParagraphStyle("plain", fontName=font, fontSize=11, leading=17, wordWrap="CJK")
    small = ParagraphStyle("small", fontName=font, fontSize=9.5, leading=13, wordWrap="CJK")
    head = ParagraphStyle("head", fontName=font, fontSize=12.5, leading=20, spaceBefore=6)

    def para(text: str, style: ParagraphStyle) -> Paragraph:
        return Paragraph(escape(printable(text, font)), style)

    def grid(rows: list[list[str]], widths: list[float]) -> Table:
        table = Table(
            [[para(c, small) for c in row] for row in rows],
            colWidths=[w * mm for w in widths],
            repeatRows=1,
        )
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E6E6E6")),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        return table

    facts = [
        ["项目名称", fp.name, "学年", f"{fp.school_year}—{fp.school_year + 1}学年"],
        ["立项文件", fp.set_up_document or "—", "立项日期", _cn(fp.set_up_on)],
        ["审批文件", fp.approval_document or "—", "审批日期", _cn(fp.approved_on)],
        ["预算（元）", format_yuan(money.budget), "已拨付（元）", format_yuan(money.allocated)],
        [
            "已支付（元）",
            format_yuan(money.disbursed),
            "预算余额（元）",
            format_yuan(money.remaining),
        ],
    ]
    indicators = list(evaluation.indicators.all())
    rows = [["序号", "类别", "指标", "目标值", "实际值", "单位", "权重", "得分"]]
    for n, ind in enumerate(indicators, start=1):
        rows.append(
            [
                str(n),
                CATEGORIES_CN.get(ind.category, ind.category),
                ind.name,
                _num(Decimal(ind.target)),
                _num(Decimal(ind.actual)),
                ind.unit or "—",
                _num(Decimal(ind.weight)),
                f"{ind.points:.2f}",
            ]
        )
    rows.append(["合计", "", "", "", "", "", "100", f"{evaluation.score:.2f}"])
    story: list[object] = [
        para("项目资金绩效评价报告", title),
        Spacer(1, 6 * mm),
        para("一、项目基本情况", head),
        grid(facts, [26, 66, 26, 62]),
        para("二、绩效指标及评分", head),
        grid(rows, [11, 22, 50, 20, 20, 15, 16, 18]),
        Spacer(1, 2 * mm),
        para(
            "评分规则：每项指标得分＝权重×min（实际值÷目标值，1），保留两位小数；"
            "各项权重合计100分，总分为各项得分之和。等级：90分及以上为优，80（含）至90分为良，"
            "60（含）至80分为中，60分以下为差。",
            small,
        ),
        para("三、评价结论", head),
        para(
            f"总分{evaluation.score:.2f}分，评价等级：{GRADES_CN[evaluation.grade]}。",
            plain,
        ),
        para(evaluation.conclusion or "", plain),
        Spacer(1, 8 * mm),
        para(
            f"评价人：{evaluation.evaluated_by.get_full_name() or evaluation.evaluated_by.get_username()}"
            f"　　评价日期：{_cn(evaluation.evaluated_on)}　　打印日期：{_cn(on)}",
            plain,
        ),
    ]
    return pdf_bytes(story, pagesize=A4, side_mm=15, top_mm=20)


urlpatterns = [
    path("project-money/", project_money, name="project-money"),
    path("project-money.xlsx", project_money_export, name="project-money-xlsx"),
    path("project-money/new/", project_money_new, name="project-money-new"),
    path(
        "project-money/<int:fund_project_id>/",
        project_money_detail,
        name="project-money-detail",
    ),
    path(
        "project-money/<int:fund_project_id>/evaluate/",
        project_money_evaluate,
        name="project-money-evaluate",
    ),
    path(
        "project-money/<int:fund_project_id>/evaluation.pdf",
        project_money_pdf,
        name="project-money-pdf",
    ),
]
