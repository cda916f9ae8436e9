"""``jingzhun province-summary [--run N | --province 42]``: a province run's summary."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jingzhun.identification.management.commands.province_run import summary_lines
from jingzhun.identification.models import ProvinceRun
from jingzhun.identification.province import province_summary


class Command(BaseCommand):
    help = "Print a province run's summary: counties by state, summed counts, held and failed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--run", type=int, default=None, help="The province run's number.")
        parser.add_argument(
            "--province", default="", help="The province's latest run (default: the latest run)."
        )
        parser.add_argument("--json", action="store_true", help="Print the summary as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        runs = ProvinceRun.objects.all()
        if options["run"] is not None:
            runs = runs.filter(pk=options["run"])
        if options["province"]:
            runs = runs.filter(province=options["province"])
        run = runs.order_by("-id").first()
        if run is None:
            raise CommandError(_("No such province run."))
        summary = province_summary(run)
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False, indent=1))
            return
        for line in summary_lines(summary):
            self.stdout.write(line)
