"""``jingzhun duty open-cases|ledger``: dropout casework from the command line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from jingzhun.duty import services
from jingzhun.duty.models import DropoutCase
from jingzhun.registry.cli import county_option


class Command(BaseCommand):
    help = "Dropout casework: open cases from the latest identification run, or list the ledger."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        op = sub.add_parser("open-cases", help="Open a case for every out-of-school child found.")
        op.add_argument("--county", default="")
        led = sub.add_parser("ledger", help="Print the unclosed cases, overdue first.")
        led.add_argument("--county", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        county = county_option(options["county"])
        if options["action"] == "open-cases":
            result = services.cases_open_from_identification(actor=None, county_code=county)
            self.stdout.write(
                f"cases opened {result.opened}, reopened as a new episode {result.reopened}, "
                f"already open {result.already_open}"
            )
            return
        today = timezone.localdate()
        cases = list(
            DropoutCase.objects.filter(village_code__startswith=county)
            .exclude(status=DropoutCase.Status.CLOSED)
            .select_related("school", "assignee")
        )
        cases.sort(key=lambda c: (not services.is_overdue(c, today), c.opened_on, c.pk))
        for c in cases:
            flag = "OVERDUE" if services.is_overdue(c, today) else "in time"
            self.stdout.write(
                f"#{c.pk} episode {c.episode} {c.status:<8} {flag:<8} opened {c.opened_on} "
                f"due {services.due_on(c)} school {c.school or '-'} "
                f"responsible {c.assignee or '-'}"
            )
        self.stdout.write(f"{len(cases)} unclosed cases")
