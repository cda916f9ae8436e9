"""The II.3 figures per school, rolled up to townships and the county: staffing gaps
(II.3.1), senior titles and the 20-years list (II.3.4), and teacher coverage (I.3).

Each table of schools is filtered by township and school like a list and paged; the
township roll-up and the total are of the filtered schools, and the download holds the same
schools, every page of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.core import xlsx
from jingzhun.core.downloads import attachment as download
from jingzhun.core.listing import ListParams, paginate
from jingzhun.core.scoping import scope_of
from jingzhun.core.working_year import school_year_asked
from jingzhun.schools.selectors import list_choices
from jingzhun.teachers import documents, selectors
from jingzhun.teachers.selectors import SchoolLine, roll_up
from jingzhun.teachers.views.common import (
    PDF,
    XLSX,
    page,
    percent,
    teachers_view,
)

R = TypeVar("R", bound=SchoolLine)


def place_params(request: HttpRequest, *extra: str) -> ListParams:
    return ListParams.read(request.GET, extra=("year", *extra))


def filter_rows(rows: Sequence[R], lp: ListParams) -> list[R]:
    """Keep the school rows of the chosen township and school."""
    return [
        r
        for r in rows
        if (not lp.township or r.township_code.startswith(lp.township))
        and (not lp.school_id or r.school_id == lp.school_id)
    ]


def tables(request: HttpRequest, rows: list[R], lp: ListParams) -> dict[str, Any]:
    """Return the page's school rows (paged), their township roll-up and their total."""
    totals = roll_up(rows, by="county")
    return {
        "lp": lp,
        "choices": list_choices(user=request.user, params=lp, search=False),
        "schools": paginate(request.GET, rows),
        "townships": roll_up(rows, by="township")
        if scope_of(request.user).level != "school"
        else [],
        "total": totals[0] if totals else None,
        "count": len(rows),
    }


# --------------------------------------------------------------------------- staffing (II.3.1)

STAFFING_HEADERS = (
    "乡镇",
    "学校",
    "小学在校生",
    "初中在校生",
    "高中在校生",
    "寄宿生",
    "应配教师",
    "在岗教师",
    "缺编",
)


def _staffing(request: HttpRequest) -> tuple[int, ListParams, list[selectors.StaffingRow]]:
    year = school_year_asked(request.GET, request.user)
    lp = place_params(request)
    rows = filter_rows(selectors.staffing_gaps(user=request.user, school_year=year), lp)
    return year, lp, rows


@teachers_view("GET", "HEAD")
def staffing(request: HttpRequest) -> HttpResponse:
    """Show each school's required posts, teachers in post and gap, for the school year."""
    year, lp, rows = _staffing(request)
    return page(
        request,
        "teachers/staffing.html",
        {
            "title": _("Staffing gaps"),
            "active": "staffing",
            "year": year,
            "year_label": f"{year}–{year + 1}",
            **tables(request, rows, lp),
            "ratios": {
                "primary": settings.TEACHER_RATIO_PRIMARY,
                "junior": settings.TEACHER_RATIO_JUNIOR,
                "senior": settings.TEACHER_RATIO_SENIOR,
                "boarders": settings.TEACHER_BOARDERS_PER_EXTRA_POST,
                "point": settings.TEACHER_EXTRA_POSTS_PER_TEACHING_POINT,
            },
        },
    )


def _staffing_line(r: selectors.StaffingRow, township: str, school: str) -> list[Any]:
    return [
        township,
        school,
        r.primary_pupils,
        r.junior_pupils,
        r.senior_pupils,
        r.boarders,
        r.required,
        r.teachers,
        r.gap,
    ]


@teachers_view("GET", "HEAD")
def staffing_export(request: HttpRequest) -> HttpResponse:
    """Download the staffing gaps of the filtered schools, by school, township and in total."""
    year, _lp, rows = _staffing(request)
    sheets = [
        xlsx.Sheet(
            f"{year}-{year + 1}学年教师缺编（按学校）",
            STAFFING_HEADERS,
            [_staffing_line(r, r.township_name, r.school_name) for r in rows],
        ),
        xlsx.Sheet(
            "按乡镇",
            STAFFING_HEADERS,
            [_staffing_line(r, r.township_name, f"{r.schools}所") for r in roll_up(rows)],
        ),
        xlsx.Sheet(
            "合计",
            STAFFING_HEADERS,
            [_staffing_line(r, "合计", f"{r.schools}所") for r in roll_up(rows, by="county")],
        ),
    ]
    return download(xlsx.workbook(sheets), f"teacher-staffing-{year}.xlsx", XLSX)


# --------------------------------------------------------------------------- titles (II.3.4)

TITLE_HEADERS = ("乡镇", "学校", "在岗教师", "高级职称", "高级职称占比")
LONG_HEADERS = ("序号", "姓名", "身份证号", "乡镇", "学校", "乡村学校和教学点任教年限")


def _titles(request: HttpRequest) -> tuple[ListParams, list[selectors.TitleRow]]:
    lp = place_params(request)
    return lp, filter_rows(selectors.senior_title_shares(user=request.user), lp)


def _long_service(request: HttpRequest, lp: ListParams) -> list[selectors.LongServiceTeacher]:
    rows = selectors.long_service_teachers(user=request.user)
    return [
        t
        for t in rows
        if (not lp.township or t.township_code.startswith(lp.township))
        and (not lp.school_id or t.school_id == lp.school_id)
    ]


