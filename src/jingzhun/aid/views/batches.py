"""Student aid pages: payment batches, bank files, allocations and loans."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jingzhun.aid import documents, selectors, selectors_ui, services, wording
from jingzhun.aid.models import Loan
from jingzhun.aid.views.common import (
    MAX_RETURN_FILE,
    _back,
    _choices,
    _errors,
    _forbidden,
    _language,
    _page,
    _period,
    _period_context,
    aid_view,
)
from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.crypto import mask_account
from jingzhun.core.listing import ListParams, paginate
from jingzhun.core.money import format_yuan
from jingzhun.core.periods import SemesterKind
from jingzhun.core.uploads import UploadField
from jingzhun.funds import ledger
from jingzhun.funds import selectors as funds_selectors
from jingzhun.funds import services as funds
from jingzhun.funds.models import Payment, PaymentBatch
from jingzhun.schools.naming import class_of, class_of_zh
from jingzhun.schools.selectors import list_choices

# --------------------------------------------------------------------------- payment


class BatchForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("School year"), min_value=2000, max_value=2100)
    semester = forms.ChoiceField(label=gettext_lazy("Semester"), choices=SemesterKind.choices)
    key = forms.CharField(widget=forms.HiddenInput, max_length=80)


@aid_view("GET", "POST")
def batches(request: HttpRequest) -> HttpResponse:
    """List the payment batches; the aid centre makes a semester's batch."""
    user: Any = request.user
    period = _period(request.GET, request.user)
    form = BatchForm(
        initial={"year": period.school_year, "semester": period.semester, "key": uuid.uuid4().hex}
    )
    if request.method == "POST":
        if not selectors.may_pay(user):
            return _forbidden(request, P.PAY)
        form = BatchForm(request.POST)
        if form.is_valid():
            try:
                made = services.aid_batch_make(
                    actor=user,
                    school_year=form.cleaned_data["year"],
                    semester=form.cleaned_data["semester"],
                    idempotency_key=form.cleaned_data["key"],
                )
            except PermissionDenied:
                return _forbidden(request, P.PAY)
            except ValidationError as exc:
                _errors(request, exc)
                return redirect("aid:batches")
            batch = made.batch
            if made.created:
                messages.success(request, _("Batch %(ref)s is ready.") % {"ref": batch.reference})
            else:  # the same form sent again (a double click, a second tab)
                messages.info(
                    request,
                    _("Already done: batch %(ref)s was made from this form; nothing was added.")
                    % {"ref": batch.reference},
                )
            return redirect("aid:batch", payment_batch_id=batch.pk)
    params = ListParams.read(request.GET, statuses=PaymentBatch.Status.values)
    rows = params.apply(selectors.batch_list(user=user), status="status")
    page = paginate(request.GET, rows)
    for b in page.object_list:
        b.words = wording.batch_words(b.status)
    return _page(
        request,
        "aid/batches.html",
        {
            "title": _("Payment batches"),
            "active": "batches",
            **_period_context(period),
            "batches": page,
            "lp": params,
            "choices": list_choices(
                user=user,
                params=params,
                statuses=[(v, wording.batch_words(v)) for v in PaymentBatch.Status.values],
                places=False,
                search=False,
            ),
            "list_query": params.query(),
            "may_pay": selectors.may_pay(user),
            "form": form,
        },
    )


class ReturnForm(forms.Form):
    file = UploadField(
        label=gettext_lazy("Bank return file (.xlsx or .csv)"), max_bytes=MAX_RETURN_FILE
    )


def _batch_post(request: HttpRequest, batch: PaymentBatch) -> Any:
    """Approve a batch or apply a bank return file; return a response or the form with errors."""
    user: Any = request.user
    if not selectors.may_pay(user):
        return _forbidden(request, P.PAY)
    action = request.POST.get("action", "")
    try:
        if action == "approve":
            funds.payment_batch_approve(actor=user, batch_id=batch.pk)
            messages.success(request, _("The batch is approved."))
        elif action == "return":
            form = ReturnForm(request.POST, request.FILES)
            if not form.is_valid():
                return form
            upload = form.cleaned_data["file"]  # at most MAX_RETURN_FILE: the form checks
            record = funds.bank_return_apply(
                actor=user, batch_id=batch.pk, data=upload.read(), file_name=upload.name
            )
            counts = record.counts
            messages.success(
                request,
                _(
                    "Read %(rows)d rows: %(paid)d paid, %(failed)d failed, %(mismatches)d not matched."
                )
                % {
                    "rows": counts.get("rows", 0),
                    "paid": counts.get("paid", 0),
                    "failed": counts.get("failed", 0),
                    "mismatches": counts.get("mismatches", 0),
                },
            )
        else:
            raise ValidationError(_("Choose what to do."))
    except PermissionDenied:
        return _forbidden(request, P.PAY)
    except ValidationError as exc:
        _errors(request, exc)
    return redirect("aid:batch", payment_batch_id=batch.pk)


