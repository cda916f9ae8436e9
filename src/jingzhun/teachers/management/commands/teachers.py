"""``jingzhun teachers allowance explain|install``: the rural teacher living allowance rules
(II.3.4) from the command line."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jingzhun.teachers import allowance, services


def _month(text: str) -> dt.date:
    month = allowance.parse_month(text)
    if month is None:
        raise CommandError(f"--month: expected YYYY-MM, not {text!r}")
    return month


class Command(BaseCommand):
    help = "Teachers: explain one teacher's rural living allowance for a month, or install rules."

    def add_arguments(self, parser: CommandParser) -> None:
        top = parser.add_subparsers(dest="area", required=True)
        al = top.add_parser("allowance", help="The rural teacher living allowance (II.3.4).")
        sub = al.add_subparsers(dest="action", required=True)
        ex = sub.add_parser("explain", help="Print one teacher's lines for a month as JSON.")
        ex.add_argument(
            "--profile",
            required=True,
            help='JSON file: {"stays": [{"place": "teaching_point", "first": "2018-10-01", '
            '"last": "2018-10-15"}, ...]}',
        )
        ex.add_argument("--month", required=True, help="YYYY-MM")
        ex.add_argument("--rule-book", default="", help="A rule book YAML file to use instead.")
        ins = sub.add_parser("install", help="Check a rule book file and install it.")
        ins.add_argument("--file", default="", help="YAML file (the shipped book by default).")
        ins.add_argument("--check", action="store_true", help="Only check the file.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "explain":
                self._explain(options)
            else:
                self._install(options)
        except allowance.RuleBookError as exc:
            raise CommandError(str(exc)) from exc

    def _explain(self, options: dict[str, Any]) -> None:
        month = _month(options["month"])
        try:
            profile = json.loads(Path(options["profile"]).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"{options['profile']}: {exc}") from exc
        if options["rule_book"]:
            book, _data = allowance.load_book(Path(options["rule_book"]))
        else:
            current = services.allowance_book_current()
            book = current[1] if current is not None else allowance.load_book()[0]
        stays = allowance.stays_from_profile(profile)
        self.stdout.write(
            json.dumps(allowance.explain(book, stays, month), ensure_ascii=False, indent=2)
        )

    def _install(self, options: dict[str, Any]) -> None:
        path = Path(options["file"]) if options["file"] else allowance.BOOK
        book, _data = allowance.load_book(path)
        if options["check"]:
            self.stdout.write(f"{path.name}: version {book.version}, {len(book.rules)} rules, OK")
            return
        try:
            row = services.allowance_book_install(actor=None, path=path)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"allowance rule book version {row.version} installed")
