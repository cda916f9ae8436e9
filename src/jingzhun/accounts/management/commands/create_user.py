"""``jingzhun create-user USERNAME --role ROLE``: an account with one jurisdiction, by codes.

The password never goes on the command line: it comes from ``--password-file`` (``-`` for
standard input), is asked for on the terminal, or is generated and printed once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from jingzhun.accounts.models import StaffMember, User
from jingzhun.accounts.provisioning import (
    messages_of,
    obtain_password,
    resolve_jurisdiction,
    role_label,
    user_update,
)
from jingzhun.accounts.roles import Role
from jingzhun.accounts.services import user_create


class Command(BaseCommand):
    help = (
        "Create a user with a role and one jurisdiction: --area for county and township roles, "
        "--school for a principal, --class for a class teacher. --update changes an existing user."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        where = parser.add_mutually_exclusive_group()
        where.add_argument("--area", default="", help="County (6 digits) or township (9) code.")
        where.add_argument("--school", default="", help="School code (a principal's school).")
        where.add_argument(
            "--class",
            dest="school_class",
            default="",
            help="A class teacher's class: SCHOOLCODE:YEAR:STAGE:GRADE:NAME, "
            "e.g. 2142010001:2018:primary:3:1班.",
        )
        parser.add_argument("--full-name", default=None, help="The person's name.")
        parser.add_argument(
            "--staff",
            type=int,
            default=None,
            help="Give the login to this person of the staff directory (their id); what they "
            "answer for stays theirs.",
        )
        secret = parser.add_mutually_exclusive_group()
        secret.add_argument(
            "--password-file", type=Path, default=None, help="Read the password from this file."
        )
        secret.add_argument(
            "--generate-password",
            action="store_true",
            help="Generate a password and print it once.",
        )
        parser.add_argument(
            "--update",
            action="store_true",
            help="Change the user if they exist (the password only with a password option).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"].strip()
        if not username:
            raise CommandError(_("Give a username."))
        role = options["role"]
        jurisdiction = resolve_jurisdiction(
            role,
            area=options["area"],
            school=options["school"],
            school_class=options["school_class"],
        )
        existing = User.objects.filter(username=username).first()
        if existing is not None and not options["update"]:
            raise CommandError(
                _(
                    "The user %(user)s already exists; nothing was changed. Add --update to "
                    "change their role, jurisdiction, name or password."
                )
                % {"user": username}
            )
        password = obtain_password(
            username=username,
            password_file=options["password_file"],
            generate=options["generate_password"],
            ask=existing is None,
        )
        where = str(jurisdiction.place)
        label = role_label(role)
        if existing is None:
            try:
                with transaction.atomic():
                    assert password is not None
                    user_create(
                        actor=None,
                        username=username,
                        password=password.value,
                        role=role,
                        area=jurisdiction.area,
                        school=jurisdiction.school,
                        school_class=jurisdiction.school_class,
                        full_name=options["full_name"] or "",
                        staff_id=options["staff"],
                    )
            except (ValidationError, StaffMember.DoesNotExist) as exc:
                message = (
                    messages_of(exc)
                    if isinstance(exc, ValidationError)
                    else _("No person of the staff directory has the id %(id)s.")
                    % {"id": options["staff"]}
                )
                raise CommandError(message) from exc
            self.stdout.write(
                _("Created user %(user)s: %(role)s, %(where)s.")
                % {"user": username, "role": label, "where": where}
            )
        else:
            try:
                changes = user_update(
                    user=existing,
                    role=role,
                    jurisdiction=jurisdiction,
                    full_name=options["full_name"],
                    password=password.value if password else None,
                )
            except ValidationError as exc:
                raise CommandError(messages_of(exc)) from exc
            if changes or password:
                self.stdout.write(
                    _("Updated user %(user)s: %(role)s, %(where)s (changed: %(fields)s).")
                    % {
                        "user": username,
                        "role": label,
                        "where": where,
                        "fields": ", ".join([*changes, *(["password"] if password else [])]),
                    }
                )
            else:
                self.stdout.write(
                    _("User %(user)s is already %(role)s, %(where)s; nothing changed.")
                    % {"user": username, "role": label, "where": where}
                )
        if password is not None and password.generated:
            self.stdout.write(
                _("Password of %(user)s (shown only now; hand it over safely): %(password)s")
                % {"user": username, "password": password.value}
            )
