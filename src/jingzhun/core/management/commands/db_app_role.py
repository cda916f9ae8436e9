"""``jingzhun db-app-role``: print the SQL that creates the application's PostgreSQL role."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils.translation import gettext as _

from jingzhun.core.dbrole import app_role_sql


class Command(BaseCommand):
    help = (
        "Print the SQL that creates the PostgreSQL role the web app and the worker run as: "
        "read and write rows, append audit events, no DDL, no TRUNCATE, owner of nothing. "
        "Run it with psql as the owner of the tables (who runs the migrations)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", default="jingzhun_app", help="The application's role.")
        parser.add_argument(
            "--owner", default=None, help="The role owning the tables (default: DATABASE_URL's)."
        )
        parser.add_argument(
            "--database", default=None, help="The database (default: DATABASE_URL's)."
        )
        parser.add_argument("--schema", default="public")

    def handle(self, *args: Any, **options: Any) -> None:
        settings = connection.settings_dict
        postgres = connection.vendor == "postgresql"
        owner = options["owner"] or (settings.get("USER") if postgres else None)
        database = options["database"] or (settings.get("NAME") if postgres else None)
        if not owner or not database:
            raise CommandError(_("Give --owner and --database (DATABASE_URL is not PostgreSQL)."))
        try:
            statements = app_role_sql(
                options["role"], owner=owner, database=database, schema=options["schema"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            "-- "
            + _("Run as %(owner)s; then set the password: \\password %(role)s")
            % {"owner": owner, "role": options["role"]}
        )
        for statement in statements:
            self.stdout.write(statement + ";")
