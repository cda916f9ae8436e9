"""Background jobs of the shared kernel (django-tasks, database backend)."""

from __future__ import annotations

from django_tasks import task

from jingzhun.core.importing import import_run
from jingzhun.core.models import ImportBatch


@task()
def import_file(batch_id: int) -> str:
    """Run one import in the worker; return its final status."""
    batch = ImportBatch.objects.get(pk=batch_id)
    return str(import_run(batch=batch).status)
