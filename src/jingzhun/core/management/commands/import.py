"""``jingzhun import KIND FILE``: import a county file, with progress; non-zero exit on rejection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jingzhun.core.importing import import_create, import_run
from jingzhun.core.models import ImportBatch


class Command(BaseCommand):
    help = "Import an areas, schools, registry or rolls file (.xlsx, .xls, .csv)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=[k for k, _label in ImportBatch.Kind.choices])
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--source", default="", help="Name of the file's source, for its column mapping."
        )
        parser.add_argument("--user", default="", help="Username the import is recorded under.")
        parser.add_argument("--county", default="", help="County code (6 digits) of the rolls.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.exists():
            raise CommandError(f"No such file: {path}")
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"No such user: {options['user']}")
        try:
            batch = import_create(
                actor=actor,
                kind=options["kind"],
                path=path,
                file_name=path.name,
                source=options["source"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if options["county"]:
            batch.county_code = options["county"]
            batch.save(update_fields=["county_code"])
        batch = import_run(batch=batch, echo=lambda line: self.stderr.write(line))
        self.stdout.write(
            f"import #{batch.pk} {batch.kind} {batch.status}: rows {batch.rows_total}, "
            f"created {batch.rows_created}, updated {batch.rows_updated}, "
            f"unchanged {batch.rows_unchanged}, rejected {batch.rows_rejected}, "
            f"warnings {batch.warnings}"
        )
        if batch.message:
            self.stdout.write(batch.message)
        if batch.report_path:
            self.stdout.write(f"report: {batch.report_path}")
        if batch.status != ImportBatch.Status.DONE:
            raise CommandError(f"import {batch.status}")
