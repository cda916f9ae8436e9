"""Rows set aside by imports: list them, fix one on the page, dismiss one, export the list.

A row is fixed by importing it again: its cells, as the user corrected them, are written to a
one-row CSV with the original file's headers and imported with the original mapping, so the
same checks apply as to any file. Every read goes through the scoping helper and is limited
to users who may import (IMPORT_DATA); the original values are sealed, and ID-like values are
shown masked unless the user, holding VIEW_FULL_ID, gives a reason (logged).
"""

from __future__ import annotations

import csv
import logging
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlsxwriter
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from jingzhun.core import crypto
from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.importing import (
    Field,
    import_create,
    import_run,
    importer_for,
    propose_mapping,
    set_aside_values,
    stored_mapping,
)
from jingzhun.core.models import ImportBatch, SetAsideRow
from jingzhun.core.reveal import (
    REVEAL_ACTION,
    clean_reason,
    reveal_limit_refusal,
    reveal_within_limit,
)
from jingzhun.core.scoping import get_object_for_user, scope_queryset
from jingzhun.core.tabular import TabularError, read_table

logger = logging.getLogger(__name__)

# A resident ID (18 characters, or the old 15 digits) anywhere in a cell, e.g. in a roll number.
ID_LIKE = re.compile(r"(?<![0-9])(?:\d{17}[0-9Xx]|\d{15})(?![0-9Xx])")
# Fields whose whole value is sensitive even when the importer reads them as text.
SENSITIVE_FIELD_NAMES = {"roll_number"}
# The statuses as these pages name them ("Dismissed" alone is an objection's outcome).
STATUS_CHOICES: list[tuple[str, Any]] = [
    (value, pgettext_lazy("set-aside row", "Dismissed") if value == "dismissed" else label)
    for value, label in SetAsideRow.Status.choices
]
STATUS_LABELS = dict(STATUS_CHOICES)


# --------------------------------------------------------------------------- selectors


def may_fix(user: Any) -> bool:
    """Return whether the user may see and fix set-aside rows (those who may import)."""
    return P.user_can(user, P.IMPORT_DATA)


def set_aside_rows(
    *, user: Any, kind: str = "", batch_id: int | None = None, status: str = "open"
) -> QuerySet[SetAsideRow]:
    """Return the set-aside rows the user may see, filtered (status '' means any)."""
    if not may_fix(user):
        return SetAsideRow.objects.none()
    rows = scope_queryset(SetAsideRow.objects.all(), user)
    if kind:
        rows = rows.filter(kind=kind)
    if batch_id is not None:
        rows = rows.filter(batch_id=batch_id)
    if status:
        rows = rows.filter(status=status)
    return rows.select_related("batch", "fixed_by").order_by("-batch_id", "line")


def set_aside_batches(*, user: Any, limit: int = 100) -> QuerySet[ImportBatch]:
    """Return the (latest) imports that set rows aside, as the user may see them."""
    if not may_fix(user):
        return ImportBatch.objects.none()
    with_rows = scope_queryset(SetAsideRow.objects.all(), user).values("batch_id")
    batches = scope_queryset(ImportBatch.objects.all(), user).filter(pk__in=with_rows)
    return batches.order_by("-pk")[:limit]


def set_aside_get(*, user: Any, pk: int) -> SetAsideRow:
    """Return one set-aside row the user may see; 404 when missing or forbidden alike."""
    if not may_fix(user):
        raise Http404
    return get_object_for_user(SetAsideRow.objects.select_related("batch"), user, pk=pk)


def _check(actor: Any, row: SetAsideRow) -> None:
    if not may_fix(actor):
        raise PermissionDenied
    visible = scope_queryset(SetAsideRow.objects.filter(pk=row.pk), actor)
    if not visible.exists():
        raise PermissionDenied


# --------------------------------------------------------------------------- cells


def batch_mapping(batch: ImportBatch) -> dict[str, str]:
    """Return the mapping {field: header} an import used (or would use) for its headers."""
    headers = [h for h in (batch.file_headers or []) if h]
    if batch.mapping:
        return {k: v for k, v in batch.mapping.items() if v in headers}
    all_headers = list(batch.file_headers or [])
    importer = importer_for(batch.kind)
    kept = stored_mapping(batch.kind, batch.source, all_headers)
    index = kept if kept is not None else propose_mapping(all_headers, importer)[0]
    return {k: all_headers[i] for k, i in index.items() if all_headers[i]}


@dataclass
class Cell:
    """One cell of a set-aside row as the page shows it."""

    name: str  # the form field's name
    header: str
    value: str  # what is shown: the original, or masked
    original: str = field(repr=False)
    masked: bool = False
    sensitive: bool = False
    required: bool = False
    what: str = ""  # the field it maps to, in the user's language ('' when unmapped)


