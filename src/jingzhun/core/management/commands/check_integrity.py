"""``jingzhun check-integrity``: references into or out of the partitioned tables that name
no row."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from jingzhun.core.partitions import dangling_references


class Command(BaseCommand):
    help = (
        "Check, set-wise, that every reference to or from a person, student, enrolment, "
        "entitlement or payment names an existing row. On PostgreSQL these tables are "
        "partitioned by county and the database keeps no foreign key on them; this command "
        "is the check."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        found = dangling_references()
        for table, column, target, rows in found:
            self.stdout.write(
                _("%(table)s.%(column)s: %(rows)d rows name no row of %(target)s.")
                % {"table": table, "column": column, "rows": rows, "target": target}
            )
        if found:
            raise CommandError(_("References to missing rows were found."))
        self.stdout.write(_("Every reference names an existing row."))
