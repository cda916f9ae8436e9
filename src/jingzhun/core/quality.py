"""Data-quality tasks: records that landed with a problem someone must fix at its source.

Imports and identification open them set-wise; a task stays open (one per kind and record)
until the problem is gone, when the next import or run resolves it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from jingzhun.core.models import DataQualityTask, ImportBatch


@dataclass(frozen=True)
class Finding:
    object_id: int
    label: str
    detail: str
    area_code: str


def tasks_sync(
    *,
    kind: str,
    entity: str,
    county_code: str,
    findings: Iterable[Finding],
    checked: Iterable[int] | None = None,
    batch: ImportBatch | None = None,
) -> tuple[int, int]:
    """Open a task for each finding not already open; resolve the open tasks of `checked`
    records that are no longer found. Return (opened, resolved)."""
    found = {f.object_id: f for f in findings}
    open_ids = set(
        DataQualityTask.objects.filter(
            kind=kind, entity=entity, status=DataQualityTask.Status.OPEN
        ).values_list("object_id", flat=True)
    )
    new = [
        DataQualityTask(
            kind=kind,
            entity=entity,
            county_code=county_code or f.area_code[:6],
            area_code=f.area_code,
            object_id=f.object_id,
            label=f.label[:100],
            detail=f.detail[:300],
            batch=batch,
        )
        for oid, f in found.items()
        if oid not in open_ids
    ]
    DataQualityTask.objects.bulk_create(new, batch_size=1000)
    resolved = 0
    if checked is not None:
        gone = sorted(open_ids.intersection(checked) - set(found))
        now = timezone.now()
        for start in range(0, len(gone), 900):
            resolved += DataQualityTask.objects.filter(
                kind=kind,
                entity=entity,
                status=DataQualityTask.Status.OPEN,
                object_id__in=gone[start : start + 900],
            ).update(status=DataQualityTask.Status.RESOLVED, resolved_at=now)
    return len(new), resolved
