"""Runs finished before previews existed were the current picture: mark them confirmed."""

from typing import Any

from django.db import migrations
from django.db.models import F


def confirm_finished_runs(apps: Any, schema_editor: Any) -> None:
    Run = apps.get_model("identification", "IdentificationRun")
    Run.objects.filter(status="done", confirmed_at__isnull=True).update(
        confirmed_at=F("finished_at"), confirmed_by=F("started_by")
    )


class Migration(migrations.Migration):
    dependencies = [("identification", "0004_run_preview")]

    operations = [migrations.RunPython(confirm_finished_runs, migrations.RunPython.noop)]
