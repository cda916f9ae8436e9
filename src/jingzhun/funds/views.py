"""Fund ledger pages (III.2): programme balances, money in by channel, the journal, an entry and
its reversal, the trial balance at a date, and the trace of one payment from channel to card.

The books are the county's: users of the county with VIEW read them (the bureau leader and the
inspector among them, who also export); only the aid centre (PAY) records money in and reverses
an entry, each first shown as a preview and posted on confirmation. Every read goes through
:mod:`jingzhun.funds.selectors`, every write through :mod:`jingzhun.funds.services`. A user
below the county level gets the 403 page; an entry or payment of another county is a 404.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from jingzhun.core import permissions as P
from jingzhun.core import xlsx
from jingzhun.core.audit import audit_record
from jingzhun.core.downloads import attachment as _download
from jingzhun.core.errors import forbidden
from jingzhun.core.listing import paginate
from jingzhun.core.money import format_yuan
from jingzhun.core.pages import back_office_page, date_asked
from jingzhun.core.working_year import school_year_asked, working_year
from jingzhun.funds import ledger, reports, selectors, services
from jingzhun.funds.models import Account, JournalEntry, Overpayment

View = Callable[..., HttpResponseBase]


def _nav() -> list[tuple[str, str, str]]:
    return [
        ("home", _("Programme balances"), reverse("funds:home")),
        ("journal", _("Journal"), reverse("funds:journal")),
        ("trial", _("Trial balance"), reverse("funds:trial-balance")),
        ("reconciliation", _("Bank reconciliation"), reverse("funds:reconciliation")),
        ("trace", _("Trace a payment"), reverse("funds:trace")),
        ("overpayments", _("Overpayments"), reverse("funds:overpayments")),
        ("donations", _("Donations"), reverse("funds:donations")),
        ("projects", _("Project money"), reverse("funds:project-money")),
    ]


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> Any:
    return back_office_page(request, template, context, tabs=_nav(), status=status)


def funds_view(*methods: str) -> Callable[[View], View]:
    """Require a login, the given methods and a user who may read the county's books."""

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not selectors.may_read(request.user):
                return forbidden(request, P.VIEW)
            return view(request, *args, **kwargs)

        return login_required(require_http_methods(list(methods))(inner))

    return wrap


def _year(request: HttpRequest) -> int:
    return school_year_asked(request.GET, request.user)


def labels_for(county: str, years: Any) -> dict[str, str]:
    """Return programme code -> name for the school years given (each asked once)."""
    out: dict[str, str] = {}
    for year in sorted({y for y in years if y is not None}):
        out.update(ledger.programme_labels(county, year))
    return out


def account_name(acc: Account, labels: dict[str, str] | None = None) -> str:
    """Return an account's name in the reader's language."""
    kind = acc.get_kind_display()
    if acc.kind == Account.Kind.CHANNEL:
        return f"{kind} · {ledger.channel_labels().get(acc.channel, acc.channel)}"
    if acc.school_year is not None:
        programme = (labels or {}).get(acc.programme, acc.programme)
        return f"{kind} · {acc.school_year}–{acc.school_year + 1} · {programme}"
    return str(kind)


