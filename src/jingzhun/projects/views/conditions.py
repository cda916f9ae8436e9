"""Each school against the basic standard (II.2): its latest survey, its gaps and the projects
that close them; recording a survey; and coverage I.2, the share of poor-village schools that
reach the standard, per school, township and county at a date."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from jingzhun.core import permissions as P
from jingzhun.core import xlsx
from jingzhun.core.downloads import attachment as download
from jingzhun.core.errors import forbidden
from jingzhun.core.listing import ListParams, paginate
from jingzhun.core.pages import date_asked
from jingzhun.core.scoping import scope_of
from jingzhun.projects import selectors, services
from jingzhun.projects.forms import SurveyForm
from jingzhun.projects.models import StandardVersion
from jingzhun.projects.selectors import SchoolStandard
from jingzhun.projects.views.common import (
    form_errors,
    may_record,
    page,
    percent,
    projects_view,
)
from jingzhun.schools.selectors import list_choices

SCHOOL_HEADERS = (
    "乡镇",
    "学校",
    "贫困村",
    "调查日期",
    "适用项目",
    "达标项目",
    "未达标项目",
    "达到标准",
)
COVERAGE_HEADERS = ("范围", "名称", "贫困村学校", "达到标准", "达标比例")


def _params(request: HttpRequest) -> tuple[ListParams, bool, str]:
    lp = ListParams.read(request.GET, extra=("poor", "reached", "on"))
    reached = lp.extra.get("reached", "")
    return lp, lp.extra.get("poor") == "1", reached if reached in ("0", "1") else ""


def filter_schools(
    rows: list[SchoolStandard], lp: ListParams, poor: bool, reached: str
) -> list[SchoolStandard]:
    """Narrow the measured schools by township, school, poor village and reaching it."""
    return [
        r
        for r in rows
        if (not lp.township or r.township_code.startswith(lp.township))
        and (not lp.school_id or r.school_id == lp.school_id)
        and (not poor or r.in_poor_village)
        and (not reached or r.reached == (reached == "1"))
    ]


@projects_view("GET", "HEAD")
def schools(request: HttpRequest) -> HttpResponse:
    """Show each school's latest survey against the standard: items met, not met, not
    applicable; its gaps with the project that closes each and by when (paged)."""
    user: Any = request.user
    on = date_asked(request.GET)
    lp, poor, reached = _params(request)
    rows = filter_schools(selectors.school_standard(user, on=on), lp, poor, reached)
    listed = paginate(request.GET, rows)
    counts = selectors.survey_counts(
        user=user, school_ids=[r.school_id for r in listed.object_list], on=on
    )
    return page(
        request,
        "projects/schools.html",
        {
            "title": _("School conditions"),
            "active": "schools",
            "on": on,
            "lp": lp,
            "poor": poor,
            "reached": reached,
            "choices": list_choices(user=user, params=lp, search=False),
            "standard": StandardVersion.current(on),
            "schools": listed,
            "lines": [{"r": r, "counts": counts.get(r.school_id, {})} for r in listed.object_list],
            "listed_total": listed.paginator.count,
            "filtered": lp.active or poor or bool(reached),
            "may_record": may_record(user),
        },
    )


def _school_of_form(request: HttpRequest) -> int | None:
    scope = scope_of(request.user)
    if scope.level == "school":
        return scope.school_id
    data = request.POST if request.method == "POST" else request.GET
    text = str(data.get("school", ""))
    if not (text.isdigit() and len(text) < 12):
        return None
    return selectors.get_school(user=request.user, school_id=int(text)).pk


@projects_view("GET", "POST")
def survey_new(request: HttpRequest) -> HttpResponse:
    """Record a survey of one school: each applicable item met, not met or not applicable."""
    user: Any = request.user
    if not may_record(user):
        return forbidden(request, P.EDIT_SCHOOLS)
    school_id = _school_of_form(request)
    school = selectors.get_school(user=user, school_id=school_id) if school_id else None
    lang = get_language() or "en"
    items = (
        [
            (i.code, i.wording(lang))
            for i in selectors.standard_items(user=user)
            if i.applies_to(school)
        ]
        if school is not None
        else []
    )
    form = SurveyForm(
        request.POST if request.method == "POST" else None,
        items=items,
        initial={"surveyed_on": timezone.localdate()},
    )
    if request.method == "POST" and school is not None and form.is_valid():
        try:
            services.survey_create(
                actor=user,
                school=school,
                surveyed_on=form.cleaned_data["surveyed_on"],
                answers=[
                    services.Answer(code, status, note) for code, status, note in form.answers()
                ],
                note=form.cleaned_data["note"],
            )
        except PermissionDenied:
            return forbidden(request, P.EDIT_SCHOOLS)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(
                request, _("The survey of %(school)s is recorded.") % {"school": school.name}
            )
            return redirect(f"{reverse('projects:schools')}?school={school.pk}")
    return page(
        request,
        "projects/survey_form.html",
        {
            "title": _("Record a survey"),
            "active": "schools",
            "form": form,
            "school": school,
            "schools": (
                selectors.school_choices(user=user) if scope_of(user).level != "school" else []
            ),
            "no_standard": not items and school is not None,
            "back": reverse("projects:schools"),
        },
    )


@projects_view("GET", "HEAD")
def coverage(request: HttpRequest) -> HttpResponse:
    """Show coverage I.2 on a date: per township and the county, the poor-village schools and
    those reaching the standard, each figure linking to its list of schools."""
    user: Any = request.user
    on = date_asked(request.GET)
    result = selectors.standard_coverage(user, on=on)
    base = reverse("projects:schools")

    def link(township: str = "", reached: str = "") -> str:
        query = f"poor=1&on={on.isoformat()}"
        if township:
            query += f"&township={township}"
        if reached:
            query += f"&reached={reached}"
        return f"{base}?{query}"

    def line(c: selectors.CoverageLine, township: str) -> dict[str, Any]:
        return {
            "c": c,
            "share": percent(c.share),
            "all": link(township),
            "reached": link(township, "1"),
            "not_reached": link(township, "0"),
            "missing": c.schools - c.reached,
        }

    return page(
        request,
        "projects/coverage.html",
        {
            "title": _("Standard coverage"),
            "active": "coverage",
            "on": on,
            "standard": StandardVersion.current(on),
            "county": line(result.county, "") if result.county else None,
            "townships": [line(t, t.code) for t in result.townships]
            if scope_of(user).level != "school"
            else [],
            "schools": paginate(request.GET, result.schools),
            "on_query": f"on={on.isoformat()}",
        },
    )


@projects_view("GET", "HEAD")
def coverage_export(request: HttpRequest) -> HttpResponse:
    """Download coverage I.2 on a date: each poor-village school, each township, the county."""
    user: Any = request.user
    on = date_asked(request.GET)
    result = selectors.standard_coverage(user, on=on)
    schools = [
        [
            r.township_name,
            r.school_name,
            "是",
            r.surveyed_on.isoformat() if r.surveyed_on else "未调查",
            r.applicable,
            r.met,
            "、".join(g.item_code for g in r.gaps),
            "是" if r.reached else "否",
        ]
        for r in result.schools
    ]
    lines = [
        ["乡镇", t.name, t.schools, t.reached, round(t.share, 4) if t.share is not None else ""]
        for t in result.townships
    ]
    if result.county:
        c = result.county
        lines.append(["全县", c.name, c.schools, c.reached, round(c.share or 0, 4)])
    sheets = [
        xlsx.Sheet(f"贫困村学校达标情况（{on.isoformat()}）", SCHOOL_HEADERS, schools),
        xlsx.Sheet(f"达标覆盖率（{on.isoformat()}）", COVERAGE_HEADERS, lines),
    ]
    return download(xlsx.workbook(sheets), f"standard-coverage-{on.isoformat()}.xlsx")