def _mask(value: str, f: Field | None) -> str:
    if not value:
        return value
    if f is not None and f.kind == "bank":
        return crypto.mask_account(value.replace(" ", ""))
    masked = mask_ids_in(value)
    if masked == value and f is not None and (f.kind == "id" or f.name in SENSITIVE_FIELD_NAMES):
        return crypto.mask_id(value)  # a broken ID number is still one
    return masked


def mask_ids_in(text: str) -> str:
    """Return `text` with every resident ID in it masked."""
    return ID_LIKE.sub(lambda m: crypto.mask_id(m.group(0)), text)


def set_aside_cells(row: SetAsideRow, *, whole: bool = False) -> list[Cell]:
    """Return a row's original cells, in file order; ID-like values masked unless `whole`.

    Callers check permission: `whole` only for a user with VIEW_FULL_ID who gave a reason.
    """
    values = set_aside_values(row)
    by_header: dict[str, Field] = {}
    try:
        importer = importer_for(row.kind)
        fields = importer.field_map()
        for name, header in batch_mapping(row.batch).items():
            if name in fields:
                by_header[header] = fields[name]
    except ValueError:
        pass
    cells = []
    for i, (header, original) in enumerate(values.items()):
        f = by_header.get(header)
        masked = _mask(original, f)
        sensitive = (f is not None and f.kind in ("id", "bank")) or original != masked
        if f is not None and f.name in SENSITIVE_FIELD_NAMES:
            sensitive = True
        cells.append(
            Cell(
                name=f"c{i}",
                header=header,
                value=original if whole else masked,
                original=original,
                masked=not whole and masked != original,
                sensitive=sensitive,
                required=f.required if f is not None else False,
                what=f"{f.zh} ({f.en})" if f is not None else "",
            )
        )
    return cells


def set_aside_reveal(*, user: Any, row: SetAsideRow, reason: str, request: Any = None) -> None:
    """Allow the whole original values of a row to be shown once, after logging who and why.

    Raise PermissionDenied (logged) without VIEW_FULL_ID, RevealLimitReached (with an alert in
    the audit log) past the hourly limit, ValidationError for a reason that says nothing.
    """
    _check(user, row)
    if not P.user_can(user, P.VIEW_FULL_ID):
        audit_record(
            actor=user,
            action="access.denied",
            target=row,
            request=request,
            data={"what": "sensitive.reveal", "field": "set_aside_values", "why": "capability"},
        )
        raise PermissionDenied(_("You may not see this number whole."))
    reason = clean_reason(reason)
    with transaction.atomic():
        allowed = reveal_within_limit(user)
        if allowed:
            audit_record(
                actor=user,
                action=REVEAL_ACTION,
                target=row,
                request=request,
                data={"field": "set_aside_values", "reason": reason},
            )
    if not allowed:
        raise reveal_limit_refusal(user=user, target=row, field="set_aside_values", request=request)


# --------------------------------------------------------------------------- fix and dismiss


@dataclass
class FixResult:
    """What a fix attempt did: the import it ran, whether the row landed, and why not."""

    batch: ImportBatch
    fixed: bool
    reasons: list[dict[str, str]]
    new_row: SetAsideRow | None = None