class TransferForm(forms.Form):
    channel = forms.ChoiceField(label=gettext_lazy("Channel"))
    amount = forms.DecimalField(
        label=gettext_lazy("Amount (yuan)"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )
    received_on = forms.DateField(label=gettext_lazy("Received on"))
    document = forms.CharField(label=gettext_lazy("Document or note"), max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = ledger.channel_labels()
        self.fields["channel"].choices = [  # type: ignore[attr-defined]
            (c, names[c]) for c in ledger.CHANNELS
        ]


@funds_view("GET", "HEAD", "POST")
def home(request: HttpRequest) -> HttpResponse:
    """Programme balances of a school year, the pooled account, money in by channel; the aid
    centre records a transfer in (preview, then confirm)."""
    user: Any = request.user
    year = _year(request)
    form = TransferForm(initial={"received_on": timezone.localdate()})
    preview = None
    status = 200
    if request.method == "POST":
        if not selectors.may_post(user):
            return forbidden(request, P.PAY)
        form = TransferForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            if request.POST.get("confirm") == "1":
                try:
                    services.transfer_in_record(
                        actor=user,
                        channel=data["channel"],
                        amount=data["amount"],
                        received_on=data["received_on"],
                        document=data["document"],
                    )
                except PermissionDenied:
                    return forbidden(request, P.PAY)
                except ValidationError as exc:
                    form.add_error(None, exc)
                    status = 400
                else:
                    messages.success(request, _("The transfer is posted to the ledger."))
                    return redirect(f"{reverse('funds:home')}?year={year}")
            else:
                preview = {
                    "channel": ledger.channel_labels()[data["channel"]],
                    "amount": format_yuan(data["amount"]),
                    "pool_after": format_yuan(selectors.pool_balance(user) + data["amount"]),
                }
        else:
            status = 400
    rows = selectors.programme_balances(user, year)
    names = labels_for(selectors.county_of(user), [year])
    totals = {
        name: format_yuan(sum((getattr(r, name) for r in rows), Decimal("0.00")))
        for name in ("allocated", "reserved", "paid", "returned", "available")
    }
    return _page(
        request,
        "funds/home.html",
        {
            "title": _("Fund ledger"),
            "active": "home",
            "year": year,
            "years": list(range(max(year, working_year(selectors.county_of(user))) + 1, 2015, -1)),
            "pool": format_yuan(selectors.pool_balance(user)),
            "channels": [
                (ledger.channel_labels().get(c, c), format_yuan(a), f"{s * 100:.1f}%")
                for c, a, s in selectors.channel_totals(user, timezone.localdate())
            ],
            "rows": [
                {
                    "r": r,
                    "name": names.get(r.programme, r.programme),
                    **{
                        n: format_yuan(getattr(r, n))
                        for n in ("allocated", "reserved", "paid", "returned", "available")
                    },
                }
                for r in rows
            ],
            "totals": totals,
            "form": form,
            "preview": preview,
            "may_post": selectors.may_post(user),
        },
        status=status,
    )


@funds_view("GET", "HEAD")
def balances_export(request: HttpRequest) -> HttpResponse:
    """Download the programme balances of a school year."""
    user: Any = request.user
    year = _year(request)
    rows = selectors.programme_balances(user, year)
    data = [
        [
            f"{r.school_year}-{r.school_year + 1}",
            r.programme,
            *(
                float(getattr(r, n))
                for n in ("allocated", "reserved", "paid", "returned", "available")
            ),
        ]
        for r in rows
    ]
    headers = ["学年", "项目", "已拨付", "已审批待支付", "已支付", "银行退回", "可用余额"]
    audit_record(actor=user, action="funds.export_balances", target=None, data={"year": year})
    return _download(
        xlsx.workbook([xlsx.Sheet(f"{year}-{year + 1}学年项目资金余额", headers, data)]),
        f"programme-balances-{year}.xlsx",
    )


def _entry_filters(request: HttpRequest) -> dict[str, Any]:
    kind = str(request.GET.get("kind", ""))
    return {
        "kind": kind if kind in JournalEntry.Kind.values else "",
        "q": str(request.GET.get("q", ""))[:40].strip(),
    }


def _entries(request: HttpRequest) -> Any:
    f = _entry_filters(request)
    rows = selectors.journal(request.user)
    if f["kind"]:
        rows = rows.filter(kind=f["kind"])
    if f["q"]:
        rows = rows.filter(memo__icontains=f["q"]) | rows.filter(source__icontains=f["q"])
    return f, rows


def _entry_amount(entry: JournalEntry) -> Decimal:
    return sum((line.debit for line in entry.lines.all()), Decimal("0.00"))


@funds_view("GET", "HEAD")
def journal(request: HttpRequest) -> HttpResponse:
    """The journal, newest first, paged and filtered by kind and text."""
    f, rows = _entries(request)
    listed = paginate(request.GET, rows.prefetch_related("lines"))
    query = "&".join(f"{k}={v}" for k, v in f.items() if v)
    return _page(
        request,
        "funds/journal.html",
        {
            "title": _("Journal"),
            "active": "journal",
            "f": f,
            "kinds": JournalEntry.Kind.choices,
            "entries": listed,
            "lines": [{"e": e, "amount": format_yuan(_entry_amount(e))} for e in listed],
            "total": listed.paginator.count,
            "query": query,
        },
    )


@funds_view("GET", "HEAD")
def journal_export(request: HttpRequest) -> HttpResponse:
    """Download the journal as filtered, one row per line."""
    user: Any = request.user
    _f, rows = _entries(request)
    data = []
    names: dict[str, str] = {}
    seen: set[int] = set()
    for e in rows.prefetch_related("lines__account").iterator(chunk_size=2000):
        for line in e.lines.all():
            year = line.account.school_year
            if year is not None and year not in seen:
                seen.add(year)
                names.update(reports.labels_cn(e.county_code, [year]))
            data.append(
                [
                    e.pk,
                    e.posted_on.isoformat(),
                    e.get_kind_display(),
                    e.source,
                    e.memo,
                    reports.account_cn(line.account, names),
                    float(line.debit),
                    float(line.credit),
                ]
            )
    audit_record(actor=user, action="funds.export_journal", target=None, data={"rows": len(data)})
    headers = ["凭证号", "日期", "类别", "来源", "摘要", "科目", "借方", "贷方"]
    return _download(xlsx.workbook([xlsx.Sheet("资金日记账", headers, data)]), "journal.xlsx")


class ReverseForm(forms.Form):
    memo = forms.CharField(label=gettext_lazy("Why"), max_length=200)


@funds_view("GET", "HEAD", "POST")
def entry(request: HttpRequest, journal_entry_id: int) -> HttpResponse:
    """One entry and its lines; the aid centre reverses it (preview, then confirm)."""
    user: Any = request.user
    e = selectors.entry_get(user, journal_entry_id)
    form = ReverseForm()
    preview = False
    status = 200
    if request.method == "POST":
        if not selectors.may_post(user):
            return forbidden(request, P.PAY)
        form = ReverseForm(request.POST)
        if form.is_valid():
            if request.POST.get("confirm") == "1":
                try:
                    done = services.entry_reverse(
                        actor=user, entry_id=e.pk, memo=form.cleaned_data["memo"]
                    )
                except PermissionDenied:
                    return forbidden(request, P.PAY)
                except ValidationError as exc:
                    form.add_error(None, exc)
                    status = 400
                else:
                    messages.success(request, _("The reversal is posted."))
                    return redirect("funds:entry", journal_entry_id=done.pk)
            else:
                preview = True
        else:
            status = 400
    lines = list(e.lines.select_related("account"))
    names = labels_for(e.county_code, [line.account.school_year for line in lines])
    return _page(
        request,
        "funds/entry.html",
        {
            "title": _("Journal entry %(n)s") % {"n": e.pk},
            "active": "journal",
            "e": e,
            "lines": [
                {
                    "account": account_name(line.account, names),
                    "debit": format_yuan(line.debit) if line.debit else "",
                    "credit": format_yuan(line.credit) if line.credit else "",
                }
                for line in lines
            ],
            "total": format_yuan(sum((line.debit for line in lines), Decimal("0.00"))),
            "reversed_by": getattr(e, "reversed_by", None) if hasattr(e, "reversed_by") else None,
            "may_reverse": selectors.may_post(user)
            and e.kind != JournalEntry.Kind.REVERSAL
            and not hasattr(e, "reversed_by"),
            "form": form,
            "preview": preview,
        },
        status=status,
    )


@funds_view("GET", "HEAD")
def trial_balance(request: HttpRequest) -> HttpResponse:
    """Every account's debits, credits and balance up to a date; the totals must agree."""
    on = date_asked(request.GET)
    tb = selectors.trial_balance(request.user, on)
    names = labels_for(selectors.county_of(request.user), [r.account.school_year for r in tb.rows])
    return _page(
        request,
        "funds/trial_balance.html",
        {
            "title": _("Trial balance"),
            "active": "trial",
            "on": on,
            "tb": tb,
            "rows": [
                {
                    "name": account_name(r.account, names),
                    "debit": format_yuan(r.debit),
                    "credit": format_yuan(r.credit),
                    "dr": format_yuan(r.balance) if r.balance > 0 else "",
                    "cr": format_yuan(-r.balance) if r.balance < 0 else "",
                }
                for r in tb.rows
            ],
            "totals": {
                "debit": format_yuan(tb.total_debit),
                "credit": format_yuan(tb.total_credit),
                "dr": format_yuan(tb.debit_balances),
                "cr": format_yuan(tb.credit_balances),
            },
        },
    )


@funds_view("GET", "HEAD")
def trial_balance_export(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    on = date_asked(request.GET)
    tb = selectors.trial_balance(user, on)
    audit_record(
        actor=user, action="funds.export_trial_balance", target=None, data={"on": on.isoformat()}
    )
    return _download(xlsx.workbook([reports.trial_balance_sheet(tb)]), f"trial-balance-{on}.xlsx")


@funds_view("GET", "HEAD")
def trace(request: HttpRequest) -> HttpResponse:
    """The trace of one payment, by its reference: channel → pool → programme → card."""
    user: Any = request.user
    reference = str(request.GET.get("payment", ""))[:40].strip()
    found = None
    names: dict[str, str] = {}
    if reference:
        found = selectors.trace(user, reference)
        names = labels_for(found.batch.county_code, [found.batch.school_year])
        audit_record(
            actor=user, action="funds.trace", target=found.payment, data={"reference": reference}
        )
    return _page(
        request,
        "funds/trace.html",
        {
            "title": _("Trace a payment"),
            "active": "trace",
            "reference": reference,
            "t": found,
            "programme": names.get(found.payment.programme, found.payment.programme)
            if found
            else "",
            "channels": [
                (ledger.channel_labels().get(c, c), format_yuan(a), f"{s * 100:.1f}%")
                for c, a, s in (found.channels if found else [])
            ],
            "steps": [
                {
                    "e": e,
                    "lines": [
                        (
                            account_name(line.account, names),
                            format_yuan(line.debit) if line.debit else "",
                            format_yuan(line.credit) if line.credit else "",
                        )
                        for line in e.lines.all()
                    ],
                }
                for e in (found.allocations + found.entries if found else [])
            ],
        },
    )


@funds_view("GET", "HEAD")
def reconciliation(request: HttpRequest) -> HttpResponse:
    """Every batch of the school year sent to the bank against what the bank returned."""
    user: Any = request.user
    year = _year(request)
    rows = selectors.bank_reconciliation(user, year)
    return _page(
        request,
        "funds/reconciliation.html",
        {
            "title": _("Bank reconciliation"),
            "active": "reconciliation",
            "year": year,
            "years": list(range(max(year, working_year(selectors.county_of(user))) + 1, 2015, -1)),
            "rows": [
                {
                    "r": r,
                    "sent": format_yuan(r.sent_amount),
                    "paid": format_yuan(r.paid_amount),
                    "failed": format_yuan(r.failed_amount),
                    "pending": format_yuan(r.pending_amount),
                }
                for r in rows
            ],
        },
    )


@funds_view("GET", "HEAD")
def reconciliation_export(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    year = _year(request)
    rows = selectors.bank_reconciliation(user, year)
    audit_record(actor=user, action="funds.export_reconciliation", target=None, data={"year": year})
    return _download(
        xlsx.workbook([reports.reconciliation_sheet(rows, year)]),
        f"bank-reconciliation-{year}.xlsx",
    )


class SettleForm(forms.Form):
    settled_on = forms.DateField(label=gettext_lazy("Settled on"))
    note = forms.CharField(label=gettext_lazy("How it was settled"), max_length=200)
    offset_reference = forms.CharField(
        label=gettext_lazy("Deducted from payment (reference)"), max_length=40, required=False
    )


@funds_view("GET", "HEAD", "POST")
def overpayments(request: HttpRequest) -> HttpResponse:
    """Money paid that was not owed, open first: each is settled by the aid centre (paid back,
    or deducted from a later payment), previewed, then posted on confirmation."""
    user: Any = request.user
    form = SettleForm(initial={"settled_on": timezone.localdate()})
    preview = None
    status = 200
    if request.method == "POST":
        if not selectors.may_post(user):
            return forbidden(request, P.PAY)
        try:
            chosen = selectors.overpayments(user).get(pk=int(request.POST.get("overpayment", "")))
        except (ValueError, Overpayment.DoesNotExist):
            raise Http404 from None
        form = SettleForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            if request.POST.get("confirm") == "1":
                try:
                    services.overpayment_settle(
                        actor=user,
                        overpayment_id=chosen.pk,
                        settled_on=data["settled_on"],
                        note=data["note"],
                        offset_reference=data["offset_reference"],
                    )
                except PermissionDenied:
                    return forbidden(request, P.PAY)
                except ValidationError as exc:
                    form.add_error(None, exc)
                    status = 400
                else:
                    messages.success(request, _("The overpayment is settled and posted."))
                    return redirect("funds:overpayments")
            else:
                preview = chosen
        else:
            status = 400
    rows = selectors.overpayments(user).order_by("-status", "-recorded_at", "-id")
    listed = paginate(request.GET, rows)
    return _page(
        request,
        "funds/overpayments.html",
        {
            "title": _("Overpayments"),
            "active": "overpayments",
            "rows": listed,
            "open_total": format_yuan(
                sum(
                    (o.amount for o in rows.filter(status=Overpayment.Status.OPEN)),
                    Decimal("0.00"),
                )
            ),
            "form": form,
            "preview": preview,
            "may_post": selectors.may_post(user),
        },
        status=status,
    )
