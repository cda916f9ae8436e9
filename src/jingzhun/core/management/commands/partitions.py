"""``jingzhun partitions``: list the county partitions of the large tables; make missing ones."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils.translation import gettext as _

from jingzhun.core.partitions import (
    can_make_partitions,
    ensure_partitions,
    is_partitioned,
    partitions,
)


class Command(BaseCommand):
    help = (
        "PostgreSQL: list the partitions by county of persons, students, enrolments, "
        "entitlements and payments with their row counts; --ensure makes the missing ones "
        "(moving the rows waiting in the DEFAULT partition into them)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--ensure", action="store_true", help="make the missing partitions (idempotent)"
        )
        parser.add_argument(
            "--county",
            default=None,
            help="six-digit county code (with --ensure): make this county's partitions, "
            "even before it has rows",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql" or not is_partitioned():
            self.stdout.write(
                _(
                    "Nothing to do: tables are partitioned by county on PostgreSQL only "
                    "(this database is %(vendor)s)."
                )
                % {"vendor": connection.vendor}
            )
            return
        county = options["county"]
        if county is not None and not (len(county) == 6 and county.isdigit()):
            raise CommandError(_("A county code has six digits."))
        if options["ensure"] and not can_make_partitions():
            raise CommandError(
                _(
                    "This database role does not own the tables: run the command with the "
                    "owner's DATABASE_URL, as for migrate."
                )
            )
        if options["ensure"]:
            made = ensure_partitions([county] if county else None)
            for name in made:
                self.stdout.write(_("Made partition %(name)s.") % {"name": name})
            if not made:
                self.stdout.write(_("Every partition was already there."))
        for table, name, rows in partitions():
            self.stdout.write(f"{table}\t{name}\t{rows}")
