"""The command centre's reports: pick a report, a period and a unit; open it, or download it
as .xlsx or PDF (issue 15)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from jingzhun.core import permissions as P
from jingzhun.core.downloads import XLSX, attachment
from jingzhun.core.errors import forbidden
from jingzhun.core.scoping import scope_of
from jingzhun.core.working_year import working_year
from jingzhun.dashboard import reports, reports_annual, reports_output
from jingzhun.dashboard.common import page
from jingzhun.dashboard.reports_period import REPORT_PERIODS, Period, PeriodError, default, parse

PDF = "application/pdf"


def _kinds() -> list[tuple[str, str, str]]:
    """Return (report kind, name, what its period is written like)."""
    return [
        ("dropout-monthly", _("Monthly school report of dropout control"), "2018-10"),
        ("dropout-quarterly", _("Quarterly county report of dropout control"), "2018-Q4"),
        ("aid-semester", _("Semester aid report"), "2018-autumn"),
        ("annual", _("Annual report of the plan's implementation"), "2018"),
    ]


def _allowed(request: HttpRequest) -> bool:
    user: Any = request.user
    return bool(user.can(P.VIEW)) and reports.may_report(user)


def _defaults(request: HttpRequest, today: dt.date) -> dict[str, Period]:
    year = working_year(scope_of(request.user).county_code, today=today)
    return {kind: default(period, today, year) for kind, period in REPORT_PERIODS.items()}


def _index(
    request: HttpRequest, today: dt.date, *, status: int = 200, **asked: str
) -> HttpResponse:
    defaults = _defaults(request, today)
    cards = [
        {
            "kind": kind,
            "name": name,
            "example": example,
            "period": asked.get("period", "")
            if asked.get("kind") == kind
            else defaults[kind].param,
            "url": reverse("centre:report", args=[kind]),
            "xlsx": reverse("centre:report-xlsx", args=[kind]),
            "pdf": reverse("centre:report-pdf", args=[kind]),
        }
        for kind, name, example in _kinds()
    ]
    return page(
        request,
        "dashboard/reports/index.html",
        {
            "title": _("Reports"),
            "active": "reports",
            "cards": cards,
            "units": reports.units(request.user),
            "unit": asked.get("unit", ""),
        },
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET"])
def report_index(request: HttpRequest) -> HttpResponse:
    """Show the reports to pick from, each with its default period and the units."""
    if not _allowed(request):
        return forbidden(request, P.VIEW)
    return _index(request, timezone.localdate())


def _build(
    request: HttpRequest, report_kind: str, *, official: bool = False
) -> reports.Report | HttpResponse:
    """Return the report asked for, or the page that says why it cannot be made (in the
    user's language); an ``official`` report (a download) is made with Chinese labels."""
    if report_kind not in REPORT_PERIODS:
        raise Http404
    if not _allowed(request):
        return forbidden(request, P.VIEW)
    today = timezone.localdate()
    unit = reports.unit_for(request.user, request.GET.get("unit", "")[:20])
    text = request.GET.get("period", "").strip()[:20]
    try:
        period = (
            parse(REPORT_PERIODS[report_kind], text, today)
            if text
            else _defaults(request, today)[report_kind]
        )
    except PeriodError as exc:
        messages.error(request, str(exc))
        return _index(request, today, status=400, kind=report_kind, period=text, unit=unit.code)
    with translation.override("zh-hans" if official else translation.get_language()):
        if report_kind == "aid-semester":
            return reports.aid_report(request.user, unit, period, today)
        if report_kind == "annual":
            return reports_annual.annual_report(request.user, unit, period, today)
        return reports.dropout_report(request.user, unit, period, today, kind=report_kind)


def _query(report: reports.Report) -> str:
    params = {"period": report.period.param}
    if report.unit.code:
        params["unit"] = report.unit.code
    return urlencode(params)


@never_cache
@login_required
@require_http_methods(["GET"])
def report(request: HttpRequest, report_kind: str) -> HttpResponse:
    """Show a report on screen."""
    built = _build(request, report_kind)
    if isinstance(built, HttpResponse):
        return built
    query = _query(built)
    return page(
        request,
        "dashboard/reports/report.html",
        {
            "title": f"{built.title}: {built.unit.name}, {built.period.label}",
            "active": "reports",
            "report": built,
            "previous": f"?{urlencode({'period': built.period.previous().param, **({'unit': built.unit.code} if built.unit.code else {})})}",
            "xlsx_url": f"{reverse('centre:report-xlsx', args=[report_kind])}?{query}",
            "pdf_url": f"{reverse('centre:report-pdf', args=[report_kind])}?{query}",
            "index_url": reverse("centre:reports"),
        },
    )


def _filename(built: reports.Report, ext: str) -> str:
    unit = f"-{built.unit.code}" if built.unit.code else ""
    return f"{built.kind}-{built.period.param}{unit}.{ext}"


@never_cache
@login_required
@require_http_methods(["GET"])
def report_xlsx(request: HttpRequest, report_kind: str) -> HttpResponse:
    """Download a report as .xlsx (an official sheet: its labels in Chinese)."""
    built = _build(request, report_kind, official=True)
    if isinstance(built, HttpResponse):
        return built
    return attachment(reports_output.report_xlsx(built), _filename(built, "xlsx"), XLSX)


@never_cache
@login_required
@require_http_methods(["GET"])
def report_pdf(request: HttpRequest, report_kind: str) -> HttpResponse:
    """Download a report as PDF (an official document: its labels in Chinese)."""
    built = _build(request, report_kind, official=True)
    if isinstance(built, HttpResponse):
        return built
    content = reports_output.report_pdf(built, printed_on=timezone.localdate())
    return attachment(content, _filename(built, "pdf"), PDF)
