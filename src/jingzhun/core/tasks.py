"""Background jobs of the shared kernel (django-tasks, database backend)."""

from __future__ import annotations

from django_tasks import task

from jingzhun.core.importing import ImportAlreadyStarted, import_run
from jingzhun.core.models import ImportBatch


@task()
def import_file(batch_id: int) -> str:
    """Run one import in the worker; return its final status (or its status now, when the
    import was started already: a job enqueued twice runs it once)."""
    batch = ImportBatch.objects.get(pk=batch_id)
    try:
        return str(import_run(batch=batch).status)
    except ImportAlreadyStarted as exc:
        return str(exc.batch.status)
