"""``jingzhun identify [--as-of DATE]``: match the registry with the rolls and classify children."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jingzhun.core.progress import Progress
from jingzhun.identification import services
from jingzhun.registry.cli import county_option


class Command(BaseCommand):
    help = (
        "Run identification for a county: links, every child's status, changes since the last run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of",
            type=dt.date.fromisoformat,
            default=None,
            help="Date to classify as of (YYYY-MM-DD); default today.",
        )
        parser.add_argument("--county", default="", help="County code; default: the only county.")
        parser.add_argument("--user", default="", help="Username the run is recorded under.")
        parser.add_argument(
            "--retrain",
            action="store_true",
            help="Train the linkage model again instead of reusing the last one.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        county = county_option(options["county"])
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"No such user: {options['user']}")
        progress = Progress(f"identify-{county}", echo=lambda line: self.stderr.write(line))
        fuzzy = services.fuzzy_stage_factory(retrain=options["retrain"])
        run = services.identification_run(
            actor=actor, county_code=county, as_of=options["as_of"], fuzzy=fuzzy, progress=progress
        )
        self.stdout.write(f"identification run #{run.pk} as of {run.as_of}: {run.status}")
        for key in sorted(run.counts):
            self.stdout.write(f"  {key}: {run.counts[key]}")