def _control_rows(rows: dict[str, dict[str, Any]], names: dict[Any, str]) -> list[dict[str, Any]]:
    return [
        {
            "key": key,
            "name": names.get(int(key) if key.isdigit() and len(key) < 9 else key, key or "—"),
            "count": value.get("count", 0),
            "amount": format_yuan(Decimal(value.get("amount", "0"))),
        }
        for key, value in rows.items()
    ]


@aid_view("GET", "POST")
def batch_detail(request: HttpRequest, payment_batch_id: int) -> HttpResponse:
    """Show a batch: control totals, what is not paid and why, payments, bank files, returns."""
    user: Any = request.user
    batch = selectors.get_batch(user=user, batch_id=payment_batch_id)
    return_form = ReturnForm()
    status = 200
    if request.method == "POST":
        outcome = _batch_post(request, batch)
        if isinstance(outcome, HttpResponseBase):
            return outcome  # type: ignore[return-value]
        return_form, status = outcome, 400
    _version, book = selectors.current_book(user=user, school_year=batch.school_year)
    labels = selectors_ui.book_labels(book, _language())
    control = batch.control or {}
    schools = selectors_ui.school_names(
        user=user,
        school_ids=[*control.get("by_school", {}), *(g.get("school") for g in batch.gaps)],
    )
    townships = selectors_ui.area_names(user=user, codes=control.get("by_township", {}))
    students = selectors_ui.student_names(
        user=user, student_ids=(g.get("student") for g in batch.gaps)
    )
    gaps = [
        {
            "student": students.get(g.get("student"), "—"),
            "student_id": g.get("student"),
            "school": schools.get(g.get("school"), "—"),
            "programme": labels.get(g.get("programme", ""), g.get("programme", "")),
            "amount": format_yuan(Decimal(g.get("amount") or "0")),
            "reason": str(selectors.GAP_REASONS.get(g.get("reason", ""), g.get("reason", ""))),
        }
        for g in batch.gaps
    ]
    params = ListParams.read(
        request.GET, statuses=Payment.Status.values, reasons=list(control.get("by_programme", {}))
    )
    payments = paginate(
        request.GET, selectors_ui.batch_payments(user=user, batch=batch, params=params)
    )
    choices = list_choices(
        user=user,
        params=params,
        school_year=batch.school_year,
        statuses=_payment_states(),
        reasons=sorted(
            ((code, labels.get(code, code)) for code in control.get("by_programme", {})),
            key=lambda kv: kv[1],
        ),
    )
    return _page(
        request,
        "aid/batch_detail.html",
        {
            "title": _("Payment batch %(ref)s") % {"ref": batch.reference},
            "active": "batches",
            "batch": batch,
            "period_label": wording.period_label(batch.school_year, batch.semester),
            "total": format_yuan(Decimal(control.get("amount", "0"))),
            "count": control.get("count", 0),
            "by_programme": [
                {**r, "name": labels.get(r["key"], r["key"])}
                for r in _control_rows(control.get("by_programme", {}), {})
            ],
            "by_school": _control_rows(control.get("by_school", {}), schools),
            "by_township": _control_rows(control.get("by_township", {}), townships),
            "gaps": gaps,
            "book_year": batch.school_year,
            "batch_words": wording.batch_words(batch.status),
            "payments": payments,
            "payment_rows": _payment_rows(user, batch, list(payments.object_list), labels),
            "lp": params,
            "choices": choices,
            "list_query": params.query(),
            "export_url": reverse("aid:batch-xlsx", kwargs={"payment_batch_id": batch.pk}),
            "returns": selectors_ui.return_list(user=user, batch=batch),
            "may_pay": selectors.may_pay(user),
            "return_form": return_form,
        },
        status=status,
    )


def _payment_states() -> list[tuple[str, str]]:
    return [
        ("pending", _("Not yet settled by the bank")),
        ("paid", _("Paid")),
        ("failed", _("Failed")),
    ]


