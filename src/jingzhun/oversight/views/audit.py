"""Supervision pages: the year-end audit (年终审计, III.3).

The audit is a county document: county users who may view (the aid centre, the county
administrator, bureau leaders of the county) and inspectors see it and download it; township
and school users, class teachers and users with no jurisdiction get the 403 page. Every
download is logged (core.audit).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.downloads import attachment as _download
from jingzhun.core.errors import forbidden
from jingzhun.core.listing import ListChoices, ListParams, paginate
from jingzhun.core.scoping import scope_of
from jingzhun.core.working_year import school_year_asked, working_year
from jingzhun.funds.models import PaymentBatch
from jingzhun.oversight import audit_documents
from jingzhun.oversight.audit import KINDS, AuditReport
from jingzhun.oversight.audit_checks import audit_report
from jingzhun.oversight.views.common import page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"

View = Callable[..., HttpResponseBase]


# --- page helpers (to be replaced by oversight/views/common.py once it exists) ----------------


# --- access -----------------------------------------------------------------------------------


def may_audit(user: Any) -> bool:
    """Return whether the user may read the county's audit: VIEW (or INSPECT) at county level."""
    if scope_of(user).level != "county" or not scope_of(user).county_code:
        return False
    return P.user_can(user, P.VIEW) or P.user_can(user, P.INSPECT)


def audit_view(view: View) -> View:
    @functools.wraps(view)
    def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not may_audit(request.user):
            return forbidden(request, P.VIEW, page="oversight.audit")
        return view(request, *args, **kwargs)

    return login_required(require_GET(inner))


def _report(request: HttpRequest) -> AuditReport:
    county = scope_of(request.user).county_code
    return audit_report(
        county_code=county, school_year=school_year_asked(request.GET, request.user)
    )


def _years(county: str, chosen: int) -> list[int]:
    years = set(
        PaymentBatch.objects.filter(county_code=county)
        .values_list("school_year", flat=True)
        .distinct()
    )
    return sorted(years | {chosen, working_year(county)}, reverse=True)


def _log_export(request: HttpRequest, report: AuditReport, fmt: str) -> None:
    audit_record(
        actor=request.user,
        action="oversight.audit_export",
        request=request,
        data={
            "format": fmt,
            "county": report.county_code,
            "school_year": report.school_year,
            "counts": {c.kind.key: c.count for c in report.counts},
        },
    )


# --- views ------------------------------------------------------------------------------------


@audit_view
def audit_page(request: HttpRequest) -> HttpResponse:
    """The audit of a school year: counts per kind, the sections, the anomalies (paged)."""
    report = _report(request)
    lp = ListParams.read(request.GET, statuses=[k.key for k in KINDS], extra=("year",))
    lp = ListParams(status=lp.status, extra={"year": str(report.school_year)})
    anomalies = [a for a in report.anomalies if not lp.status or a.kind == lp.status]
    rows = paginate(request.GET, anomalies)
    query = lp.query()
    return page(
        request,
        "oversight/audit.html",
        {
            "title": _("Year-end audit"),
            "active": "audit",
            "report": report,
            "years": _years(report.county_code, report.school_year),
            "lp": lp,
            "choices": ListChoices(statuses=[(k.key, str(k.label)) for k in KINDS], search=False),
            "rows": rows,
            "query": query,
            "export_query": lp.query(status=""),
        },
    )


@audit_view
def audit_xlsx(request: HttpRequest) -> HttpResponse:
    """The audit as a workbook: the sections, a summary, one sheet per kind."""
    report = _report(request)
    content = audit_documents.audit_xlsx(report)
    _log_export(request, report, "xlsx")
    return _download(content, f"audit-{report.county_code}-{report.school_year}.xlsx", XLSX)


@audit_view
def audit_pdf(request: HttpRequest) -> HttpResponse:
    """The audit as a PDF to print and sign."""
    report = _report(request)
    issuer = f"{report.county_name}教育局"
    content = audit_documents.audit_pdf(report, issuer=issuer)
    _log_export(request, report, "pdf")
    return _download(content, f"audit-{report.county_code}-{report.school_year}.pdf", PDF)


urlpatterns: list[URLPattern] = [
    path("audit/", audit_page, name="audit"),
    path("audit.xlsx", audit_xlsx, name="audit-xlsx"),
    path("audit.pdf", audit_pdf, name="audit-pdf"),
]
