"""Student aid pages: adjustments and aid coverage."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from jingzhun.aid import documents, selectors, selectors_ui
from jingzhun.aid.models import Adjustment
from jingzhun.aid.services import SOURCE
from jingzhun.aid.views.common import (
    _back,
    _choices,
    _language,
    _page,
    _period,
    _period_context,
    aid_view,
)
from jingzhun.core import permissions as P
from jingzhun.core.errors import forbidden
from jingzhun.core.listing import ListParams, paginate
from jingzhun.core.money import format_yuan
from jingzhun.funds import services as funds
from jingzhun.funds.models import Overpayment, Payment
from jingzhun.schools.naming import class_of
from jingzhun.schools.selectors import list_choices

PERIOD_KEYS = ("year", "semester")

# --------------------------------------------------------------------------- adjustments


def _after_payment(rows: list[Adjustment]) -> dict[int, dict[str, Any]]:
    """Return, per adjustment that lowered a paid entitlement, what was overpaid and what the
    aid centre recorded about it (funds' overpayments, found by their cause)."""
    lowered = [a for a in rows if a.new_amount < a.old_amount]
    if not lowered:
        return {}
    paid = {
        p.source: p
        for p in Payment.objects.filter(
            source__in=[f"{SOURCE}{a.entitlement_id}" for a in lowered],
            status=Payment.Status.PAID,
        )
    }
    recorded = {
        o.cause: o
        for o in Overpayment.objects.filter(cause__in=[f"aid.adjustment:{a.pk}" for a in lowered])
    }
    out: dict[int, dict[str, Any]] = {}
    for a in lowered:
        payment = paid.get(f"{SOURCE}{a.entitlement_id}")
        if payment is None:
            continue
        owed = max(a.new_amount, Decimal("0.00"))
        out[a.pk] = {
            "payment": payment,
            "over": min(payment.amount, payment.amount - owed),
            "recorded": recorded.get(f"aid.adjustment:{a.pk}"),
        }
    return out


def _record_overpayment(request: HttpRequest, period: Any) -> HttpResponse | dict[str, Any]:
    """Record an overpayment for one adjustment: previewed, then posted on confirmation."""
    user: Any = request.user
    if not selectors.may_pay(user):
        return forbidden(request, P.PAY)
    try:
        adjustment = selectors.adjustment_list(user=user).get(pk=int(request.POST["adjustment"]))
    except (KeyError, ValueError, Adjustment.DoesNotExist):
        raise Http404 from None
    found = _after_payment([adjustment]).get(adjustment.pk)
    if found is None or found["recorded"] is not None:
        messages.error(request, _("Nothing to record: this change was not paid, or is recorded."))
        return _back("aid:adjustments", period)
    rule = str(request.POST.get("rule", ""))
    reason = str(request.POST.get("reason", ""))[:200]
    if request.POST.get("confirm") != "1":
        return {"preview": {"a": adjustment, "rule": rule, "reason": reason, **found}}
    try:
        funds.overpayment_record(
            actor=user,
            payment_id=found["payment"].pk,
            cause=f"aid.adjustment:{adjustment.pk}",
            amount=found["over"],
            rule=rule,
            reason=reason,
        )
    except PermissionDenied:
        return forbidden(request, P.PAY)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The overpayment is recorded; settle it on the fund pages."))
    return _back("aid:adjustments", period)


@aid_view("GET", "HEAD", "POST")
def adjustments(request: HttpRequest) -> HttpResponse:
    """List what reruns changed in the semester: old and new amount, and why; where a lowered
    entitlement was already paid, the aid centre records the overpayment with its rule."""
    user: Any = request.user
    period = _period(request.GET, request.user)
    preview = None
    if request.method == "POST":
        done = _record_overpayment(request, period)
        if not isinstance(done, dict):
            return done
        preview = done["preview"]
    language = _language()
    book = selectors_ui.current_book(user=user, school_year=period.school_year)
    labels = selectors_ui.book_labels(book, language)
    params = ListParams.read(
        request.GET, statuses=Adjustment.Kind.values, reasons=list(labels), extra=PERIOD_KEYS
    )
    rows = params.apply(
        selectors.adjustment_list(user=user).filter(
            computation__school_year=period.school_year, computation__semester=period.semester
        ),
        township="school__township__code",
        school="school_id",
        klass="school_class_id",
        status="kind",
        reason="entitlement__programme",
        names=("entitlement__student__name",),
    )
    page = paginate(request.GET, rows)
    after = _after_payment(list(page.object_list))
    return _page(
        request,
        "aid/adjustments.html",
        {
            "title": _("Adjustments"),
            "active": "adjustments",
            **_period_context(period),
            "page": page,
            "lp": params,
            "choices": list_choices(
                user=user,
                params=params,
                school_year=period.school_year,
                statuses=_choices(Adjustment.Kind.choices),
                reasons=sorted(labels.items(), key=lambda kv: kv[1]),
            ),
            "list_query": params.query(),
            "rows": [
                {
                    "a": a,
                    "programme": labels.get(a.entitlement.programme, a.entitlement.programme),
                    "old": format_yuan(a.old_amount),
                    "new": format_yuan(a.new_amount),
                    "after": after.get(a.pk),
                }
                for a in page.object_list
            ],
            "preview": preview,
            "rules": Overpayment.Rule.choices,
            "may_pay": selectors.may_pay(user),
        },
    )


# --------------------------------------------------------------------------- coverage


def _gap_params(request: HttpRequest, book_labels: dict[str, str]) -> ListParams:
    return ListParams.read(
        request.GET,
        statuses=list(book_labels),
        reasons=list(selectors.GAP_REASONS),
        extra=PERIOD_KEYS,
    )


@aid_view("GET", "HEAD")
def coverage(request: HttpRequest) -> HttpResponse:
    """Show aid coverage: county, by stage, township and school, and the gaps (filtered, paged)."""
    user: Any = request.user
    period = _period(request.GET, request.user)
    result, gap_total = selectors_ui.coverage_summary(
        user=user, school_year=period.school_year, semester=period.semester
    )
    book = selectors_ui.current_book(user=user, school_year=period.school_year)
    labels = selectors_ui.book_labels(book, _language())
    params = _gap_params(request, labels)
    page = selectors_ui.coverage_gap_page(
        user=user,
        school_year=period.school_year,
        semester=period.semester,
        params=params,
        page=request.GET.get("page"),
    )
    classes = selectors_ui.classes_by_id(class_ids=(g.class_id for g in page.object_list))
    choices = list_choices(
        user=user,
        params=params,
        school_year=period.school_year,
        statuses=sorted(labels.items(), key=lambda kv: kv[1]),
        reasons=[(k, str(v)) for k, v in selectors.GAP_REASONS.items()],
    )
    return _page(
        request,
        "aid/coverage.html",
        {
            "title": _("Aid coverage"),
            "active": "coverage",
            **_period_context(period),
            "coverage": result,
            "gap_total": gap_total,
            "page": page,
            "lp": params,
            "choices": choices,
            "list_query": params.query(),
            "export_url": reverse("aid:coverage-xlsx"),
            "gaps": [
                {
                    "g": g,
                    "class": class_of(classes.get(g.class_id or 0)) or "—",
                    "programme": labels.get(g.programme, g.programme) if g.programme else "—",
                    "amount": format_yuan(g.amount) if g.amount is not None else "—",
                }
                for g in page.object_list
            ],
        },
    )


def _share(row: selectors.CoverageRow) -> float | None:
    share = row.share
    return None if share is None else float(share) / 100


@aid_view("GET", "HEAD")
def coverage_download(request: HttpRequest) -> HttpResponse:
    """Download the coverage tables and the gaps as a workbook."""
    user: Any = request.user
    period = _period(request.GET, request.user)
    result = selectors_ui.coverage(
        user=user, school_year=period.school_year, semester=period.semester
    )
    book = selectors_ui.current_book(user=user, school_year=period.school_year)
    labels = selectors_ui.book_labels(book, _language())
    gaps = selectors_ui.filter_gaps(result.gaps, _gap_params(request, labels))
    classes = selectors_ui.classes_by_id(class_ids=(g.class_id for g in gaps))

    def table(title: str, first: str, rows: list[selectors.CoverageRow]) -> documents.CoverageSheet:
        return documents.CoverageSheet(
            title=title,
            headers=[first, _("Students"), _("Covered"), _("Share covered")],
            rows=[[r.label, r.students, r.covered, _share(r)] for r in rows],
        )

    county = selectors_ui.area_names(user=user, codes=[result.county.label])
    result.county.label = county.get(result.county.label, result.county.label)
    sheets = [
        table(_("County"), _("County"), [result.county]),
        table(_("By stage"), _("Stage"), result.by_stage),
        table(_("By township"), _("Township"), result.by_township),
        table(_("By school"), _("School"), result.by_school),
        documents.CoverageSheet(
            title=_("Gaps"),
            headers=[
                _("Student"),
                _("School"),
                _("Class"),
                _("Programme"),
                _("Amount"),
                _("Reason"),
                _("Detail"),
            ],
            rows=[
                [
                    g.student_name,
                    g.school_name,
                    class_of(classes.get(g.class_id or 0)),
                    labels.get(g.programme, g.programme),
                    g.amount,
                    g.reason_label,
                    g.detail,
                ]
                for g in gaps
            ],
        ),
    ]
    response = HttpResponse(
        documents.coverage_xlsx(sheets),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"aid-coverage-{period.school_year}-{period.semester}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
