"""Pages for what imports left to do: the rows set aside to fix, and the data-quality tasks.

Reads go through :mod:`jingzhun.core.setaside` and :mod:`jingzhun.core.quality_list`
(scoped; missing and forbidden look the same, a 404); writes through their services.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.models import DataQualityTask, ImportBatch, SetAsideRow
from jingzhun.core.quality_list import STATUS_CHOICES as TASK_STATUSES
from jingzhun.core.quality_list import STATUS_LABELS as TASK_STATUS_LABELS
from jingzhun.core.quality_list import (
    area_names,
    export_quality,
    may_see_tasks,
    quality_counts,
    quality_tasks,
    where,
)
from jingzhun.core.reveal import REASON_MAX_LENGTH, REASON_MIN_LENGTH, RevealLimitReached
from jingzhun.core.scoping import scope_of
from jingzhun.core.setaside import (
    STATUS_CHOICES,
    STATUS_LABELS,
    export_set_aside,
    mask_ids_in,
    may_fix,
    set_aside_batches,
    set_aside_cells,
    set_aside_dismiss,
    set_aside_fix,
    set_aside_get,
    set_aside_reveal,
    set_aside_rows,
)

PAGE_SIZE = 50
MAX_CELL_LENGTH = 1000


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render a page inside the back office's layout (sidebar, language switcher)."""
    return render(request, template, {**admin.site.each_context(request), **context}, status=status)


def _not_found(request: HttpRequest, capability: str) -> None:
    """Log the refusal and answer 404, as for a record that does not exist."""
    audit_record(
        actor=request.user,
        action="access.denied",
        request=request,
        data={"path": request.path, "capability": capability},
    )
    raise Http404


def _paginate(request: HttpRequest, items: Any) -> Page[Any]:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def _without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _download(write: Callable[[Path], object], filename: str) -> FileResponse:
    """Write an export to a private temporary file and stream it; the file is gone afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="jz-export-"))
    try:
        path = folder / filename
        write(path)
        handle = path.open("rb")
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the open handle still reads the data
    return FileResponse(handle, as_attachment=True, filename=filename)


def _status_filter(request: HttpRequest, values: list[str]) -> str:
    """Return the status asked for ('open' unless said; 'all' gives '')."""
    status = request.GET.get("status", "open")
    if status == "all":
        return ""
    return status if status in values else "open"


# --------------------------------------------------------------------------- rows to fix


def _set_aside_filters(request: HttpRequest) -> dict[str, Any]:
    kind = request.GET.get("kind", "")
    batch = request.GET.get("batch", "")
    return {
        "kind": kind if kind in ImportBatch.Kind.values else "",
        "batch_id": int(batch) if batch.isdigit() and len(batch) < 12 else None,
        "status": _status_filter(request, SetAsideRow.Status.values),
    }


@login_required
@require_safe
def set_aside_list(request: HttpRequest) -> HttpResponse:
    """List the rows imports set aside in the user's county, to fix or dismiss."""
    user = request.user
    if not may_fix(user):
        _not_found(request, P.IMPORT_DATA)
    filters = _set_aside_filters(request)
    rows = _paginate(request, set_aside_rows(user=user, **filters))
    for row in rows:
        row.status_label = STATUS_LABELS.get(row.status, row.status)
        row.shown_reasons = [
            {"column": r.get("column", ""), "reason": mask_ids_in(str(r.get("reason", "")))}
            for r in row.reasons
        ]
    return _page(
        request,
        "imports/set_aside_list.html",
        {
            "title": _("Rows to fix"),
            "rows": rows,
            "filters": filters,
            "kinds": ImportBatch.Kind.choices,
            "statuses": STATUS_CHOICES,
            "batches": set_aside_batches(user=user),
            "filter_query": _without_page(request),
        },
    )


@login_required
@require_safe
def set_aside_export(request: HttpRequest) -> FileResponse:
    """Download the filtered list of set-aside rows (.xlsx): reasons, never the values."""
    user = request.user
    if not may_fix(user):
        _not_found(request, P.IMPORT_DATA)
    rows = set_aside_rows(user=user, **_set_aside_filters(request))
    return _download(
        lambda path: export_set_aside(user=user, rows=rows, path=path), "rows-to-fix.xlsx"
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        min_length=REASON_MIN_LENGTH,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    )