def _write_one_row(path: Path, headers: list[str], values: list[str]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        writer.writerow(values)
    return path


def _labels_in_all_languages(*texts: str) -> set[str]:
    labels: set[str] = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            labels.update(str(_(t)) for t in texts)
    return labels


def report_reasons(batch: ImportBatch) -> list[dict[str, str]]:
    """Return the errors of an import's report as {column, value, reason} (values as reported,
    ID numbers masked); the import's message when there is no report."""
    reasons: list[dict[str, str]] = []
    if batch.report_path and Path(batch.report_path).exists():
        try:
            raw = read_table(
                Path(batch.report_path),
                header_aliases=_labels_in_all_languages("Line", "Column", "Value", "Reason"),
            )
        except TabularError:
            raw = None
        if raw is not None and raw.table.num_columns >= 5:
            warning = _labels_in_all_languages("warning")
            for r in raw.table.to_pylist():
                column, value, reason, severity = (r.get(f"c{j}") or "" for j in range(1, 5))
                if severity not in warning and reason:
                    reasons.append({"column": column, "value": value, "reason": reason})
    if not reasons and batch.message:
        reasons.append({"column": "", "value": "", "reason": batch.message})
    return reasons


def set_aside_fix(*, actor: Any, row: SetAsideRow, values: dict[str, str]) -> FixResult:
    """Import a set-aside row again with the given cells {header: text} (others unchanged).

    Write a one-row CSV with the original headers, import it as the original was imported
    (kind, mapping, county, school year, not all-or-nothing) and run it now. When it lands,
    the row is closed as fixed by that import; else the new reasons are returned and the row
    stays open.
    """
    _check(actor, row)
    if row.status != SetAsideRow.Status.OPEN:
        raise ValidationError(_("This row is no longer waiting to be fixed."), code="closed")
    original = row.batch
    cells = set_aside_values(row)
    headers = list(cells)
    edited = [" ".join(str(values.get(h, cells[h]) or "").splitlines()) for h in headers]
    with tempfile.TemporaryDirectory(prefix="jz-fix-") as folder:
        path = _write_one_row(
            Path(folder) / f"set-aside-{original.pk}-line-{row.line}.csv", headers, edited
        )
        batch = import_create(
            actor=actor,
            kind=row.kind,
            path=path,
            file_name=path.name,
            source=original.source,
            mapping=batch_mapping(original),
        )
    batch.county_code = original.county_code or row.county_code
    batch.school_year = original.school_year
    batch.strict = False
    batch.save(update_fields=["county_code", "school_year", "strict"])
    try:
        batch = import_run(batch=batch)
    except Exception:  # the import recorded itself as failed; the row stays open
        logger.exception("Fixing set-aside row %s failed", row.pk)
        batch.refresh_from_db()
    now = timezone.now()
    result: FixResult
    with transaction.atomic():
        row.refresh_from_db()
        if batch.status == ImportBatch.Status.DONE and batch.rows_set_aside == 0:
            if row.status == SetAsideRow.Status.OPEN:  # the key changed: close it here
                row.status, row.fixed_by, row.closed_at = SetAsideRow.Status.FIXED, batch, now
                row.save(update_fields=["status", "fixed_by", "closed_at"])
            result = FixResult(batch, True, [])
        elif batch.status == ImportBatch.Status.DONE:
            new_row = batch.set_aside.order_by("line").first()
            if row.status == SetAsideRow.Status.OPEN:  # replaced by the new attempt
                row.status, row.closed_at = SetAsideRow.Status.SUPERSEDED, now
                row.save(update_fields=["status", "closed_at"])
            result = FixResult(batch, False, list(new_row.reasons if new_row else []), new_row)
        else:
            result = FixResult(batch, False, report_reasons(batch))
        audit_record(
            actor=actor,
            action="import.set_aside_fix",
            target=row,
            data={"batch": batch.pk, "status": batch.status, "fixed": result.fixed},
        )
    return result


def set_aside_dismiss(*, actor: Any, row: SetAsideRow, reason: str) -> SetAsideRow:
    """Close a set-aside row without landing it, for a stated reason (logged)."""
    _check(actor, row)
    reason = clean_reason(reason)
    with transaction.atomic():
        row = SetAsideRow.objects.select_for_update().get(pk=row.pk)
        if row.status != SetAsideRow.Status.OPEN:
            raise ValidationError(_("This row is no longer waiting to be fixed."), code="closed")
        row.status, row.closed_at = SetAsideRow.Status.DISMISSED, timezone.now()
        row.save(update_fields=["status", "closed_at"])
        audit_record(
            actor=actor,
            action="import.set_aside_dismissed",
            target=row,
            data={"batch": row.batch_id, "line": row.line, "reason": reason},
        )
    return row


# --------------------------------------------------------------------------- export


def reasons_text(reasons: list[dict[str, str]]) -> str:
    """Return a row's reasons as one line: 'column: reason; column: reason'."""
    return "; ".join(
        f"{r.get('column')}: {r.get('reason')}" if r.get("column") else str(r.get("reason"))
        for r in reasons
    )


def export_set_aside(*, user: Any, rows: QuerySet[SetAsideRow], path: Path) -> int:
    """Write the listed rows (import, line, kind, record, status, reasons) to .xlsx.

    The original values are not exported, nor the values the reasons quote. Logged.
    """
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    n = 0
    try:
        bold = wb.add_format({"bold": True, "bg_color": "#E2E8F0"})
        ws = wb.add_worksheet(_("Rows to fix")[:31])
        heads = [
            _("Import"),
            _("File"),
            _("Kind"),
            _("Line"),
            _("Record"),
            _("Status"),
            _("Reasons"),
        ]
        widths = [8, 30, 16, 8, 16, 12, 80]
        for c, (h, w) in enumerate(zip(heads, widths, strict=True)):
            ws.set_column(c, c, w)
            ws.write_string(0, c, str(h), bold)
        ws.freeze_panes(1, 0)
        for n, row in enumerate(rows.iterator(chunk_size=2000), start=1):
            ws.write_number(n, 0, row.batch_id)
            ws.write_string(n, 1, row.batch.file_name)
            ws.write_string(n, 2, str(row.get_kind_display()))
            ws.write_number(n, 3, row.line)
            ws.write_string(n, 4, mask_ids_in(row.label))
            ws.write_string(n, 5, str(STATUS_LABELS.get(row.status, row.status)))
            ws.write_string(n, 6, reasons_text(row.reasons))
        ws.autofilter(0, 0, max(n, 1), len(heads) - 1)
    finally:
        wb.close()
    audit_record(actor=user, action="export.set_aside", data={"rows": n})
    return n
