"""Quotas (II.2.5): the places of the county's quality high schools (优质高中) in a school year
and the share taken by children of poor villages and townships, from the rolls; and the
county's list of quality schools, changed through a preview and a confirmation."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.core import permissions as P
from jingzhun.core import xlsx
from jingzhun.core.downloads import attachment as download
from jingzhun.core.errors import forbidden
from jingzhun.core.working_year import school_year_asked
from jingzhun.projects import selectors, services
from jingzhun.projects.views.common import may_create, page, percent, projects_view

SCHOOL_HEADERS = (
    "学校代码",
    "学校",
    "所在乡镇",
    "认定日期",
    "一年级招生",
    "其中贫困村（乡镇）建档立卡学生",
    "比例",
    "其中在册建档立卡户学生",
    "在校生",
    "其中贫困村（乡镇）建档立卡学生",
    "比例",
)
ORIGIN_HEADERS = ("乡镇代码", "乡镇", "一年级招生", "在校生")


def _share(n: int, of: int) -> float | str:
    return round(n / of, 4) if of else ""


@projects_view("GET", "HEAD")
def quotas(request: HttpRequest) -> HttpResponse:
    """Show the quality high schools' places in a school year and the poor areas' share."""
    user: Any = request.user
    year = school_year_asked(request.GET, user)
    result = selectors.quotas(user, school_year=year)
    return page(
        request,
        "projects/quotas.html",
        {
            "title": _("Quality high-school places"),
            "active": "quotas",
            "year": year,
            "years": list(range(year - 3, year + 2)),
            "q": result,
            "schools": [
                {
                    "q": line,
                    "intake_share": percent(line.intake.share),
                    "students_share": percent(line.students.share),
                }
                for line in result.schools
            ],
            "intake_share": percent(result.intake.share),
            "students_share": percent(result.students.share),
            "may_designate": may_create(user),
        },
    )


@projects_view("GET", "HEAD")
def quotas_export(request: HttpRequest) -> HttpResponse:
    """Download the quotas of a school year: each quality school, and the townships of origin."""
    user: Any = request.user
    year = school_year_asked(request.GET, user)
    result = selectors.quotas(user, school_year=year)

    def counts(c: selectors.QuotaCount) -> list[Any]:
        return [c.places, c.poor_area, _share(c.poor_area, c.places), c.poor_family]

    rows = [
        [
            line.code,
            line.name,
            line.township_name,
            line.designated_on.isoformat(),
            *counts(line.intake),
            line.students.places,
            line.students.poor_area,
            _share(line.students.poor_area, line.students.places),
        ]
        for line in result.schools
    ]
    rows.append(
        [
            "",
            "合计",
            "",
            "",
            *counts(result.intake),
            result.students.places,
            result.students.poor_area,
            _share(result.students.poor_area, result.students.places),
        ]
    )
    origins = [[o.code, o.name, o.intake, o.students] for o in result.origins]
    label = f"{year}-{year + 1}学年"
    sheets = [
        xlsx.Sheet(f"优质高中招生名额（{label}）", SCHOOL_HEADERS, rows),
        xlsx.Sheet(f"贫困村（乡镇）学生来源（{label}）", ORIGIN_HEADERS, origins),
    ]
    return download(xlsx.workbook(sheets), f"quality-high-school-places-{year}.xlsx")


@projects_view("GET", "POST")
def quality_schools(request: HttpRequest) -> HttpResponse:
    """Name the county's quality high schools (county editors): tick, preview, confirm."""
    user: Any = request.user
    if not may_create(user):
        return forbidden(request, P.EDIT_SCHOOLS)
    choices = selectors.high_school_choices(user=user)
    current = {q.school_id for q in selectors.quality_high_schools()}
    if request.method == "POST":
        by_id = {s.pk: s for s in choices}
        picked = [
            by_id[int(v)] for v in request.POST.getlist("school") if v.isdigit() and int(v) in by_id
        ]
        confirm = request.POST.get("confirm") == "1"
        note = str(request.POST.get("note", ""))[:300]
        try:
            change = services.quality_high_schools_set(
                actor=user,
                schools=picked,
                on=timezone.localdate(),
                note=note,
                dry_run=not confirm,
            )
        except PermissionDenied:
            return forbidden(request, P.EDIT_SCHOOLS)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("projects:quality-schools")
        if change.empty:
            messages.info(request, _("Nothing changes: the list is as it was."))
            return redirect("projects:quotas")
        if confirm:
            messages.success(
                request,
                _(
                    "The list of quality high schools is saved: %(added)d added, %(removed)d removed."
                )
                % {"added": len(change.added), "removed": len(change.removed)},
            )
            return redirect("projects:quotas")
        return page(
            request,
            "projects/quality_schools.html",
            {
                "title": _("Quality high schools"),
                "active": "quotas",
                "preview": change,
                "picked": [s.pk for s in picked],
                "note": note,
                "choices": [(s, s.pk in current) for s in choices],
            },
        )
    return page(
        request,
        "projects/quality_schools.html",
        {
            "title": _("Quality high schools"),
            "active": "quotas",
            "preview": None,
            "choices": [(s, s.pk in current) for s in choices],
        },
    )
