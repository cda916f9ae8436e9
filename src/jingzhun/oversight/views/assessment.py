"""Supervision pages: the annual assessment of schools and township offices (III.3).

The page shows, for a school year, every township's and school's indicators, score and
county-wide rank; each figure links to the records behind it. A county user or inspector sees
every row, a township officer their township and its schools, a principal their school; a
class teacher and a user with no jurisdiction get the 403 page. The workbook and the PDF are
official documents and always in Chinese.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import URLPattern, path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from jingzhun.core import permissions as P
from jingzhun.core.downloads import attachment as download
from jingzhun.core.errors import forbidden
from jingzhun.core.listing import paginate
from jingzhun.core.pdf import cjk_font, pdf_bytes, printable
from jingzhun.core.working_year import school_year_asked
from jingzhun.core.xlsx import Sheet, workbook
from jingzhun.oversight.assessment import (
    Assessment,
    Figure,
    UnitScore,
    assessment_for,
    may_see_assessment,
    year_choices,
)
from jingzhun.oversight.assessment_records import get_unit, records
from jingzhun.oversight.assessment_rules import WeightsFileError
from jingzhun.oversight.views.common import page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
View = Callable[..., HttpResponseBase]

#: The indicators' names in the official documents (always Chinese).
CHINESE_NAMES = {
    "identification": "精准识别覆盖率",
    "aid_coverage": "资助覆盖率",
    "aid_timeliness": "资助及时发放率",
    "dropout_cases": "控辍案件按期销号率",
    "responsibility": "责任链覆盖率",
    "project_nodes": "项目按期完成率",
    "rectification": "问题整改率",
    "training": "贫困村教师培训率",
}


def assessment_view(view: View) -> View:
    """Require a login, GET and a user of a county, township or school (else the 403 page)."""

    @functools.wraps(view)
    def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not may_see_assessment(request.user):
            return forbidden(request, P.VIEW)
        return view(request, *args, **kwargs)

    return login_required(require_GET(inner))


# --------------------------------------------------------------------------- shown figures


def figure_text(figure: Figure | None, weight: Decimal) -> str:
    """Return a figure as the page shows it, with why there is none."""
    if not weight:
        return _("not assessed")
    if figure is None or figure.state == "not_applicable":
        return _("not applicable")
    if figure.state == "not_available":
        return _("not available yet")
    return f"{figure.percent}% ({figure.part}/{figure.whole})"


def figure_cn(figure: Figure | None, weight: Decimal) -> str:
    if not weight:
        return "不考核"
    if figure is None or figure.state == "not_applicable":
        return "不适用"
    if figure.state == "not_available":
        return "暂无数据"
    return f"{figure.percent}%（{figure.part}/{figure.whole}）"


def _rows(result: Assessment, units: list[UnitScore]) -> list[dict[str, Any]]:
    out = []
    for unit in units:
        param = "school" if unit.level == "school" else "township"
        cells = []
        for indicator in result.indicators:
            weight = result.weight(indicator.id, unit.level)
            figure = unit.figures.get(indicator.id)
            url = ""
            if weight and figure is not None and figure.state == "ok":
                query = urlencode({param: unit.key, "year": result.year})
                url = reverse("oversight:assessment-records", args=[indicator.id]) + f"?{query}"
            cells.append(
                {"text": figure_text(figure, weight), "url": url, "state": _state(figure, weight)}
            )
        out.append({"unit": unit, "cells": cells})
    return out


def _state(figure: Figure | None, weight: Decimal) -> str:
    if not weight:
        return "not_assessed"
    return figure.state if figure is not None else "not_applicable"


def _assessment(request: HttpRequest) -> tuple[Assessment | None, list[str], int]:
    year = school_year_asked(request.GET, request.user)
    try:
        return assessment_for(user=request.user, year=year), [], year
    except WeightsFileError as exc:
        return None, [f"{exc.source}: {e}" for e in exc.errors], year


@assessment_view
def assessment_page(request: HttpRequest) -> HttpResponse:
    """Show the year's scores and ranks of the townships and schools the user may see."""
    result, errors, year = _assessment(request)
    context: dict[str, Any] = {
        "active": "assessment",
        "title": _("Annual assessment"),
        "year": year,
        "years": year_choices(year),
        "errors": errors,
        "result": result,
    }
    if result is not None:
        context["township_rows"] = _rows(result, result.townships)
        context["school_rows"] = _rows(result, result.schools)
        context["weights"] = [
            {
                "indicator": i,
                "spec": result.weights.of(i.id) if result.weights else None,
            }
            for i in result.indicators
        ]
    return page(request, "oversight/assessment.html", context)


