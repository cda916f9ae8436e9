"""Take the monthly coverage snapshots of a county (for the command centre's trend charts).

The platform has no scheduler of its own: run it from cron, e.g. each night at 02:30 (it
replaces the current month's snapshot, and the last one taken in a month stays):

    30 2 * * *  jingzhun dashboard_snapshot

``--month YYYY-MM`` takes one month; ``--since YYYY-MM`` every month from then to now.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from jingzhun.dashboard.coverage_snapshots import months_between, snapshot_month
from jingzhun.registry.cli import county_option


def _month(text: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(f"{text}-01")
    except ValueError as exc:
        raise CommandError(f"--{name}: {text!r} is not a month (YYYY-MM).") from exc


class Command(BaseCommand):
    help = (
        "Take the monthly coverage snapshots (county, townships, villages, schools) as of each "
        "month's last day, or today for the current month. Cron: 30 2 * * * jingzhun "
        "dashboard_snapshot"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--county", default="", help="County code (default: the only one).")
        parser.add_argument("--month", default="", help="One month, YYYY-MM (default: this one).")
        parser.add_argument("--since", default="", help="Every month from YYYY-MM to now.")

    def handle(self, *args: Any, **options: Any) -> None:
        county = county_option(options["county"])
        today = timezone.localdate()
        if options["month"] and options["since"]:
            raise CommandError("Give --month or --since, not both.")
        if options["since"]:
            months = months_between(_month(options["since"], "since"), today)
        elif options["month"]:
            month = _month(options["month"], "month")
            if month > today:
                raise CommandError(f"--month: {options['month']} has not begun.")
            months = [month]
        else:
            months = [today.replace(day=1)]
        total = 0
        for month in months:
            stored = snapshot_month(county, month, today=today)
            total += stored
            self.stdout.write(f"{county} {month:%Y-%m}: {stored} figures stored")
        self.stdout.write(f"{len(months)} month(s), {total} figures stored")
