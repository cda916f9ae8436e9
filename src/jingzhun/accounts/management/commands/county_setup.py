"""``jingzhun county-setup``: a county, its working school year and its first administrator.

Run again, it changes the county's name or working year if they differ, and otherwise says that
nothing changed. An existing administrator is left as they are (their password too).
The work is done by :func:`jingzhun.accounts.provisioning.county_setup`, which the first-run
page (/setup/) calls too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jingzhun.accounts.provisioning import (
    county_setup,
    county_setup_plan,
    messages_of,
    obtain_password,
)


class Command(BaseCommand):
    help = (
        "Set up a county: its area, its working school year and its first county administrator. "
        "Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--code", required=True, help="The county's 6-digit area code.")
        parser.add_argument("--name", required=True, help="The county's name, e.g. 某某县.")
        parser.add_argument(
            "--school-year",
            required=True,
            help="The working school year, e.g. 2018 (for 2018-2019).",
        )
        parser.add_argument(
            "--admin", required=True, help="Username of the first county administrator."
        )
        parser.add_argument("--admin-name", default=None, help="The administrator's name.")
        secret = parser.add_mutually_exclusive_group()
        secret.add_argument(
            "--password-file",
            type=Path,
            default=None,
            help="Read the administrator's password from this file (else it is asked for).",
        )
        secret.add_argument(
            "--generate-password",
            action="store_true",
            help="Generate the administrator's password and print it once.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        plan = county_setup_plan(
            code=options["code"],
            name=options["name"],
            school_year=options["school_year"],
            username=options["admin"],
        )
        password = None
        if plan.admin is None:
            password = obtain_password(
                username=plan.username,
                password_file=options["password_file"],
                generate=options["generate_password"],
            )
        try:
            result = county_setup(plan, full_name=options["admin_name"], password=password)
        except ValidationError as exc:
            raise CommandError(messages_of(exc)) from exc
        for line in result.lines:
            self.stdout.write(line)
        if password is not None and password.generated:
            self.stdout.write(
                _("Password of %(user)s (shown only now; hand it over safely): %(password)s")
                % {"user": plan.username, "password": password.value}
            )
        if not result.changed:
            self.stdout.write(_("Nothing changed: the county was already set up this way."))
        else:
            self.stdout.write(
                _(
                    "Next: create the other accounts with create-user, then import the registry, "
                    "the rolls, the university list and the out-of-county confirmations with "
                    "import."
                )
            )
