"""Fund pages: donations (II.1.5, III.2). Donors and what they pledged and gave, each donor's
report of where the money went (page, .xlsx, PDF); the aid centre adds donors, records pledges
and records receipts (each receipt previewed, then posted on confirmation).

Readers are the county's users with VIEW (:func:`selectors.may_read`); writers the aid centre
(:func:`selectors.may_post`). A user below the county gets the 403 page; a donor of another
county is a 404. A donor's phone is shown whole to the aid centre only.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jingzhun.accounts.models import mask_phone
from jingzhun.core import permissions as P
from jingzhun.core import xlsx
from jingzhun.core.audit import audit_record
from jingzhun.core.downloads import attachment as _download
from jingzhun.core.errors import forbidden
from jingzhun.core.listing import looks_like_id, paginate
from jingzhun.core.money import format_yuan
from jingzhun.core.working_year import working_year
from jingzhun.funds import ledger, selectors
from jingzhun.funds import selectors_donations as ds
from jingzhun.funds import services_donations as donations
from jingzhun.funds.models import Payment
from jingzhun.funds.models_donations import Donor, Pledge
from jingzhun.funds.views import _nav, _page, account_name, funds_view

PDF = "application/pdf"
D = Pledge.Designation


def _tabs() -> list[tuple[str, str, str]]:
    tabs = _nav()
    if not any(key == "donations" for key, _label, _url in tabs):
        tabs.append(("donations", _("Donations"), reverse("funds:donations")))
    return tabs


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> Any:
    return _page(
        request, template, {"jz_nav": _tabs(), "active": "donations", **context}, status=status
    )


def _filters(request: HttpRequest) -> dict[str, str]:
    kind = str(request.GET.get("kind", ""))
    q = " ".join(str(request.GET.get("q", "")).split())[:40]
    return {
        "kind": kind if kind in Donor.Kind.values else "",
        "q": "" if looks_like_id(q) else q,
    }


def _query(f: dict[str, str]) -> str:
    return urlencode({k: v for k, v in f.items() if v})


@funds_view("GET", "HEAD")
def donor_list(request: HttpRequest) -> HttpResponse:
    """The county's donors, paged, filtered by kind and text, with what each pledged and gave."""
    user: Any = request.user
    f = _filters(request)
    listed = paginate(request.GET, ds.donor_list(user, kind=f["kind"], q=f["q"]))
    return _render(
        request,
        "funds/donations.html",
        {
            "title": _("Donations"),
            "f": f,
            "kinds": Donor.Kind.choices,
            "donors": listed,
            "rows": [
                {
                    "d": d,
                    "phone": ds.phone_shown(user, d),
                    "pledged": format_yuan(d.pledged),  # type: ignore[attr-defined]
                    "given": format_yuan(d.given),  # type: ignore[attr-defined]
                }
                for d in listed
            ],
            "total": listed.paginator.count,
            "query": _query(f),
            "may_post": selectors.may_post(user),
        },
    )


@funds_view("GET", "HEAD")
def donor_list_export(request: HttpRequest) -> HttpResponse:
    """Download the donors as filtered (phones masked)."""
    user: Any = request.user
    f = _filters(request)
    kinds = dict(ds.KIND_CN)
    rows = [
        [
            d.name,
            kinds.get(d.kind, d.kind),
            d.contact_name,
            mask_phone(d.phone),
            float(d.pledged),  # type: ignore[attr-defined]
            float(d.given),  # type: ignore[attr-defined]
            d.note,
        ]
        for d in ds.donor_list(user, kind=f["kind"], q=f["q"])
    ]
    audit_record(
        actor=user, action="funds.export_donors", target=None, data={**f, "rows": len(rows)}
    )
    headers = ["捐赠方", "类别", "联系人", "联系电话", "认捐金额", "到账金额", "备注"]
    return _download(xlsx.workbook([xlsx.Sheet("社会捐赠方", headers, rows)]), "donors.xlsx")


class DonorForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Donor's name"), max_length=100)
    kind = forms.ChoiceField(label=gettext_lazy("Kind of donor"), choices=Donor.Kind.choices)
    contact_name = forms.CharField(
        label=gettext_lazy("Contact person"), max_length=50, required=False
    )
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=20, required=False)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)


def _refuse_writer(request: HttpRequest) -> HttpResponse | None:
    return None if selectors.may_post(request.user) else forbidden(request, P.PAY)


@funds_view("GET", "HEAD", "POST")
def donor_new(request: HttpRequest) -> HttpResponse:
    """Add a donor (the aid centre)."""
    if (refused := _refuse_writer(request)) is not None:
        return refused
    form = DonorForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                donor = donations.donor_create(actor=request.user, **form.cleaned_data)
            except PermissionDenied:
                return forbidden(request, P.PAY)
            except ValidationError as exc:
                form.add_error(None, exc)
                status = 400
            else:
                messages.success(request, _("The donor is recorded."))
                return redirect("funds:donor", donor_id=donor.pk)
        else:
            status = 400
    return _render(
        request, "funds/donation_form.html", {"title": _("Add a donor"), "form": form}, status
    )


