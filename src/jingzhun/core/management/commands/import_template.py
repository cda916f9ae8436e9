"""``jingzhun import-template KIND FILE.xlsx``: write the template for a kind of file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from jingzhun.core.importing import write_template
from jingzhun.core.models import ImportBatch


class Command(BaseCommand):
    help = "Write an .xlsx template with the headers an import expects."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=[k for k, _label in ImportBatch.Kind.choices])
        parser.add_argument("file", type=Path)
        parser.add_argument("--english", action="store_true", help="English headers")

    def handle(self, *args: Any, **options: Any) -> None:
        path = write_template(options["kind"], options["file"], english=options["english"])
        self.stdout.write(str(path))
