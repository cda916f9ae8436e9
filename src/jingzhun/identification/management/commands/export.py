"""``jingzhun export identification FILE.xlsx|FILE.csv``: one row per registry child."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jingzhun.identification.exports import export_identification
from jingzhun.identification.models import IdentificationRun


class Command(BaseCommand):
    help = "Export the latest identification run as .xlsx or .csv, as a given user may see it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["identification"])
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--user",
            required=True,
            help="The export holds what this user may see (IDs masked unless "
            "the user may see them whole and --whole-ids is given).",
        )
        parser.add_argument("--whole-ids", action="store_true")
        parser.add_argument("--run", type=int, default=None, help="Run id; default the latest.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if path.suffix.lower() not in (".xlsx", ".csv"):
            raise CommandError("The file must end in .xlsx or .csv.")
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No such user: {options['user']}")
        runs = IdentificationRun.objects.filter(
            status=IdentificationRun.Status.DONE, county_code=user.county_code
        )
        run = (
            runs.filter(pk=options["run"]).first()
            if options["run"]
            else runs.order_by("-id").first()
        )
        if run is None:
            raise CommandError("No finished identification run for this user's county.")
        try:
            n = export_identification(user=user, run=run, path=path, whole_ids=options["whole_ids"])
        except PermissionDenied as exc:
            raise CommandError(f"{user.username} may not export whole ID numbers.") from exc
        self.stdout.write(f"{n} rows written to {path}")
