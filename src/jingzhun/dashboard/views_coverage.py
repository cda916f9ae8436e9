"""The command centre's coverage pages: the coverages at a date and level, and their trends."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from jingzhun.core import permissions as P
from jingzhun.core import xlsx
from jingzhun.core.downloads import XLSX, attachment
from jingzhun.core.errors import forbidden
from jingzhun.core.listing import paginate
from jingzhun.core.pages import date_asked
from jingzhun.core.scoping import scope_of
from jingzhun.core.working_year import working_year
from jingzhun.dashboard import coverage as cov
from jingzhun.dashboard import coverage_snapshots as snaps
from jingzhun.dashboard.common import page
from jingzhun.dashboard.models import Level, Measure

PAGE_SIZE = 50


def _refused(request: HttpRequest) -> HttpResponse | None:
    if not cov.may_see(request.user):
        return forbidden(request, P.VIEW, page="centre.coverage")
    return None


def _asked(request: HttpRequest) -> tuple[dt.date, str, str]:
    """Return the date, level and township asked for (each checked, else the default)."""
    user: Any = request.user
    on = date_asked(request.GET)
    levels = cov.levels_for(user)
    level = request.GET.get("level", "")
    if level not in levels:
        level = "township" if "township" in levels else levels[0]
    township = request.GET.get("township", "").strip()
    if not (township.isdigit() and len(township) == cov.TOWNSHIP):
        township = ""
    scope = scope_of(user)
    if scope.level != "county" or level in ("county", "township"):
        township = ""  # a township officer's units are their township's already
    return on, level, township


def _table(request: HttpRequest) -> tuple[dt.date, str, str, cov.Unit | None, list[cov.Unit]]:
    on, level, township = _asked(request)
    user: Any = request.user
    total = cov.total_unit(user=user, on=on, within=township or None)
    units = cov.coverage_at(user=user, on=on, level=level, within=township or None)
    return on, level, township, total, units


def _query(on: dt.date, level: str, township: str) -> str:
    return urlencode({k: v for k, v in (("on", on), ("level", level), ("township", township)) if v})


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def coverage(request: HttpRequest) -> HttpResponse:
    """Show the coverages of the user's units on a date, each figure opening its list."""
    refused = _refused(request)
    if refused is not None:
        return refused
    user: Any = request.user
    on, level, township, total, units = _table(request)
    query = _query(on, level, township)
    townships = (
        cov.coverage_at(user=user, on=on, level="township")
        if scope_of(user).level == "county"
        else []
    )
    return page(
        request,
        "dashboard/coverage/coverage.html",
        {
            "title": _("Coverages"),
            "active": "coverage",
            "on": on,
            "today": timezone.localdate(),
            "level": level,
            "levels": [(k, str(Level(k).label)) for k in cov.levels_for(user)],
            "township": township,
            "townships": [(u.code, u.name) for u in townships],
            "total": total,
            "units": paginate(request.GET, units, size=PAGE_SIZE),
            "count": len(units),
            "query": query,
            "measures": [(m, str(Measure(m).label)) for m in cov.MEASURES],
            "definitions": definitions(),
        },
    )