@assessment_view
def assessment_records(request: HttpRequest, indicator: str) -> HttpResponse:
    """List the records behind one unit's figure (those that fall short), paged."""
    year = school_year_asked(request.GET, request.user)
    unit = get_unit(
        user=request.user,
        school=str(request.GET.get("school", "")),
        township=str(request.GET.get("township", "")),
    )
    found = records(user=request.user, indicator_id=indicator, year=year, unit=unit)
    param = "school" if unit.level == "school" else "township"
    context = {
        "active": "assessment",
        "title": found.indicator.records,
        "year": year,
        "found": found,
        "page": paginate(request.GET, found.rows),
        "query": urlencode({param: unit.key, "year": year}),
    }
    return page(request, "oversight/assessment_records.html", context)


# --------------------------------------------------------------------------- documents


def _table(result: Assessment, units: list[UnitScore], level: str) -> tuple[list[str], list[Any]]:
    head = "乡镇" if level == "township" else "学校"
    headers = ["名次", head, *(CHINESE_NAMES[i.id] for i in result.indicators), "得分"]
    if level == "school":
        headers.insert(1, "乡镇")
    rows: list[list[Any]] = []
    for unit in units:
        row: list[Any] = [unit.rank if unit.rank is not None else "—"]
        if level == "school":
            row.append(unit.township_name)
        row.append(unit.name)
        row += [
            figure_cn(unit.figures.get(i.id), result.weight(i.id, level)) for i in result.indicators
        ]
        row.append(float(unit.score) if unit.score is not None else "—")
        rows.append(row)
    return headers, rows


def _note(result: Assessment) -> str:
    version = result.weights.version if result.weights else ""
    return (
        f"{result.year}-{result.year + 1}学年，数据截至{result.as_of.isoformat()}，"
        f"权重文件版本{version}。得分＝适用指标得分之和÷适用指标权重之和×100"
        "（不适用、暂无数据的指标不计入，权重按适用指标重新归一）；名次为全县排名。"
    )


@assessment_view
def assessment_xlsx(request: HttpRequest) -> HttpResponse:
    """Download the year's assessment the user may see (.xlsx, in Chinese)."""
    result, errors, year = _assessment(request)
    if result is None:
        return page(
            request,
            "oversight/assessment.html",
            {"active": "assessment", "errors": errors, "year": year, "years": [year]},
            status=409,
        )
    sheets = []
    for level, units, title in (
        ("township", result.townships, "乡镇年度考核"),
        ("school", result.schools, "学校年度考核"),
    ):
        if units:
            headers, rows = _table(result, units, level)
            sheets.append(Sheet(f"{year}学年{title}", headers, rows))
    sheets.append(Sheet("说明", ["说明"], [[_note(result)]]))
    return download(workbook(sheets), f"年度考核-{year}.xlsx", XLSX)


def assessment_document(result: Assessment) -> bytes:
    """Return the assessment as a PDF (landscape A4): townships, then schools."""
    font = cjk_font()
    title = ParagraphStyle("title", fontName=font, fontSize=16, leading=24, alignment=TA_CENTER)
    plain = ParagraphStyle("plain", fontName=font, fontSize=9, leading=13, wordWrap="CJK")
    small = ParagraphStyle("small", fontName=font, fontSize=8, leading=11, wordWrap="CJK")

    def para(text: Any, style: ParagraphStyle) -> Paragraph:
        return Paragraph(escape(printable(str(text), font)), style)

    story: list[Any] = [
        para(f"{result.year}-{result.year + 1}学年教育精准扶贫年度考核结果", title),
        Spacer(1, 4 * mm),
        para(_note(result), plain),
    ]
    for level, units, heading in (
        ("township", result.townships, "一、乡镇（教育办）"),
        ("school", result.schools, "二、学校"),
    ):
        if not units:
            continue
        headers, rows = _table(result, units, level)
        data = [[para(h, small) for h in headers]] + [[para(c, small) for c in r] for r in rows]
        table = Table(data, repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, "#888888"),
                    ("BACKGROUND", (0, 0), (-1, 0), "#E6E6E6"),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        story += [Spacer(1, 5 * mm), para(heading, plain), Spacer(1, 2 * mm), table]
    return pdf_bytes(story, pagesize=landscape(A4), side_mm=12, top_mm=15)


@assessment_view
def assessment_pdf(request: HttpRequest) -> HttpResponse:
    """Download the year's assessment the user may see (PDF, in Chinese)."""
    result, errors, year = _assessment(request)
    if result is None:
        return page(
            request,
            "oversight/assessment.html",
            {"active": "assessment", "errors": errors, "year": year, "years": [year]},
            status=409,
        )
    return download(assessment_document(result), f"年度考核-{year}.pdf", "application/pdf")


urlpatterns: list[URLPattern] = [
    path("assessment/", assessment_page, name="assessment"),
    path("assessment.xlsx", assessment_xlsx, name="assessment-xlsx"),
    path("assessment.pdf", assessment_pdf, name="assessment-pdf"),
    path("assessment/<slug:indicator>/", assessment_records, name="assessment-records"),
]