def _flow_rows(report: ds.DonorReport) -> list[dict[str, Any]]:
    status_labels = dict(Payment.Status.choices)
    rows = []
    for f in report.flows:
        po = f.paid_out
        rows.append(
            {
                "f": f,
                "designation": f.pledge.get_designation_display(),
                "year": (
                    f"{f.pledge.school_year}–{f.pledge.school_year + 1}"
                    if f.pledge.school_year is not None
                    else "—"
                ),
                **{
                    n: format_yuan(getattr(f, n))
                    for n in (
                        "pledged",
                        "received",
                        "open",
                        "allocated",
                        "reserved",
                        "paid",
                        "available",
                    )
                },
                "paid_out": po,
                "po_amount": format_yuan(po.amount) if po else "",
                "po_paid": format_yuan(po.paid_amount) if po else "",
                "schools": [(s.school, s.count, format_yuan(s.amount)) for s in po.schools]
                if po
                else [],
                "names": [
                    (name, school, format_yuan(amount), status_labels.get(status, status))
                    for name, school, amount, status in po.names
                ]
                if po
                else [],
            }
        )
    return rows


@funds_view("GET", "HEAD")
def donor_detail(request: HttpRequest, donor_id: int) -> HttpResponse:
    """A donor: pledges, receipts, and the report of where the money went."""
    user: Any = request.user
    report = ds.donor_report(user, donor_id)
    donor = report.donor
    return _render(
        request,
        "funds/donation_donor.html",
        {
            "title": donor.name,
            "donor": donor,
            "phone": ds.phone_shown(user, donor),
            "report": report,
            "pledged": format_yuan(report.pledged),
            "received": format_yuan(report.received),
            "to_pool": format_yuan(report.to_pool),
            "pool_share": f"{report.pool_share * 100:.1f}%",
            "flows": _flow_rows(report),
            "receipts": [
                {"r": r, "amount": format_yuan(r.amount)}
                for r in sorted(report.receipts, key=lambda r: (r.received_on, r.pk), reverse=True)
            ],
            "may_post": selectors.may_post(user),
        },
    )


def _log_report(request: HttpRequest, report: ds.DonorReport, fmt: str) -> None:
    audit_record(
        actor=request.user,
        action="funds.export_donor_report",
        target=report.donor,
        data={"format": fmt},
    )


@funds_view("GET", "HEAD")
def donor_report_xlsx(request: HttpRequest, donor_id: int) -> HttpResponse:
    report = ds.donor_report(request.user, donor_id)
    _log_report(request, report, "xlsx")
    return _download(ds.report_xlsx(report), f"donor-report-{donor_id}.xlsx")


@funds_view("GET", "HEAD")
def donor_report_pdf(request: HttpRequest, donor_id: int) -> HttpResponse:
    report = ds.donor_report(request.user, donor_id)
    _log_report(request, report, "pdf")
    issuer = f"{ds.county_name(request.user)}教育局"
    return _download(ds.report_pdf(report, issuer=issuer), f"donor-report-{donor_id}.pdf", PDF)