def definitions() -> list[tuple[str, str]]:
    """Return what each measure counts, as the page explains it."""
    return [
        (
            str(Measure.IDENTIFICATION.label),
            _(
                "Poor children of compulsory school age (6-15) whose place (school, study "
                "outside the county, home teaching) the identification run in force on the date "
                "knows, of all such children; counted where they live. The run in force is the "
                "latest confirmed run whose records describe a day on or before the date."
            ),
        ),
        (
            str(Measure.AID.label),
            _(
                "Students of registered poor families due aid in the semester the date falls in "
                "who received every programme due (waivers approved, cash approved and paid by "
                "the bank by the date), of all such students; counted where they study. Shown "
                "once aid was computed for the semester."
            ),
        ),
        (
            str(Measure.SCHOOLS.label),
            _(
                "Poor-village schools whose latest survey by the date meets every applicable "
                "item of the basic standard in force, of all poor-village schools."
            ),
        ),
        (
            str(Measure.TEACHERS.label),
            _(
                "Poor-village schools whose teachers are supplemented (no staffing gap), "
                "trained (in the year), exchanged (share of exchanged teachers reached) and "
                "guaranteed (rural allowance paid where due) on the date, of all poor-village "
                "schools."
            ),
        ),
        (
            str(Measure.DROPOUT.label),
            _(
                "Poor children of compulsory school age (6-15) of the run in force who are not "
                "out of school on the date, of all such children. Out of school: a dropout case "
                "open on the date (no outcome recorded by then), or a child the run found not "
                "enrolled whose case recorded no outcome (returned, home teaching, exemption, "
                "moved away) between the run and the date. Counted where children live (a "
                "school: its pupils and its children's cases)."
            ),
        ),
    ]


def _cell(f: cov.Figure) -> list[Any]:
    if f.state != "ok":
        return [f.note, "", ""]
    if not f.total:
        return ["—", 0, 0]
    return [float(f.share or 0), f.covered, f.total]


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def coverage_export(request: HttpRequest) -> HttpResponse:
    """Download the coverage table the page shows (same date, level and township)."""
    refused = _refused(request)
    if refused is not None:
        return refused
    on, level, _township, total, units = _table(request)
    headers = [_("Level"), _("Unit"), _("Township")]
    for _m, label in ((m, str(Measure(m).label)) for m in cov.MEASURES):
        headers += [f"{label} %", f"{label}: {_('covered')}", f"{label}: {_('total')}"]
    names = {u.township_code: u.name for u in units if u.level == "township"}
    rows: list[list[Any]] = []
    for u in ([total] if total is not None else []) + units:
        line: list[Any] = [str(Level(u.level).label), u.name, names.get(u.township_code, "")]
        for f in u.row:
            line += _cell(f)
        rows.append(line)
    title = _("Coverage on %(date)s") % {"date": on.isoformat()}
    content = xlsx.workbook([xlsx.Sheet(title, headers, rows)])
    return attachment(content, f"coverage-{on.isoformat()}-{level}.xlsx", XLSX)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def trends(request: HttpRequest) -> HttpResponse:
    """Show each coverage month by month (from the snapshots), a chart and a table each."""
    refused = _refused(request)
    if refused is not None:
        return refused
    user: Any = request.user
    today = timezone.localdate()
    year = working_year(scope_of(user).county_code)
    first = dt.date(year - 1, 9, 1)
    since_text = request.GET.get("since", "")
    try:
        since = dt.date.fromisoformat(f"{since_text}-01") if since_text else first
    except ValueError:
        since = first
    since = min(since, today)
    found = snaps.trends(user=user, since=since, until=today)
    charts = []
    for n, t in enumerate(found):
        labels = [f"{m:%Y-%m}" for m in t.months]
        charts.append(
            {
                "n": n,
                "data_id": f"jz-data-{n}",
                "measure": t.measure,
                "label": str(Measure(t.measure).label),
                "months": labels,
                "series": t.series,
                "rows": [
                    (labels[i], [(s.points[i], s.counts[i]) for s in t.series])
                    for i in range(len(labels))
                ],
                "data": {
                    "title": str(Measure(t.measure).label),
                    "labels": labels,
                    "axis": _("Share (%)"),
                    "series": [
                        {
                            "name": s.name,
                            "points": [None if p is None else float(p) for p in s.points],
                        }
                        for s in t.series
                    ],
                },
            }
        )
    return page(
        request,
        "dashboard/coverage/trends.html",
        {
            "title": _("Coverage over time"),
            "active": "coverage",
            "since": f"{since:%Y-%m}",
            "charts": charts,
            "empty": not any(c["series"] for c in charts),
        },
    )
