"""`jingzhun two-factor-reset USER`: remove a user's authenticator (a lost or new phone)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jingzhun.accounts import two_factor
from jingzhun.accounts.models import User


class Command(BaseCommand):
    help = (
        "Remove a user's two-factor devices. The user sets up an authenticator again at the "
        "next login (required for county roles). Audited."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist as exc:
            raise CommandError(f"No user named {options['username']!r}.") from exc
        count = two_factor.device_reset(actor=None, user=user)
        required = "required" if two_factor.required(user) else "optional"
        self.stdout.write(
            f"Removed {count} two-factor device(s) of {user.get_username()}; "
            f"they set up an authenticator again at the next login ({required} for them)."
        )