class PledgeForm(forms.Form):
    amount = forms.DecimalField(
        label=gettext_lazy("Amount pledged (yuan)"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )
    pledged_on = forms.DateField(label=gettext_lazy("Pledged on"))
    designation = forms.ChoiceField(label=gettext_lazy("Designation"), choices=D.choices)
    school_year = forms.IntegerField(
        label=gettext_lazy("School year (first year, e.g. 2018)"),
        min_value=2000,
        max_value=2100,
        required=False,
    )
    programme = forms.CharField(
        label=gettext_lazy("Programme code (a programme designation)"),
        max_length=40,
        required=False,
    )
    school = forms.TypedChoiceField(
        label=gettext_lazy("School (a school designation)"), coerce=int, required=False
    )
    students = forms.CharField(
        label=gettext_lazy("Student numbers, as in the address of each student's page"),
        max_length=2000,
        required=False,
        help_text=gettext_lazy("Separated by commas or spaces (named students)."),
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)

    def __init__(self, *args: Any, schools: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school"].choices = [("", "—"), *schools]  # type: ignore[attr-defined]

    def clean_students(self) -> list[int]:
        text = str(self.cleaned_data.get("students") or "").replace("，", ",")
        parts = [p for p in text.replace(",", " ").split() if p]
        if any(not p.isdigit() or len(p) > 10 for p in parts):
            raise ValidationError(_("Give the students' numbers on this platform, not ID numbers."))
        return [int(p) for p in parts]


@funds_view("GET", "HEAD", "POST")
def pledge_new(request: HttpRequest, donor_id: int) -> HttpResponse:
    """Record a donor's pledge (the aid centre)."""
    if (refused := _refuse_writer(request)) is not None:
        return refused
    user: Any = request.user
    donor = ds.donor_get(user, donor_id)
    county = selectors.county_of(user)
    schools = ds.school_choices(user)
    form = PledgeForm(
        request.POST or None,
        schools=schools,
        initial={"pledged_on": timezone.localdate(), "school_year": working_year(county)},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                donations.pledge_record(
                    actor=user,
                    donor_id=donor.pk,
                    amount=data["amount"],
                    pledged_on=data["pledged_on"],
                    designation=data["designation"],
                    school_year=data["school_year"],
                    programme=data["programme"],
                    school_id=data["school"] or None,
                    student_ids=data["students"],
                    note=data["note"],
                )
            except PermissionDenied:
                return forbidden(request, P.PAY)
            except ValidationError as exc:
                _add_errors(form, exc)
                status = 400
            else:
                messages.success(request, _("The pledge is recorded."))
                return redirect("funds:donor", donor_id=donor.pk)
        else:
            status = 400
    return _render(
        request,
        "funds/donation_form.html",
        {"title": _("Record a pledge of %(name)s") % {"name": donor.name}, "form": form},
        status,
    )


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class ReceiptForm(forms.Form):
    pledge = forms.TypedChoiceField(label=gettext_lazy("For"), coerce=int, required=False)
    amount = forms.DecimalField(
        label=gettext_lazy("Amount received (yuan)"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )
    received_on = forms.DateField(label=gettext_lazy("Received on"))
    document = forms.CharField(label=gettext_lazy("Document or note"), max_length=200)

    def __init__(self, *args: Any, pledges: list[Pledge], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pledges = {p.pk: p for p in pledges}
        self.fields["pledge"].choices = [  # type: ignore[attr-defined]
            ("", _("No pledge: a general gift to the pooled fund")),
            *(
                (
                    p.pk,
                    _("Pledge of %(on)s, %(designation)s: %(open)s yuan still open")
                    % {
                        "on": p.pledged_on.isoformat(),
                        "designation": p.get_designation_display(),
                        "open": format_yuan(p.open_amount),
                    },
                )
                for p in pledges
            ),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        pledge = self.pledges.get(data.get("pledge") or 0)
        amount = data.get("amount")
        if pledge is not None and amount is not None and amount > pledge.open_amount:
            raise ValidationError(
                _(
                    "%(amount)s yuan is more than the pledge has still open: "
                    "%(open)s yuan of %(pledged)s yuan."
                )
                % {"amount": amount, "open": pledge.open_amount, "pledged": pledge.amount}
            )
        return data


@funds_view("GET", "HEAD", "POST")
def receipt_new(request: HttpRequest, donor_id: int) -> HttpResponse:
    """Record money received from a donor: previewed (which account, what it will hold), then
    posted on confirmation (the aid centre)."""
    if (refused := _refuse_writer(request)) is not None:
        return refused
    user: Any = request.user
    donor = ds.donor_get(user, donor_id)
    county = selectors.county_of(user)
    pledges = ds.pledge_open(user, donor)
    form = ReceiptForm(
        request.POST or None, pledges=pledges, initial={"received_on": timezone.localdate()}
    )
    preview = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            pledge = form.pledges.get(data["pledge"] or 0)
            if request.POST.get("confirm") == "1":
                try:
                    donations.receipt_record(
                        actor=user,
                        donor_id=donor.pk,
                        pledge_id=pledge.pk if pledge else None,
                        amount=data["amount"],
                        received_on=data["received_on"],
                        document=data["document"],
                    )
                except PermissionDenied:
                    return forbidden(request, P.PAY)
                except ValidationError as exc:
                    _add_errors(form, exc)
                    status = 400
                else:
                    messages.success(request, _("The donation is posted to the ledger."))
                    return redirect("funds:donor", donor_id=donor.pk)
            else:
                acc = donations.donation_account_preview(pledge, county)
                preview = {
                    "amount": format_yuan(data["amount"]),
                    "account": account_name(acc),
                    "after": format_yuan(acc.balance + data["amount"]),
                    "channel": ledger.channel_labels()["donation"],
                }
        else:
            status = 400
    return _render(
        request,
        "funds/donation_receipt.html",
        {
            "title": _("Record money received from %(name)s") % {"name": donor.name},
            "donor": donor,
            "form": form,
            "preview": preview,
        },
        status,
    )


urlpatterns: list[URLPattern] = [
    path("donations/", donor_list, name="donations"),
    path("donations.xlsx", donor_list_export, name="donations-xlsx"),
    path("donations/new/", donor_new, name="donor-new"),
    path("donations/<int:donor_id>/", donor_detail, name="donor"),
    path("donations/<int:donor_id>/pledge/", pledge_new, name="pledge-new"),
    path("donations/<int:donor_id>/receipt/", receipt_new, name="receipt-new"),
    path("donations/<int:donor_id>/report.xlsx", donor_report_xlsx, name="donor-report-xlsx"),
    path("donations/<int:donor_id>/report.pdf", donor_report_pdf, name="donor-report-pdf"),
]
