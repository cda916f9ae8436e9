"""The data-quality task list: what the clerk checks and sends back to the poverty office.

Tasks are read through the scoping helper (a county sees its county, a township officer the
tasks whose area lies in their township); users whose scope sees no tasks get a 404. The
task labels are masked text already; the export adds the village and township names.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import xlsxwriter
from django.apps import apps
from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.models import DataQualityTask
from jingzhun.core.scoping import scope_of
from jingzhun.core.scoping import scope_queryset as _scoped
from jingzhun.core.setaside import mask_ids_in

TOWNSHIP_CODE_LENGTH = 9
VILLAGE_CODE_LENGTH = 12
STATUS_CHOICES: list[tuple[str, Any]] = [
    (value, pgettext_lazy("data-quality task", "Open") if value == "open" else label)
    for value, label in DataQualityTask.Status.choices
]
STATUS_LABELS = dict(STATUS_CHOICES)


def may_see_tasks(user: Any) -> bool:
    """Return whether the user may see data-quality tasks (and their scope reaches some)."""
    return P.user_can(user, P.VIEW) and DataQualityTask.scope_q(scope_of(user)) is not None


def require_tasks(user: Any) -> None:
    """Raise 404 unless the user may see data-quality tasks."""
    if not may_see_tasks(user):
        raise Http404


def quality_tasks(*, user: Any, kind: str = "", status: str = "open") -> QuerySet[DataQualityTask]:
    """Return the tasks the user may see, filtered (status '' means any)."""
    if not may_see_tasks(user):
        return DataQualityTask.objects.none()
    tasks = _scoped(DataQualityTask.objects.all(), user)
    if kind:
        tasks = tasks.filter(kind=kind)
    if status:
        tasks = tasks.filter(status=status)
    return tasks.order_by("kind", "area_code", "id")


def quality_counts(*, user: Any, status: str = "open") -> list[dict[str, Any]]:
    """Return {kind, label, n} for every kind with tasks (of `status`) in the user's scope."""
    labels = dict(DataQualityTask.Kind.choices)
    tasks = quality_tasks(user=user, status=status).order_by()
    counted = {r["kind"]: r["n"] for r in tasks.values("kind").annotate(n=Count("id"))}
    return [
        {"kind": kind, "label": label, "n": counted[kind]}
        for kind, label in labels.items()
        if counted.get(kind)
    ]


def area_names(codes: Iterable[str]) -> dict[str, str]:
    """Return {code: name} of the areas named by `codes` and of their townships."""
    wanted = {c for c in codes if c} | {c[:TOWNSHIP_CODE_LENGTH] for c in codes if c}
    area = apps.get_model("registry", "Area")
    names: dict[str, str] = {}
    ordered = sorted(wanted)
    for start in range(0, len(ordered), 900):
        names.update(
            area.objects.filter(code__in=ordered[start : start + 900]).values_list("code", "name")
        )
    return names


def where(code: str, names: dict[str, str]) -> tuple[str, str]:
    """Return (township name, village name) of an area code ('' where it does not resolve)."""
    township = names.get(code[:TOWNSHIP_CODE_LENGTH], "") if code else ""
    village = names.get(code, "") if len(code) == VILLAGE_CODE_LENGTH else ""
    return township, village


def export_quality(*, user: Any, tasks: QuerySet[DataQualityTask], path: Path) -> int:
    """Write the listed tasks to .xlsx: kind, record, detail, township, village, status, date."""
    codes = set(tasks.values_list("area_code", flat=True).distinct())
    names = area_names(codes)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    n = 0
    try:
        bold = wb.add_format({"bold": True, "bg_color": "#E2E8F0"})
        date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
        ws = wb.add_worksheet(_("Data-quality tasks")[:31])
        heads = [
            _("Problem"),
            _("Record"),
            _("Detail"),
            _("Township"),
            _("Village"),
            _("Area code"),
            _("Status"),
            _("Found on"),
        ]
        widths = [36, 30, 40, 14, 14, 14, 10, 12]
        for c, (h, w) in enumerate(zip(heads, widths, strict=True)):
            ws.set_column(c, c, w)
            ws.write_string(0, c, str(h), bold)
        ws.freeze_panes(1, 0)
        for n, task in enumerate(tasks.iterator(chunk_size=2000), start=1):
            township, village = where(task.area_code, names)
            ws.write_string(n, 0, str(task.get_kind_display()))
            ws.write_string(n, 1, mask_ids_in(task.label))
            ws.write_string(n, 2, mask_ids_in(task.detail))
            ws.write_string(n, 3, township)
            ws.write_string(n, 4, village)
            ws.write_string(n, 5, task.area_code)
            ws.write_string(n, 6, str(STATUS_LABELS.get(task.status, task.status)))
            created = task.created_at
            if timezone.is_aware(created):
                created = timezone.localtime(created).replace(tzinfo=None)
            ws.write_datetime(n, 7, created, date_format)
        ws.autofilter(0, 0, max(n, 1), len(heads) - 1)
    finally:
        wb.close()
    audit_record(actor=user, action="export.quality_tasks", data={"rows": n})
    return n
