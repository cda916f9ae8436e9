"""``jingzhun aid explain|compute|rulebook``: the aid rule book from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jingzhun.aid import services
from jingzhun.aid.evaluate import Profile, explain
from jingzhun.aid.rulebook import RuleBookError, load_rulebook, shipped_source
from jingzhun.core.progress import Progress
from jingzhun.registry.cli import county_option


class Command(BaseCommand):
    help = "Student aid: explain one profile, compute a semester, or install a rule book."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ex = sub.add_parser("explain", help="Print every programme line for one profile as JSON.")
        ex.add_argument("--profile", required=True, help="JSON file with the profile's fields.")
        ex.add_argument("--school-year", type=int, required=True)
        ex.add_argument("--semester", choices=["autumn", "spring"], default="autumn")
        ex.add_argument("--county", default="", help="Use the county's stored rule book.")
        ex.add_argument("--rule-book", default="", help="A rule book YAML file to use instead.")
        co = sub.add_parser("compute", help="Compute and store a semester's entitlements.")
        co.add_argument("--school-year", type=int, required=True)
        co.add_argument("--semester", choices=["autumn", "spring"], required=True)
        co.add_argument("--county", default="")
        co.add_argument("--user", default="")
        rb = sub.add_parser("rulebook", help="Check a rule book file, or install the year's book.")
        rb.add_argument("--check", default="", help="YAML file to check.")
        rb.add_argument("--school-year", type=int, default=None)
        rb.add_argument("--county", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "explain":
                self._explain(options)
            elif action == "compute":
                self._compute(options)
            else:
                self._rulebook(options)
        except RuleBookError as exc:
            raise CommandError(str(exc)) from exc

    def _explain(self, options: dict[str, Any]) -> None:
        try:
            data = json.loads(Path(options["profile"]).read_text(encoding="utf-8"))
            profile = Profile.from_dict(data)
        except (OSError, ValueError, TypeError) as exc:
            raise CommandError(f"{options['profile']}: {exc}") from exc
        year = options["school_year"]
        if options["rule_book"]:
            path = Path(options["rule_book"])
            book = load_rulebook(path.read_text(encoding="utf-8"), source=str(path))
        elif options["county"]:
            version = services.rulebook_latest(options["county"], year)
            if version is None:
                raise CommandError(f"County {options['county']} has no rule book for {year}.")
            book = services.book_of(version)
        else:
            try:
                book = load_rulebook(shipped_source(year), source=f"{year}.yaml")
            except KeyError:
                raise CommandError(f"No rule book is shipped for {year}.") from None
        if book.school_year != year:
            raise CommandError(f"The rule book is for {book.school_year}, not {year}.")
        self.stdout.write(
            json.dumps(explain(book, profile, options["semester"]), ensure_ascii=False, indent=2)
        )

    def _compute(self, options: dict[str, Any]) -> None:
        county = county_option(options["county"])
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"No such user: {options['user']}")
        progress = Progress(f"aid-{county}", echo=lambda line: self.stderr.write(line))
        result = services.aid_compute(
            actor=actor,
            county_code=county,
            school_year=options["school_year"],
            semester=options["semester"],
            progress=progress,
        )
        label = (
            f"computation #{result.computation.pk}"
            if result.computation
            else "already up to date, no changes"
        )
        self.stdout.write(f"aid {options['school_year']} {options['semester']}: {label}")
        for key in sorted(result.counts):
            self.stdout.write(f"  {key}: {result.counts[key]}")
        for adj in result.adjustments[:50]:
            self.stdout.write(
                f"  adjustment: entitlement {adj.entitlement_id} {adj.kind} "
                f"{adj.old_amount} -> {adj.new_amount} ({adj.old_rule_id} -> {adj.new_rule_id})"
            )

    def _rulebook(self, options: dict[str, Any]) -> None:
        if options["check"]:
            path = Path(options["check"])
            book = load_rulebook(path.read_text(encoding="utf-8"), source=str(path))
            self.stdout.write(
                f"{path}: {len(book.programmes)} programmes, {len(book.rules)} rules, OK"
            )
            return
        if options["school_year"] is None:
            raise CommandError("Give --check FILE or --school-year YEAR.")
        county = county_option(options["county"])
        version = services.rulebook_install(
            actor=None, county_code=county, school_year=options["school_year"]
        )
        self.stdout.write(f"rule book {version.school_year} v{version.version}: {version.reason}")
