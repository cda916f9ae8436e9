"""``jingzhun imports-sweep``: close imports whose worker died mid-way."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from jingzhun.core.importing import imports_sweep


class Command(BaseCommand):
    help = "Mark imports with no progress for a while (a killed worker) as failed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stale-after",
            type=float,
            default=None,
            help="Seconds without progress (default JINGZHUN_IMPORT_STALE_SECONDS).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        n = imports_sweep(stale_after=options["stale_after"])
        self.stdout.write(f"{n} interrupted import(s) closed")
