"""Duty pages of the monthly and quarterly reports of the dropout casework."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.duty import documents, selectors
from jingzhun.duty.views.common import (
    REPORT_HEADERS,
    XLSX,
    _download,
    _page,
    cn_date,
    duty_view,
)

# --------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class Period:
    kind: str  # "monthly" | "quarterly"
    year: int
    number: int  # month or quarter
    first: dt.date
    last: dt.date

    @property
    def param(self) -> str:
        return (
            f"{self.year}-{self.number:02d}"
            if self.kind == "monthly"
            else (f"{self.year}-{self.number}")
        )

    @property
    def label(self) -> str:
        if self.kind == "monthly":
            return _("%(year)d-%(month)02d") % {"year": self.year, "month": self.number}
        return _("%(year)d, quarter %(quarter)d") % {"year": self.year, "quarter": self.number}

    @property
    def cn_label(self) -> str:
        if self.kind == "monthly":
            return f"{self.year}年{self.number}月"
        return f"{self.year}年第{self.number}季度"


def parse_period(kind: str, value: str, today: dt.date) -> Period | None:
    """Return the period of ``2018-10`` (a month) or ``2018-4`` (a quarter); None if invalid.

    An empty value means the period today is in.
    """
    if not value:
        year, number = today.year, today.month if kind == "monthly" else (today.month + 2) // 3
    else:
        parts = value.split("-")
        if len(parts) != 2 or not all(p.isdigit() and len(p) <= 4 for p in parts):
            return None
        year, number = int(parts[0]), int(parts[1])
    top = 12 if kind == "monthly" else 4
    if not (2000 <= year <= 2100 and 1 <= number <= top):
        return None
    bounds = selectors.month_bounds if kind == "monthly" else selectors.quarter_bounds
    first, last = bounds(year, number)
    return Period(kind, year, number, first, last)


def _report_period(request: HttpRequest, kind: str) -> Period:
    param = "month" if kind == "monthly" else "quarter"
    today = timezone.localdate()
    period = parse_period(kind, request.GET.get(param, "").strip()[:10], today)
    if period is None:
        messages.error(
            request,
            _("Give the month as 2018-10.")
            if kind == "monthly"
            else _("Give the quarter as 2018-4."),
        )
        period = parse_period(kind, "", today)
        assert period is not None
    return period


def _tallies(user: Any, period: Period) -> list[selectors.Tally]:
    by = "school" if period.kind == "monthly" else "township"
    return selectors.period_report(user=user, first=period.first, last=period.last, by=by)


def _total(tallies: list[selectors.Tally]) -> selectors.Tally:
    total = selectors.Tally("total", _("Total"))
    for t in tallies:
        total.opened += t.opened
        total.closed += t.closed
        total.closed_in_time += t.closed_in_time
        total.open_at_end += t.open_at_end
        total.overdue_at_end += t.overdue_at_end
    return total


def _as_of(period: Period) -> dt.date | None:
    """Return today when the period is not over yet (it is counted as of today), else None."""
    today = timezone.localdate()
    return today if period.last > today else None


@duty_view("GET")
def report(request: HttpRequest, kind: str) -> HttpResponse:
    """Show the monthly report per school or the quarterly report per township."""
    period = _report_period(request, kind)
    tallies = _tallies(request.user, period)
    monthly = kind == "monthly"
    return _page(
        request,
        "duty/report.html",
        {
            "title": (
                _("Monthly dropout report, %(period)s")
                if monthly
                else _("Quarterly dropout report, %(period)s")
            )
            % {"period": period.label},
            "active": kind,
            "period": period,
            "param": "month" if monthly else "quarter",
            "unit": _("School") if monthly else _("Township"),
            "tallies": tallies,
            "total": _total(tallies),
            "as_of": _as_of(period),
            "export_url": reverse(f"duty:report-{kind}-xlsx"),
        },
    )


@duty_view("GET")
def report_export(request: HttpRequest, kind: str) -> HttpResponse:
    """Download the monthly or quarterly report (.xlsx)."""
    period = _report_period(request, kind)
    tallies = _tallies(request.user, period)
    total = _total(tallies)
    rows = [
        (t.label, t.opened, t.closed, t.closed_in_time, t.open_at_end, t.overdue_at_end)
        for t in tallies
    ]
    rows.append(
        (
            "合计",
            total.opened,
            total.closed,
            total.closed_in_time,
            total.open_at_end,
            total.overdue_at_end,
        )
    )
    as_of = _as_of(period)
    label = f"{period.cn_label}，截至{cn_date(as_of)}" if as_of else period.cn_label
    if kind == "monthly":
        sheet = documents.Sheet(f"控辍保学月报（{label}）", ("学校", *REPORT_HEADERS), rows)
    else:
        sheet = documents.Sheet(f"控辍保学季报（{label}）", ("乡镇", *REPORT_HEADERS), rows)
    content = documents.workbook([sheet])
    return _download(content, f"dropout-{kind}-{period.param}.xlsx", XLSX)