@teachers_view("GET", "HEAD")
def titles(request: HttpRequest) -> HttpResponse:
    """Show the senior-title share of each village school and the 20-years list."""
    lp, rows = _titles(request)
    long_service = _long_service(request, lp)
    names = selectors.township_names(user=request.user)
    listed = paginate(request.GET, long_service, param="lpage")
    return page(
        request,
        "teachers/titles.html",
        {
            "title": _("Titles and commendation"),
            "active": "titles",
            **tables(request, rows, lp),
            "years": settings.TEACHER_COMMENDATION_YEARS,
            "long_service": listed,
            "long_lines": [
                {"t": t, "township": names.get(t.township_code, "")} for t in listed.object_list
            ],
            "long_total": len(long_service),
        },
    )


@teachers_view("GET", "HEAD")
def titles_export(request: HttpRequest) -> HttpResponse:
    """Download the senior-title shares of the filtered village schools."""
    _lp, rows = _titles(request)

    def line(r: selectors.TitleRow, township: str, school: str) -> list[Any]:
        share = r.senior_share
        return [township, school, r.teachers, r.senior, "" if share is None else round(share, 4)]

    sheets = [
        xlsx.Sheet(
            "乡村学校高级职称教师占比",
            TITLE_HEADERS,
            [line(r, r.township_name, r.school_name) for r in rows]
            + [line(r, r.township_name, f"{r.schools}所") for r in roll_up(rows)]
            + [line(r, "合计", f"{r.schools}所") for r in roll_up(rows, by="county")],
        )
    ]
    return download(xlsx.workbook(sheets), "teacher-senior-titles.xlsx", XLSX)


def _long_lines(request: HttpRequest) -> list[documents.LongServiceLine]:
    lp = place_params(request)
    names = selectors.township_names(user=request.user)
    return [
        documents.LongServiceLine(
            name=t.name,
            id_masked=t.id_masked,
            township=names.get(t.township_code, ""),
            school=t.school_name,
            years=t.years,
        )
        for t in _long_service(request, lp)
    ]


@teachers_view("GET", "HEAD")
def long_service_export(request: HttpRequest) -> HttpResponse:
    """Download the teachers with 20 years or more at village schools (.xlsx), as filtered."""
    years = settings.TEACHER_COMMENDATION_YEARS
    rows = [
        [n, x.name, x.id_masked, x.township, x.school, x.years]
        for n, x in enumerate(_long_lines(request), start=1)
    ]
    sheet = xlsx.Sheet(f"在乡村学校和教学点任教{years}年以上教师名单", LONG_HEADERS, rows)
    day = timezone.localdate().isoformat()
    return download(xlsx.workbook([sheet]), f"teachers-long-service-{day}.xlsx", XLSX)


@teachers_view("GET", "HEAD")
def long_service_pdf(request: HttpRequest) -> HttpResponse:
    """Download the same list as a PDF, to print and sign."""
    content = documents.long_service_pdf(
        _long_lines(request),
        issuer=selectors.jurisdiction_name(user=request.user),
        on=timezone.localdate(),
        years=settings.TEACHER_COMMENDATION_YEARS,
    )
    day = timezone.localdate().isoformat()
    return download(content, f"teachers-long-service-{day}.pdf", PDF)


# --------------------------------------------------------------------------- coverage (I.3)

COVERAGE_HEADERS = (
    "乡镇",
    "学校",
    "补充到位（无缺编）",
    "已培训",
    "交流达标",
    "乡村教师生活补助（已发/应发学校）",
    "各项均达到",
)


def _coverage(request: HttpRequest) -> tuple[int, ListParams, list[selectors.CoverageRow]]:
    year = school_year_asked(request.GET, request.user)
    lp = place_params(request)
    # Training is counted in the calendar year the school year starts in.
    rows = selectors.teacher_coverage(user=request.user, school_year=year, year=year)
    return year, lp, filter_rows(rows, lp)


@teachers_view("GET", "HEAD")
def coverage(request: HttpRequest) -> HttpResponse:
    """Show teacher coverage (I.3) of each poor-village school, township and the county."""
    year, lp, rows = _coverage(request)
    return page(
        request,
        "teachers/coverage.html",
        {
            "title": _("Teacher coverage"),
            "active": "coverage",
            "year": year,
            "year_label": f"{year}–{year + 1}",
            "training_year": year,
            "allowance_month": selectors.allowance_month(timezone.localdate()).strftime("%Y-%m"),
            **tables(request, rows, lp),
            "shares": _coverage_shares(roll_up(rows, by="county")),
        },
    )


def _coverage_shares(totals: list[selectors.CoverageRow]) -> dict[str, str]:
    if not totals:
        return {}
    t = totals[0]
    return {
        name: percent(getattr(t, name) / t.schools if t.schools else None)
        for name in ("supplemented", "trained", "exchanged", "covered")
    }


@teachers_view("GET", "HEAD")
def coverage_export(request: HttpRequest) -> HttpResponse:
    """Download the coverage of the filtered poor-village schools, by school and township."""
    year, _lp, rows = _coverage(request)

    def line(r: selectors.CoverageRow, township: str, school: str) -> list[Any]:
        return [
            township,
            school,
            r.supplemented,
            r.trained,
            r.exchanged,
            f"{r.allowance_paid}/{r.allowance_due}",
            r.covered,
        ]

    sheets = [
        xlsx.Sheet(
            f"{year}-{year + 1}学年贫困村学校教师全覆盖",
            COVERAGE_HEADERS,
            [line(r, r.township_name, r.school_name) for r in rows]
            + [line(r, r.township_name, f"{r.schools}所") for r in roll_up(rows)]
            + [line(r, "合计", f"{r.schools}所") for r in roll_up(rows, by="county")],
        )
    ]
    return download(xlsx.workbook(sheets), f"teacher-coverage-{year}.xlsx", XLSX)
