"""``jingzhun ledger_check [--county C]``: the fund ledger holds (a nightly job's check)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from jingzhun.funds.ledger import check_balances


class Command(BaseCommand):
    help = (
        "Check that every journal entry balances and that every account's kept balance and "
        "day totals equal the sum of its lines (one county, or all)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--county", default="", help="a county code (default: every county)")

    def handle(self, *args: Any, **options: Any) -> None:
        problems = check_balances(options["county"] or None)
        for problem in problems:
            self.stdout.write(problem)
        if problems:
            raise CommandError(
                ngettext(
                    "The fund ledger does not hold: %(n)d problem.",
                    "The fund ledger does not hold: %(n)d problems.",
                    len(problems),
                )
                % {"n": len(problems)}
            )
        self.stdout.write(
            _("The fund ledger holds: every entry balances and every balance is its lines.")
        )
