"""``jingzhun county-setup``: a county, its working school year and its first administrator.

Run again, it changes the county's name or working year if they differ, and otherwise says that
nothing changed. An existing administrator is left as they are (their password too).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from jingzhun.accounts.models import User
from jingzhun.accounts.provisioning import (
    Jurisdiction,
    area_model,
    messages_of,
    obtain_password,
    role_label,
    user_update,
)
from jingzhun.accounts.roles import Role
from jingzhun.accounts.services import user_create
from jingzhun.core.audit import audit_record
from jingzhun.core.models import CountyProfile
from jingzhun.core.periods import SchoolYear
from jingzhun.core.working_year import parse_school_year

COUNTY_CODE = re.compile(r"^\d{6}$")


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
        code = options["code"].strip()
        if not COUNTY_CODE.match(code):
            raise CommandError(
                _("A county code has 6 digits, like 420101 (got %(code)s).") % {"code": code}
            )
        name = options["name"].strip()
        if not name or len(name) > 100:
            raise CommandError(_("Give the county's name (at most 100 characters)."))
        try:
            year = parse_school_year(options["school_year"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        Area = area_model()
        area = Area.objects.filter(code=code).first()
        if area is not None and area.level != "county":
            raise CommandError(
                _("The code %(code)s belongs to %(area)s, which is not a county.")
                % {"code": code, "area": area}
            )
        username = options["admin"].strip()
        if not username:
            raise CommandError(_("Give the administrator's username."))
        admin = User.objects.filter(username=username).first()
        if admin is not None and (
            admin.role != Role.COUNTY_ADMIN
            or admin.area_id is None
            or admin.area_id != getattr(area, "pk", None)
        ):
            raise CommandError(
                _(
                    "The user %(user)s already exists with another role or jurisdiction; "
                    "nothing was changed. Choose another username for the county administrator "
                    "(or change that user with create-user --update)."
                )
                % {"user": username}
            )
        password = None
        if admin is None:
            password = obtain_password(
                username=username,
                password_file=options["password_file"],
                generate=options["generate_password"],
            )
        lines: list[str] = []
        changed = False
        try:
            with transaction.atomic():
                changed |= self._county(area, code, name, lines)
                changed |= self._year(code, name, year, lines)
                county = Area.objects.get(code=code)
                changed |= self._admin(
                    admin, username, county, options["admin_name"], password, lines
                )
        except ValidationError as exc:
            raise CommandError(messages_of(exc)) from exc
        for line in lines:
            self.stdout.write(line)
        if password is not None and password.generated:
            self.stdout.write(
                _("Password of %(user)s (shown only now; hand it over safely): %(password)s")
                % {"user": username, "password": password.value}
            )
        if not changed:
            self.stdout.write(_("Nothing changed: the county was already set up this way."))
        else:
            self.stdout.write(
                _(
                    "Next: create the other accounts with create-user, then import the registry, "
                    "the rolls, the university list and the out-of-county confirmations with "
                    "import."
                )
            )

    def _county(self, area: Any, code: str, name: str, lines: list[str]) -> bool:
        Area = area_model()
        if area is None:
            area = Area(code=code, name=name, level="county", parent=None)
            area.full_clean()
            area.save()
            audit_record(
                actor=None,
                actor_name="cli",
                action="county.setup",
                target=area,
                data={"created": {"code": code, "name": name}},
            )
            lines.append(_("County %(code)s %(name)s: created.") % {"code": code, "name": name})
            return True
        if area.name != name:
            old = area.name
            area.name = name
            area.full_clean()
            area.save(update_fields=["name"])
            audit_record(
                actor=None,
                actor_name="cli",
                action="county.setup",
                target=area,
                data={"changes": {"name": [old, name]}},
            )
            lines.append(
                _("County %(code)s: name changed from %(old)s to %(new)s.")
                % {"code": code, "old": old, "new": name}
            )
            return True
        lines.append(_("County %(code)s %(name)s: unchanged.") % {"code": code, "name": name})
        return False

    def _year(self, code: str, name: str, year: int, lines: list[str]) -> bool:
        shown = str(SchoolYear(year))
        profile = CountyProfile.objects.filter(county_code=code).first()
        if profile is None:
            profile = CountyProfile.objects.create(county_code=code, name=name, working_year=year)
            audit_record(
                actor=None,
                actor_name="cli",
                action="county.working_year",
                target=profile,
                data={"working_year": year},
            )
            lines.append(_("Working school year: %(year)s (set).") % {"year": shown})
            return True
        changes: dict[str, list[Any]] = {}
        if profile.name != name:
            changes["name"] = [profile.name, name]
            profile.name = name
        if profile.working_year != year:
            changes["working_year"] = [profile.working_year, year]
            lines.append(
                _("Working school year changed from %(old)s to %(new)s.")
                % {"old": SchoolYear(profile.working_year), "new": shown}
            )
            profile.working_year = year
        else:
            lines.append(_("Working school year %(year)s: unchanged.") % {"year": shown})
        if not changes:
            return False
        profile.save()
        audit_record(
            actor=None,
            actor_name="cli",
            action="county.working_year",
            target=profile,
            data={"changes": changes},
        )
        return True

    def _admin(
        self,
        admin: User | None,
        username: str,
        county: Any,
        full_name: str | None,
        password: Any,
        lines: list[str],
    ) -> bool:
        label = role_label(Role.COUNTY_ADMIN)
        if admin is None:
            user_create(
                actor=None,
                username=username,
                password=password.value,
                role=Role.COUNTY_ADMIN,
                area=county,
                full_name=full_name or "",
            )
            lines.append(_("%(role)s %(user)s: created.") % {"role": label, "user": username})
            return True
        changes = user_update(
            user=admin,
            role=Role.COUNTY_ADMIN,
            jurisdiction=Jurisdiction(area=county),
            full_name=full_name,
            password=None,
        )
        if changes:
            lines.append(
                _("%(role)s %(user)s: name changed to %(name)s (password not changed).")
                % {"role": label, "user": username, "name": full_name}
            )
            return True
        lines.append(
            _("%(role)s %(user)s: already exists, unchanged (password not changed).")
            % {"role": label, "user": username}
        )
        return False