def _cell_rows(cells: list[Any], submitted: dict[str, str] | None) -> list[dict[str, Any]]:
    """Return the cells as the form shows them: masked cells start blank, with the mask as a
    hint; after a failed fix, what the user typed."""
    shown = []
    for cell in cells:
        if submitted is not None:
            value = submitted.get(cell.name, "")
        else:
            value = "" if cell.masked else cell.value
        shown.append(
            {
                "name": cell.name,
                "header": cell.header,
                "what": cell.what,
                "value": value,
                "placeholder": cell.value if cell.masked else "",
                "masked": cell.masked,
                "shown": cell.value,
                "required": cell.required,
            }
        )
    return shown


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def set_aside_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one set-aside row (ID-like values masked) and fix it on the page, or dismiss it."""
    user = request.user
    if not may_fix(user):
        _not_found(request, P.IMPORT_DATA)
    row = set_aside_get(user=user, pk=pk)
    may_see_whole = P.user_can(user, P.VIEW_FULL_ID)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    reveal_form = ReasonForm(request.POST if action == "reveal" else None, prefix="reveal")
    dismiss_form = ReasonForm(request.POST if action == "dismiss" else None, prefix="dismiss")
    whole = False
    submitted: dict[str, str] | None = None
    new_reasons: list[dict[str, str]] | None = None
    tried: ImportBatch | None = None
    status = 200
    if action == "reveal" and reveal_form.is_valid():
        try:
            set_aside_reveal(
                user=user, row=row, reason=reveal_form.cleaned_data["reason"], request=request
            )
        except ValidationError as exc:
            reveal_form.add_error(None, exc)
        except RevealLimitReached as exc:  # the service wrote the alert
            reveal_form.add_error(None, str(exc))
            status = 429
        else:
            whole = True
    elif action == "dismiss" and dismiss_form.is_valid():
        try:
            set_aside_dismiss(actor=user, row=row, reason=dismiss_form.cleaned_data["reason"])
        except ValidationError as exc:
            dismiss_form.add_error(None, exc)
        else:
            messages.success(request, _("Line %(line)d was dismissed.") % {"line": row.line})
            return redirect("imports:set-aside")
    elif action == "fix":
        # The form showed whole values only after a logged reveal; then a blank cell is blank.
        whole = request.POST.get("whole") == "1" and may_see_whole
        cells = set_aside_cells(row, whole=whole)
        submitted = {c.name: request.POST.get(c.name, "")[:MAX_CELL_LENGTH] for c in cells}
        values = {}
        for cell in cells:
            typed = submitted[cell.name]
            keep = cell.masked and typed.strip() in ("", cell.value)
            values[cell.header] = cell.original if keep else typed
        try:
            result = set_aside_fix(actor=user, row=row, values=values)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("imports:set-aside-detail", pk=row.pk)
        if result.fixed:
            messages.success(
                request,
                _("Line %(line)d landed (import %(batch)d); the row is closed as fixed.")
                % {"line": row.line, "batch": result.batch.pk},
            )
            return redirect("imports:set-aside")
        if result.new_row is not None:
            messages.warning(request, _("The row still has errors; it was set aside again."))
            return redirect("imports:set-aside-detail", pk=result.new_row.pk)
        new_reasons = [
            {"column": r["column"], "reason": mask_ids_in(r["reason"])} for r in result.reasons
        ]
        tried = result.batch
    cells = set_aside_cells(row, whole=whole)
    reasons = [
        {"column": r.get("column", ""), "reason": mask_ids_in(str(r.get("reason", "")))}
        for r in row.reasons
    ]
    return _page(
        request,
        "imports/set_aside_detail.html",
        {
            "title": _("Row to fix"),
            "row": row,
            "status_label": STATUS_LABELS.get(row.status, row.status),
            "is_open": row.status == SetAsideRow.Status.OPEN,
            "cells": _cell_rows(cells, submitted),
            "any_masked": any(c.masked for c in cells),
            "whole": whole,
            "may_see_whole": may_see_whole,
            "reasons": reasons,
            "new_reasons": new_reasons,
            "tried": tried,
            "reveal_form": reveal_form,
            "dismiss_form": dismiss_form,
        },
        status=status,
    )


# --------------------------------------------------------------------------- data quality


def _quality_filters(request: HttpRequest) -> dict[str, Any]:
    kind = request.GET.get("kind", "")
    return {
        "kind": kind if kind in DataQualityTask.Kind.values else "",
        "status": _status_filter(request, DataQualityTask.Status.values),
    }


@login_required
@require_safe
def quality_list(request: HttpRequest) -> HttpResponse:
    """List the data-quality tasks in the user's jurisdiction, with counts per kind."""
    user = request.user
    if not may_see_tasks(user):
        _not_found(request, P.VIEW)
    filters = _quality_filters(request)
    tasks = _paginate(request, quality_tasks(user=user, **filters))
    names = area_names([t.area_code for t in tasks])
    for task in tasks:
        task.township_name, task.village_name = where(task.area_code, names)
        task.label, task.detail = mask_ids_in(task.label), mask_ids_in(task.detail)
        task.status_label = TASK_STATUS_LABELS.get(task.status, task.status)
    return _page(
        request,
        "imports/quality_list.html",
        {
            "title": _("Data-quality tasks"),
            "tasks": tasks,
            "filters": filters,
            "counts": quality_counts(user=user, status=filters["status"]),
            "kinds": DataQualityTask.Kind.choices,
            "statuses": TASK_STATUSES,
            "filter_query": _without_page(request),
            "may_import": may_fix(user),
            # The schools page (jingzhun.schools) is for county clerks who may edit schools.
            "may_place_schools": P.user_can(user, P.EDIT_SCHOOLS)
            and scope_of(user).level == "county",
        },
    )


@login_required
@require_safe
def quality_export(request: HttpRequest) -> FileResponse:
    """Download the filtered data-quality tasks (.xlsx), to send back to the poverty office."""
    user = request.user
    if not may_see_tasks(user):
        _not_found(request, P.VIEW)
    tasks = quality_tasks(user=user, **_quality_filters(request))
    return _download(
        lambda path: export_quality(user=user, tasks=tasks, path=path), "data-quality-tasks.xlsx"
    )
