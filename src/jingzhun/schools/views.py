"""The schools taken from the rolls: the county clerk confirms their township and kind.

A roll file that names schools the platform does not know creates them
(:func:`jingzhun.schools.derive.schools_derive`), with a kind from the grades taught and a
township proposed from the name, or none. This page lists them and saves the choices
through :func:`jingzhun.schools.services.school_update` (audited; the township checked
against the user's jurisdiction), all the changed rows of a page in one transaction.
``?export=xlsx`` downloads the rows the page's filter keeps, every page of them.
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlencode

import xlsxwriter
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.models import ImportBatch, ImportChange
from jingzhun.core.scoping import scope_of, scope_queryset
from jingzhun.registry.models import Area
from jingzhun.schools.models import School
from jingzhun.schools.services import SchoolChanges, school_update

PAGE_SIZE = 50
UNPLACED = "unplaced"
EXPORT_PARAM, EXPORT_XLSX = "export", "xlsx"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def may_place_schools(user: Any) -> bool:
    """Return whether the user may confirm the schools taken from the rolls (county clerks)."""
    return P.user_can(user, P.EDIT_SCHOOLS) and scope_of(user).level == "county"


def _derived_changes(user: Any) -> QuerySet[ImportChange]:
    """The 'school derived' changes of the imports the user may see (those of the county)."""
    batches = scope_queryset(ImportBatch.objects.all(), user)
    return ImportChange.objects.filter(batch__in=batches, entity="school", action="derived")


def derived_schools(user: Any, *, unplaced_only: bool = False) -> QuerySet[School]:
    """Return the schools of the user's county taken from the rolls, by code."""
    if not may_place_schools(user):
        return School.objects.none()
    # Schools outside the county (from the university and outside lists) have no township.
    schools = scope_queryset(School.objects.all(), user).filter(
        code__in=_derived_changes(user).values("key"), location=School.Location.IN_COUNTY
    )
    if unplaced_only:
        schools = schools.filter(township__isnull=True)
    return schools.select_related("township").order_by("code")


def county_townships(user: Any) -> list[Area]:
    """The townships of the user's jurisdiction, by code."""
    return list(
        scope_queryset(Area.objects.filter(level=Area.Level.TOWNSHIP), user).order_by("code")
    )


class _Refused(Exception):
    def __init__(self, school: School, reason: str) -> None:
        super().__init__(reason)
        self.school = school
        self.reason = reason


def _changes_of(
    school: School, post: Any, townships: dict[str, Area], kinds: set[str]
) -> SchoolChanges:
    """Return what the form changes in one school; an empty township choice changes nothing."""
    data: SchoolChanges = {}
    kind = post.get(f"kind-{school.pk}", school.kind)
    if kind not in kinds:
        raise _Refused(school, _("Choose a kind from the list."))
    if kind != school.kind:
        data["kind"] = kind
    chosen = post.get(f"township-{school.pk}", "")
    if chosen:
        township = townships.get(chosen)
        if township is None:
            raise _Refused(school, _("Choose a township of your jurisdiction."))
        if township.pk != school.township_id:
            data["township"] = township
    return data


def _save_page(request: HttpRequest, townships: list[Area]) -> int:
    """Save the changed rows of the posted page in one transaction; return how many changed.

    Raises _Refused (and changes nothing) when one row cannot be saved.
    """
    user = request.user
    ids = {int(v) for v in request.POST.getlist("school") if v.isdigit() and len(v) < 12}
    if len(ids) > PAGE_SIZE:
        ids = set(sorted(ids)[:PAGE_SIZE])
    by_pk = {str(t.pk): t for t in townships}
    kinds = set(School.Kind.values)
    updated = 0
    with transaction.atomic():
        for school in derived_schools(user).filter(pk__in=ids):
            data = _changes_of(school, request.POST, by_pk, kinds)
            if not data:
                continue
            try:
                school_update(actor=user, instance=school, data=data)
            except ValidationError as exc:
                raise _Refused(school, " ".join(exc.messages)) from exc
            updated += 1
    return updated


def _origins(user: Any, codes: list[str] | None = None) -> dict[str, ImportChange]:
    """Return school code -> the latest 'school derived' change of it (with its import)."""
    changes = _derived_changes(user)
    if codes is not None:
        changes = changes.filter(key__in=codes)
    return {c.key: c for c in changes.select_related("batch").order_by("id")}


