"""``jingzhun duty open-cases|ledger|chain-derive``: casework and the chain from the command line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from jingzhun.duty import services
from jingzhun.duty.models import Assignment, DropoutCase
from jingzhun.registry.cli import county_option
from jingzhun.registry.models import Area


class Command(BaseCommand):
    help = (
        "Dropout casework: open cases from the latest identification run, list the ledger, "
        "or derive the responsibility chain."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        op = sub.add_parser("open-cases", help="Open a case for every out-of-school child found.")
        op.add_argument("--county", default="")
        op.add_argument(
            "--yes",
            action="store_true",
            help="Open the cases; without it, print what would open, per township, and stop.",
        )
        led = sub.add_parser("ledger", help="Print the unclosed cases, overdue first.")
        led.add_argument("--county", default="")
        der = sub.add_parser(
            "chain-derive",
            help="Fill the responsibility chain from the staff directory and the rolls.",
        )
        der.add_argument("--county", default="")
        der.add_argument("--school-year", type=int, default=None)
        der.add_argument(
            "--preview", action="store_true", help="Count what would change; write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        county = county_option(options["county"])
        if options["action"] == "chain-derive":
            result = services.chain_derive(
                actor=None,
                county_code=county,
                school_year=options["school_year"],
                preview=options["preview"],
            )
            head = "would create" if result.preview else "created"
            self.stdout.write(
                f"{head} {result.total_created} links, replaced {result.total_replaced}, "
                f"head teachers from the rolls {result.roster_people}, "
                f"cases given a responsible person {result.cases_assigned}"
            )
            for kind, _label in Assignment.Kind.choices:
                self.stdout.write(
                    f"  {kind:<9} created {result.created[kind]:>5}  "
                    f"replaced {result.replaced[kind]:>5}  unchanged {result.unchanged[kind]:>5}  "
                    f"kept (manual) {result.manual[kind]:>5}  gaps {result.gaps[kind]:>5}"
                )
            return
        if options["action"] == "open-cases":
            self._open_cases(county, confirmed=options["yes"])
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

    def _open_cases(self, county: str, *, confirmed: bool) -> None:
        """Print the preview per township; with --yes open the cases of the previewed run."""
        preview = services.cases_open_preview(actor=None, county_code=county)
        if preview.run_id is None:
            self.stdout.write("no finished identification run: nothing to open")
            return
        names = dict(
            Area.objects.filter(level=Area.Level.TOWNSHIP, code__startswith=county).values_list(
                "code", "name"
            )
        )
        self.stdout.write(f"identification run #{preview.run_id} as of {preview.as_of}")
        for row in preview.rows:
            self.stdout.write(
                f"  {names.get(row.township_code, row.township_code)}: new {row.new}, "
                f"new episode {row.new_episode}, already open {row.already_open}"
            )
        self.stdout.write(
            f"total: new {preview.new}, new episode {preview.new_episode}, "
            f"already open {preview.already_open}"
        )
        if not confirmed:
            self.stdout.write("preview only: nothing was written (add --yes to open the cases)")
            return
        result = services.cases_open_from_identification(
            actor=None, county_code=county, run_id=preview.run_id
        )
        self.stdout.write(
            f"cases opened {result.opened}, reopened as a new episode {result.reopened}, "
            f"already open {result.already_open}"
        )
