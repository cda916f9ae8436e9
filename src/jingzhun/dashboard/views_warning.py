"""Dropout early warning pages: the risk list, its .xlsx, the back-test, the teacher's phone page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.downloads import attachment
from jingzhun.core.errors import forbidden
from jingzhun.core.listing import ListParams, paginate
from jingzhun.core.pages import date_asked
from jingzhun.core.scoping import scope_of
from jingzhun.core.xlsx import Sheet, workbook
from jingzhun.dashboard.common import page
from jingzhun.dashboard.warning import (
    Filters,
    RiskList,
    apply_filters,
    backtest,
    backtest_days,
    default_backtest_day,
    grade_label,
    risk_list,
    scored,
)
from jingzhun.dashboard.warning_rules import SIGNALS, WeightsError
from jingzhun.schools.selectors import list_choices

K_VALUES = (10, 20, 50, 100)


def _allowed(user: Any) -> bool:
    return not scope_of(user).is_empty and P.user_can(user, P.VIEW)


def _min_score(raw: str) -> int | None:
    text = raw.strip()
    return int(text) if text.isdigit() and len(text) <= 3 else None


def _read(request: HttpRequest) -> tuple[ListParams, Filters, dt.date]:
    on = date_asked(request.GET)
    params = ListParams.read(request.GET, reasons=SIGNALS, extra=("on", "grade", "min_score"))
    grade = params.extra.get("grade", "")
    filters = Filters(
        township=params.township,
        school_id=params.school_id,
        class_id=params.class_id,
        grade=grade if "-" in grade else "",
        signal=params.reason,
        min_score=_min_score(params.extra.get("min_score", "")),
    )
    return params, filters, on


def _grades(result: RiskList) -> list[tuple[str, str]]:
    stages = {s: i for i, s in enumerate(result.weights.stages)}
    keys = {(r.stage, r.grade) for r in result.rows}
    ordered = sorted(keys, key=lambda k: (stages.get(k[0], 9), k[1]))
    return [(f"{s}-{g}", grade_label(s, g)) for s, g in ordered]


def _signal_table(result: RiskList) -> list[dict[str, Any]]:
    return [
        {
            "key": s.key,
            "label": s.label,
            "weight": s.weight,
            "recorded": s.key not in result.unrecorded,
        }
        for s in result.weights.signals.values()
    ]


@never_cache
@login_required
@require_http_methods(["GET"])
def warning_list(request: HttpRequest) -> HttpResponse:
    """List the poor students still enrolled who carry risk signals, highest score first."""
    user: Any = request.user
    if not _allowed(user):
        return forbidden(request, P.VIEW)
    params, filters, on = _read(request)
    try:
        result = scored(user, on)
    except WeightsError as exc:
        return page(request, "dashboard/warning/error.html", {"active": "warning", "error": exc})
    grades = _grades(result)
    result.rows = apply_filters(result, filters)
    signals = [(s.key, s.label) for s in result.weights.signals.values()]
    choices = list_choices(user=user, params=params, school_year=None, reasons=signals)
    choices.search = False
    return page(
        request,
        "dashboard/warning/list.html",
        {
            "active": "warning",
            "title": _("Dropout early warning"),
            "on": on,
            "result": result,
            "page": paginate(request.GET, result.rows),
            "lp": params,
            "choices": choices,
            "grades": grades,
            "grade": filters.grade,
            "min_score": result.weights.list_from
            if filters.min_score is None
            else filters.min_score,
            "signal_table": _signal_table(result),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET"])
def warning_xlsx(request: HttpRequest) -> HttpResponse:
    """Download the filtered risk list (.xlsx): what the page shows, every page of it."""
    user: Any = request.user
    if not _allowed(user):
        return forbidden(request, P.VIEW)
    _params, filters, on = _read(request)
    result = risk_list(user=user, on=on, filters=filters)
    w = result.weights
    unrecorded = ", ".join(w.signals[k].label for k in result.unrecorded) or "—"
    sheet = Sheet(
        title=_("Dropout early warning as of %(date)s (weights version %(v)s, %(digest)s)")
        % {"date": on.isoformat(), "v": w.version, "digest": w.short_digest},
        headers=[
            _("Score"),
            _("Name"),
            _("Township"),
            _("School"),
            _("Grade"),
            _("Class"),
            _("Signals"),
        ],
        rows=[
            [r.score, r.name, r.township, r.school, r.grade_name, r.class_name, r.words]
            for r in result.rows
        ],
    )
    note = Sheet(
        title=_("Weights"),
        headers=[_("Signal"), _("Weight"), _("Recorded in this county's files")],
        rows=[
            [s.label, s.weight, _("no") if s.key in result.unrecorded else _("yes")]
            for s in w.signals.values()
        ]
        + [[_("Not recorded"), "", unrecorded]],
    )
    audit_record(
        actor=user,
        action="warning.export",
        request=request,
        data={"on": on.isoformat(), "rows": len(result.rows), "weights": w.version},
    )
    return attachment(workbook([sheet, note]), f"early-warning-{on.isoformat()}.xlsx")


@never_cache
@login_required
@require_http_methods(["GET"])
def warning_backtest(request: HttpRequest) -> HttpResponse:
    """Warnings as of a past day against the dropouts later identification runs found."""
    user: Any = request.user
    if not _allowed(user):
        return forbidden(request, P.VIEW)
    days = backtest_days(user=user)
    raw = request.GET.get("as_of", "")
    try:
        as_of = dt.date.fromisoformat(raw) if raw else default_backtest_day(user=user)
    except ValueError:
        as_of = default_backtest_day(user=user)
    result = backtest(user=user, as_of=as_of, k_values=K_VALUES) if as_of else None
    return page(
        request,
        "dashboard/warning/backtest.html",
        {
            "active": "warning",
            "title": _("Early warning: back-test"),
            "as_of": as_of,
            "days": days[:-1],
            "result": result,
        },
    )


@never_cache
@login_required
@require_http_methods(["GET"])
def check_on(request: HttpRequest) -> HttpResponse:
    """The class teacher's phone page: the pupils to check on, with the signals in words."""
    user: Any = request.user
    scope = scope_of(user)
    if scope.is_empty or not P.user_can(user, P.VIEW):
        return render(request, "duty/mobile_message.html", {"reason": "none"})
    if scope.level not in ("class", "school"):
        return render(request, "duty/mobile_message.html", {"reason": "office"})
    on = timezone.localdate()
    result = risk_list(user=user, on=on)
    return render(request, "dashboard/warning/check_on.html", {"result": result, "on": on})
