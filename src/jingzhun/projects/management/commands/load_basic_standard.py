"""``jingzhun load_basic_standard``: load the national basic standard into the platform (II.2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jingzhun.projects.rulebook import STANDARD_FILE, RulesFileError, load_standard, shipped_source
from jingzhun.projects.services import standard_load


class Command(BaseCommand):
    help = "Load the basic standard shipped with the platform (or a file) as a new version."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--file", default="", help="A standard YAML file instead of the shipped one."
        )
        parser.add_argument("--check", action="store_true", help="Only check the file.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        text = Path(path).read_text(encoding="utf-8") if path else shipped_source(STANDARD_FILE)
        source = Path(path).name if path else STANDARD_FILE
        try:
            if options["check"]:
                spec = load_standard(text, source=source)
                self.stdout.write(
                    f"{source}: {len(spec.items)} items, valid from {spec.valid_from}"
                )
                return
            version, created = standard_load(actor=None, text=text, source=source)
        except RulesFileError as exc:
            raise CommandError(str(exc)) from exc
        items = version.items.count()
        if created:
            self.stdout.write(f"Loaded {source} as version {version.number}: {items} items.")
        else:
            self.stdout.write(f"{source} is already version {version.number}: nothing changed.")
