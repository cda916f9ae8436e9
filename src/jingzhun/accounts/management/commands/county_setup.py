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
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.accounts.provisioning import (
    county_setup,
    county_setup_plan,
    messages_of,
    obtain_password,
)
from jingzhun.core.models import CountyProfile
from jingzhun.core.partitions import ensure_partitions
from jingzhun.core.periods import SchoolYear
from jingzhun.core.working_year import county_working_period_set, working_period


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
            help=(
                "The working school year, e.g. 2018 (for 2018-2019), or 'auto' to follow "
                "today's date."
            ),
        )
        parser.add_argument(
            "--semester",
            choices=["autumn", "spring", "auto"],
            default=None,
            help=(
                "Hold the working semester (while last year still closes); 'auto' follows "
                "today's date. Left out: unchanged."
            ),
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
        follow_today = str(options["school_year"]).strip().lower() == "auto"
        plan = county_setup_plan(
            code=options["code"],
            name=options["name"],
            school_year=str(SchoolYear.of(timezone.localdate()).start)
            if follow_today
            else options["school_year"],
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
        # PostgreSQL: the county's partitions of the large tables (core/partitions.py).
        for name in ensure_partitions([plan.code]):
            self.stdout.write(_("Made partition %(name)s.") % {"name": name})
        if follow_today or options["semester"] is not None:
            self._working_period(plan.code, follow_today, options["semester"])
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

    def _working_period(self, code: str, follow_today: bool, semester: str | None) -> None:
        """Apply --school-year auto and --semester (the county's working period override)."""
        profile = CountyProfile.objects.get(county_code=code)
        year = None if follow_today else profile.working_year
        kind = profile.working_semester if semester is None else semester.replace("auto", "")
        try:
            county_working_period_set(actor=None, profile=profile, school_year=year, semester=kind)
        except ValidationError as exc:
            raise CommandError(messages_of(exc)) from exc
        period = working_period(code)
        self.stdout.write(
            _("Working period: %(period)s %(note)s")
            % {"period": period.label, "note": period.note or _("(follows today's date)")}
        )
