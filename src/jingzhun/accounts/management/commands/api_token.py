"""`jingzhun api-token create|rotate|revoke|list`: manage bearer tokens for the API.

Tokens expire after ``API_TOKEN_DAYS`` (``JINGZHUN_API_TOKEN_DAYS``, default 30); ``rotate``
replaces a token with a new one, and the old one stops working at once.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from jingzhun.accounts.models import ApiToken, User
from jingzhun.accounts.services import api_token_create, api_token_revoke, api_token_rotate


class Command(BaseCommand):
    help = (
        "Create, rotate, revoke or list API bearer tokens. A new token is printed once, never "
        "again; tokens expire (JINGZHUN_API_TOKEN_DAYS)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token and print it once.")
        create.add_argument("username")
        create.add_argument("--name", required=True, help="What the token is for.")
        rotate = sub.add_parser(
            "rotate", help="Replace the user's token of that name; the old one stops working."
        )
        rotate.add_argument("username")
        rotate.add_argument("--name", required=True)
        revoke = sub.add_parser("revoke", help="Revoke the user's active tokens of that name.")
        revoke.add_argument("username")
        revoke.add_argument("--name", required=True)
        listing = sub.add_parser("list", help="List tokens (never their values).")
        listing.add_argument("username", nargs="?")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            self._list(options.get("username"))
            return
        user = self._user(options["username"])
        if action == "create":
            try:
                row, token = api_token_create(actor=None, user=user, name=options["name"])
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
            self.stderr.write(
                f"Created token {options['name']!r} for {user.get_username()}, valid until "
                f"{row.expires_at.isoformat()}. It is shown only now; store it safely:"
            )
            self.stdout.write(token)
        elif action == "rotate":
            try:
                row, token = api_token_rotate(actor=None, user=user, name=options["name"])
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
            self.stderr.write(
                f"Rotated token {options['name']!r} of {user.get_username()}: the old one no "
                f"longer works; the new one is valid until {row.expires_at.isoformat()}. "
                "It is shown only now; store it safely:"
            )
            self.stdout.write(token)
        elif action == "revoke":
            count = api_token_revoke(actor=None, user=user, name=options["name"])
            if not count:
                raise CommandError(
                    f"{user.get_username()} has no active token named {options['name']!r}."
                )
            self.stdout.write(f"Revoked {count} token(s) named {options['name']!r}.")

    def _user(self, username: str) -> User:
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist as exc:
            raise CommandError(f"No user named {username!r}.") from exc

    def _list(self, username: str | None) -> None:
        rows = ApiToken.objects.select_related("user").order_by("user__username", "created_at")
        if username:
            rows = rows.filter(user=self._user(username))
        now = timezone.now()
        for row in rows:
            state = "revoked" if row.revoked else "expired" if row.expires_at <= now else "active"
            used = row.last_used_at.isoformat() if row.last_used_at else "never"
            self.stdout.write(
                f"{row.user.get_username()}\t{row.name}\t{state}\t"
                f"created {row.created_at.isoformat()}\texpires {row.expires_at.isoformat()}\t"
                f"last used {used}"
            )
        self.stdout.write(f"{len(rows)} token(s).")
