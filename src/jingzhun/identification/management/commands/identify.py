"""``jingzhun identify [--as-of DATE]``: match the registry with the rolls and classify children."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jingzhun.core.progress import Progress
from jingzhun.identification import services
from jingzhun.identification.models import ChildStatus, Link
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
        self.stdout.write(
            _("Identification run #%(n)d as of %(date)s: %(status)s")
            % {"n": run.pk, "date": run.as_of, "status": run.get_status_display()}
        )
        for key, label in count_labels(run.counts):
            self.stdout.write(f"  {label}: {run.counts[key]}")


def count_labels(counts: dict[str, int]) -> list[tuple[str, str]]:
    """Return (key, label in the user's language) of a run's counts, in a fixed order."""
    labels: dict[str, str] = {
        "children": str(_("Children aged 3-22")),
        **{f"links_{k}": str(_("Links: %(how)s") % {"how": v}) for k, v in Link.Method.choices},
        **{k: str(v) for k, v in ChildStatus.Category.choices},
        "review_candidates": str(_("Waiting for review")),
        "discrepancies": str(_("Discrepancies")),
        "roll_duplicates": str(_("Duplicate roll records")),
    }
    return [(k, labels.get(k, k)) for k in sorted(counts, key=lambda k: (k not in labels, k))]
