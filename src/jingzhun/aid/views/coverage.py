"""Student aid pages: adjustments and aid coverage."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from jingzhun.aid import documents, selectors, selectors_ui
from jingzhun.aid.views.common import (
    _language,
    _page,
    _paginate,
    _period,
    _period_context,
    aid_view,
)
from jingzhun.core.money import format_yuan

# --------------------------------------------------------------------------- adjustments


@aid_view("GET", "HEAD")
def adjustments(request: HttpRequest) -> HttpResponse:
    """List what reruns changed in the semester: old and new amount, and why."""
    user: Any = request.user
    period = _period(request.GET)
    rows = selectors.adjustment_list(user=user).filter(
        computation__school_year=period.school_year, computation__semester=period.semester
    )
    page = _paginate(request, rows)
    language = _language()
    _version, book = selectors.current_book(user=user, school_year=period.school_year)
    labels = selectors_ui.book_labels(book, language)
    return _page(
        request,
        "aid/adjustments.html",
        {
            "title": _("Adjustments"),
            "active": "adjustments",
            **_period_context(period),
            "page": page,
            "rows": [
                {
                    "a": a,
                    "programme": labels.get(a.entitlement.programme, a.entitlement.programme),
                    "old": format_yuan(a.old_amount),
                    "new": format_yuan(a.new_amount),
                }
                for a in page.object_list
            ],
        },
    )


# --------------------------------------------------------------------------- coverage


@aid_view("GET", "HEAD")
def coverage(request: HttpRequest) -> HttpResponse:
    """Show aid coverage: county, by stage, township and school, and every gap with its reason."""
    user: Any = request.user
    period = _period(request.GET)
    result = selectors.coverage(user=user, school_year=period.school_year, semester=period.semester)
    _version, book = selectors.current_book(user=user, school_year=period.school_year)
    labels = selectors_ui.book_labels(book, _language())
    return _page(
        request,
        "aid/coverage.html",
        {
            "title": _("Aid coverage"),
            "active": "coverage",
            **_period_context(period),
            "coverage": result,
            "gaps": [
                {
                    "g": g,
                    "programme": labels.get(g.programme, g.programme) if g.programme else "—",
                    "amount": format_yuan(g.amount) if g.amount is not None else "—",
                }
                for g in result.gaps
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
    period = _period(request.GET)
    result = selectors.coverage(user=user, school_year=period.school_year, semester=period.semester)
    _version, book = selectors.current_book(user=user, school_year=period.school_year)
    labels = selectors_ui.book_labels(book, _language())

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
                _("Programme"),
                _("Amount"),
                _("Reason"),
                _("Detail"),
            ],
            rows=[
                [
                    g.student_name,
                    g.school_name,
                    labels.get(g.programme, g.programme),
                    g.amount,
                    g.reason_label,
                    g.detail,
                ]
                for g in result.gaps
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