def _proposed(change: ImportChange | None, names: dict[int, str]) -> str:
    """Return the township the import proposed from the school's name ('' when none)."""
    proposed = (change.changes or {}).get("township_id") if change else None
    return names.get(proposed, "") if isinstance(proposed, int) else ""


def _workbook(title: str, headers: list[str], rows: list[list[str]]) -> bytes:
    """Return an .xlsx of one sheet: a header row, then the rows.

    Every value is written as text (``write_string``, and no string is ever turned into a
    formula), so a school name beginning with = + - @ stays a plain text in Excel.
    """
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    bold = book.add_format({"bold": True, "bg_color": "#E6E6E6", "border": 1})
    name = "".join(c for c in title if c not in "[]:*?/\\")[:31] or "Sheet1"
    sheet = book.add_worksheet(name)
    for col, header in enumerate(headers):
        sheet.write_string(0, col, header, bold)
        sheet.set_column(col, col, max(12, min(40, len(header) * 2 + 2)))
    for r, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if value:
                sheet.write_string(r, col, value)
    sheet.freeze_panes(1, 0)
    if rows:
        sheet.autofilter(0, 0, len(rows), len(headers) - 1)
    book.close()
    return buffer.getvalue()


def _derived_export(
    request: HttpRequest, townships: list[Area], unplaced_only: bool
) -> HttpResponse:
    """Download the schools the page's filter keeps, every page of them (.xlsx)."""
    user = request.user
    schools = list(derived_schools(user, unplaced_only=unplaced_only))
    origin = _origins(user)
    names = {t.pk: t.name for t in townships}
    kinds = dict(School.Kind.choices)
    rows = []
    for school in schools:
        change = origin.get(school.code)
        batch = change.batch if change else None
        rows.append(
            [
                school.code,
                school.name,
                str(kinds.get(school.kind, school.kind)),
                school.township.name if school.township else "",
                _proposed(change, names),
                f"#{batch.pk} {batch.file_name}" if batch else "",
                _("Placed") if school.township_id else _("Needs its township"),
            ]
        )
    headers = [
        _("School code"),
        pgettext("school", "Name"),
        _("Kind"),
        _("Township"),
        _("Township proposed from its name"),
        _("Import"),
        _("Status"),
    ]
    content = _workbook(_("Schools taken from the rolls"), headers, rows)
    audit_record(
        actor=user,
        action="export.schools_derived",
        request=request,
        data={"rows": len(rows), "filters": {"show": UNPLACED if unplaced_only else ""}},
    )
    response = HttpResponse(content, content_type=XLSX)
    name = f"schools-from-rolls-{timezone.localdate().isoformat()}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def derived_list(request: HttpRequest) -> HttpResponse:
    """List the schools taken from the rolls; save the townships and kinds chosen."""
    user = request.user
    if not may_place_schools(user):
        audit_record(
            actor=user,
            action="access.denied",
            request=request,
            data={"path": request.path, "capability": P.EDIT_SCHOOLS},
        )
        raise Http404
    townships = county_townships(user)
    if request.method == "POST":
        try:
            updated = _save_page(request, townships)
        except _Refused as refused:
            messages.error(
                request,
                _("%(school)s (%(code)s): %(reason)s; nothing was saved.")
                % {
                    "school": refused.school.name,
                    "code": refused.school.code,
                    "reason": refused.reason,
                },
            )
        else:
            messages.success(
                request,
                ngettext("%(n)d school updated.", "%(n)d schools updated.", updated)
                % {"n": updated},
            )
        return redirect(request.get_full_path())
    unplaced_only = request.GET.get("show", "") == UNPLACED
    if request.GET.get(EXPORT_PARAM) == EXPORT_XLSX:
        return _derived_export(request, townships, unplaced_only)
    page = Paginator(derived_schools(user, unplaced_only=unplaced_only), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    names = {t.pk: t.name for t in townships}
    origin = _origins(user, [s.code for s in page])
    rows = []
    for school in page:
        change = origin.get(school.code)
        rows.append(
            {
                "school": school,
                "batch": change.batch if change else None,
                "proposed": _proposed(change, names),
            }
        )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "title": _("Schools taken from the rolls"),
        "schools": page,
        "rows": rows,
        "townships": townships,
        "kinds": School.Kind.choices,
        "unplaced_only": unplaced_only,
        "filter_query": query.urlencode(),
        "export_query": urlencode(
            {**({"show": UNPLACED} if unplaced_only else {}), EXPORT_PARAM: EXPORT_XLSX}
        ),
    }
    return render(request, "schools/derived.html", {**admin.site.each_context(request), **context})