def _payment_rows(
    user: Any, batch: PaymentBatch, payments: list[Payment], labels: dict[str, str]
) -> list[dict[str, Any]]:
    """Return payments as the batch page lists them: one row per student and programme, with
    the account holder beside the student and siblings on one card marked."""
    students = selectors_ui.payment_students(user=user, payments=payments)
    shared = selectors_ui.siblings_on_account(
        user=user, batch=batch, accounts=(p.account_index for p in payments)
    )
    rows = []
    for p in payments:
        who = students.get(p.pk)
        rows.append(
            {
                "p": p,
                "student": who.name if who else (p.beneficiary or "—"),
                "student_id": who.student_id if who else None,
                "class": class_of(who.school_class) if who else "",
                "programme": labels.get(p.programme, p.programme),
                "amount": format_yuan(p.amount),
                "account": mask_account(p.account_masked),
                "siblings": shared.get(p.account_index, 0),
                "state": wording.payment_words(
                    batch_status=batch.status,
                    status=p.status,
                    settled_at=p.settled_at,
                    reason=p.bank_reason,
                ),
            }
        )
    return rows


@aid_view("GET", "HEAD")
def batch_download(request: HttpRequest, payment_batch_id: int) -> HttpResponse:
    """Download the batch's payments by student, exactly the rows the page's filters keep.

    Account numbers stay masked: the whole numbers go only into the bank file.
    """
    user: Any = request.user
    batch = selectors.get_batch(user=user, batch_id=payment_batch_id)
    _version, book = selectors.current_book(user=user, school_year=batch.school_year)
    labels = selectors_ui.book_labels(book, "zh-hans")
    control = batch.control or {}
    params = ListParams.read(
        request.GET, statuses=Payment.Status.values, reasons=list(control.get("by_programme", {}))
    )
    payments = list(selectors_ui.batch_payments(user=user, batch=batch, params=params))
    students = selectors_ui.payment_students(user=user, payments=payments)
    states = {"pending": "待银行处理", "paid": "已支付", "failed": "失败"}
    rows: list[list[Any]] = []
    for p in payments:
        who = students.get(p.pk)
        rows.append(
            [
                who.name if who else p.beneficiary,
                p.school.name if p.school else "",
                class_of_zh(who.school_class) if who else "",
                labels.get(p.programme, p.programme),
                p.amount,
                p.payee_name,
                mask_account(p.account_masked),
                p.reference,
                states.get(p.status, p.status) + (f":{p.bank_reason}" if p.bank_reason else ""),
            ]
        )
    sheet = documents.CoverageSheet(
        title=f"{batch.reference} 发放明细",
        headers=[
            "学生",
            "学校",
            "班级",
            "资助项目",
            "金额",
            "收款人(户名)",
            "账号",
            "参考号",
            "状态",
        ],
        rows=rows,
    )
    audit_record(
        actor=user,
        action="funds.batch_export",
        target=batch,
        request=request,
        data={"count": len(rows), "filters": params.query()},
    )
    response = HttpResponse(
        documents.coverage_xlsx([sheet]),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{batch.reference}-payments.xlsx"'
    return response


@login_required
@require_POST
def bank_file(request: HttpRequest, payment_batch_id: int, fmt: str) -> HttpResponseBase:
    """Download the bank file of an approved batch (whole account numbers; marks it sent).

    A POST, not a GET: the export changes the batch's state and is logged.
    """
    user: Any = request.user
    if not user.can(P.VIEW):
        return _forbidden(request, P.VIEW)
    batch = selectors.get_batch(user=user, batch_id=payment_batch_id)
    if not selectors.may_pay(user):
        return _forbidden(request, P.PAY)
    _version, book = selectors.current_book(user=user, school_year=batch.school_year)
    try:
        name, content = funds.bank_file_export(
            actor=user, batch_id=batch.pk, fmt=fmt, labels=selectors_ui.book_labels(book, "zh-hans")
        )
    except PermissionDenied:
        return _forbidden(request, P.PAY)
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("aid:batch", payment_batch_id=batch.pk)
    mime = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(content, content_type=mime)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


class AllocationForm(forms.Form):
    programme = forms.ChoiceField(label=gettext_lazy("Programme"))
    channel = forms.ChoiceField(label=gettext_lazy("From"))
    amount = forms.DecimalField(
        label=gettext_lazy("Amount (yuan)"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )
    note = forms.CharField(label=gettext_lazy("Document or note"), max_length=200, required=False)

    def __init__(self, *args: Any, programmes: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["programme"].choices = programmes  # type: ignore[attr-defined]
        names = ledger.channel_labels()
        self.fields["channel"].choices = [  # type: ignore[attr-defined]
            ("", _("The pooled account (money already received)")),
            *(
                (c, _("Received now from: %(channel)s") % {"channel": names[c]})
                for c in ledger.CHANNELS
            ),
        ]
        self.fields["channel"].required = False


@aid_view("GET", "POST")
def allocations(request: HttpRequest) -> HttpResponse:
    """List the funds allocated per programme for a school year; the aid centre records them."""
    user: Any = request.user
    period = _period(request.GET, request.user)
    _version, book = selectors.current_book(user=user, school_year=period.school_year)
    language = _language()
    cash = [
        (p.code, p.label(language))
        for p in (book.programmes.values() if book is not None else [])
        if p.kind == "cash"
    ]
    form = AllocationForm(programmes=cash)
    if request.method == "POST":
        if not selectors.may_pay(user):
            return _forbidden(request, P.PAY)
        form = AllocationForm(request.POST, programmes=cash)
        if form.is_valid():
            try:
                funds.allocation_record(
                    actor=user,
                    school_year=period.school_year,
                    programme=form.cleaned_data["programme"],
                    amount=form.cleaned_data["amount"],
                    note=form.cleaned_data["note"],
                    channel=form.cleaned_data["channel"],
                )
            except PermissionDenied:
                return _forbidden(request, P.PAY)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.success(request, _("The allocation is recorded."))
            return _back("aid:allocations", period)
    labels = selectors_ui.book_labels(book, language)
    channels = ledger.channel_labels()
    rows = selectors.allocation_list(user=user, school_year=period.school_year).select_related(
        "recorded_by"
    )
    return _page(
        request,
        "aid/allocations.html",
        {
            "title": _("Allocations"),
            "active": "allocations",
            **_period_context(period),
            "rows": [
                {
                    "a": a,
                    "programme": labels.get(a.programme, a.programme),
                    "amount": format_yuan(a.amount),
                    "channel": channels.get(a.channel, "") if a.channel else _("Pooled account"),
                }
                for a in rows
            ],
            "pool": (
                format_yuan(funds_selectors.pool_balance(user))
                if funds_selectors.may_read(user)
                else None
            ),
            "may_pay": selectors.may_pay(user),
            "form": form,
        },
        status=400 if form.is_bound else 200,
    )


class LoanForm(forms.Form):
    student = forms.TypedChoiceField(label=gettext_lazy("Student"), coerce=int)
    bank = forms.CharField(label=gettext_lazy("Bank"), max_length=100)
    amount = forms.DecimalField(
        label=gettext_lazy("Amount (yuan)"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )
    term_years = forms.IntegerField(label=gettext_lazy("Term (years)"), min_value=1, max_value=25)

    def __init__(self, *args: Any, students: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["student"].choices = students  # type: ignore[attr-defined]


@aid_view("GET", "POST")
def loans(request: HttpRequest) -> HttpResponse:
    """List student-origin loans; the aid centre records a contracted loan."""
    user: Any = request.user
    period = _period(request.GET, request.user)
    may_manage = selectors.may_manage(user)
    students = (
        [
            (s.pk, s.name)
            for s in selectors_ui.loan_candidates(user=user, school_year=period.school_year)
        ]
        if may_manage
        else []
    )
    form = LoanForm(students=students)
    if request.method == "POST":
        if not may_manage:
            return _forbidden(request, P.AID_MANAGE)
        form = LoanForm(request.POST, students=students)
        if form.is_valid():
            try:
                services.loan_record(
                    actor=user,
                    student_id=form.cleaned_data["student"],
                    school_year=period.school_year,
                    bank=form.cleaned_data["bank"],
                    amount=form.cleaned_data["amount"],
                    term_years=form.cleaned_data["term_years"],
                )
            except PermissionDenied:
                return _forbidden(request, P.AID_MANAGE)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.success(request, _("The loan is recorded."))
            return _back("aid:loans", period)
    params = ListParams.read(request.GET, statuses=Loan.Degree.values, extra=("year",))
    loans_page = paginate(
        request.GET,
        params.apply(
            selectors.loan_list(user=user).filter(school_year=period.school_year),
            township="village_code",
            school="school_id",
            status="degree",
            names=("student__name",),
        ).order_by("student__name", "id"),
    )
    return _page(
        request,
        "aid/loans.html",
        {
            "title": _("Student-origin loans"),
            "active": "loans",
            **_period_context(period),
            "loans": loans_page,
            "lp": params,
            "choices": list_choices(
                user=user,
                params=params,
                school_year=period.school_year,
                statuses=_choices(Loan.Degree.choices),
            ),
            "list_query": params.query(),
            "degrees": dict(Loan.Degree.choices),
            "may_manage": may_manage,
            "form": form,
        },
        status=400 if form.is_bound else 200,
    )
