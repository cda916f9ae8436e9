"""``jingzhun identify [--as-of DATE] [--yes [--force-held]]``: match the registry with the rolls.

Without ``--yes`` the run is a preview (printed, read by nothing); ``--yes`` confirms it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jingzhun.core.progress import Progress
from jingzhun.identification import services
from jingzhun.identification.models import ChildStatus, IdentificationRun, Link
from jingzhun.registry.cli import county_option


class Command(BaseCommand):
    help = (
        "Run identification for a county: links, every child's status, changes since the last run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of",
            type=dt.date.fromisoformat,
            default=None,
            help="Date to classify as of (YYYY-MM-DD); default today.",
        )
        parser.add_argument("--county", default="", help="County code; default: the only county.")
        parser.add_argument("--user", default="", help="Username the run is recorded under.")
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Confirm the run at once (it becomes the current run). Without it the run "
            "is a preview: its differences are printed and nothing reads it.",
        )
        parser.add_argument(
            "--force-held",
            action="store_true",
            help="With --yes, confirm even a held run (one that moves more than the set share "
            "of enrolled children out of school), after checking the imports.",
        )
        parser.add_argument(
            "--retrain",
            action="store_true",
            help="Train the linkage model again instead of reusing the last one.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        county = county_option(options["county"])
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"No such user: {options['user']}")
        progress = Progress(f"identify-{county}", echo=lambda line: self.stderr.write(line))
        fuzzy = services.fuzzy_stage_factory(retrain=options["retrain"])
        try:
            run = services.identification_run(
                actor=actor,
                county_code=county,
                as_of=options["as_of"],
                fuzzy=fuzzy,
                progress=progress,
                confirm=False,
            )
        except services.RunRefused as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            _("Identification run #%(n)d as of %(date)s: %(status)s")
            % {"n": run.pk, "date": run.as_of, "status": run.get_status_display()}
        )
        for key, label in count_labels(run.counts):
            self.stdout.write(f"  {label}: {run.counts[key]}")
        if run.status == IdentificationRun.Status.DONE:
            self.stdout.write(_("The inputs are unchanged since this run: nothing to confirm."))
            return
        for line in difference_lines(run):
            self.stdout.write(line)
        if run.held:
            self.stdout.write(held_warning(run))
        if not options["yes"]:
            self.stdout.write(
                _("Preview only: nothing reads it yet. Confirm it with --yes, or on its page.")
            )
            return
        if run.held and not options["force_held"]:
            raise CommandError(
                _("Not confirmed: the run is held. Check the imports, then add --force-held.")
            )
        try:
            run = services.identification_run_confirm(
                actor=actor, run_id=run.pk, checked_held=options["force_held"]
            )
        except services.RunRefused as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(_("Confirmed: run #%(n)d is the current run.") % {"n": run.pk})


def held_warning(run: IdentificationRun) -> str:
    """Return the warning of a held run, with its numbers."""
    diff = run.diff
    return str(
        _(
            "HELD: this run would move %(n)s of %(of)s enrolled children (%(share)s%%) out of "
            "school; more than %(limit)s%% usually means an import is missing or wrong."
        )
        % {
            "n": diff.get("moved_out", 0),
            "of": diff.get("enrolled_before", 0),
            "share": round(100 * float(diff.get("moved_out_share", 0)), 1),
            "limit": round(100 * float(diff.get("hold_share", 0)), 1),
        }
    )


def difference_lines(run: IdentificationRun) -> list[str]:
    """Return a preview's differences from the current run, one line each."""
    diff = run.diff
    if not diff:
        return []
    if diff.get("previous") is None:
        lines = [str(_("First run: there is no current run to compare with."))]
    else:
        lines = [str(_("Differences from the current run #%(n)s:") % {"n": diff["previous"]})]
    labels = [
        ("enrolled_before", _("Enrolled children before")),
        ("enrolled_after", _("Enrolled children after")),
        ("moved_out", _("Moved out of school")),
        ("moved_in", _("Moved into school")),
        ("new_suspected", _("New suspected dropouts")),
        ("new_dropped", _("New confirmed dropouts")),
        ("transfers", _("Changed school")),
        ("links_new", _("New links")),
        ("links_lost", _("Lost links")),
    ]
    lines += [f"  {label}: {diff.get(key, 0)}" for key, label in labels]
    categories = dict(ChildStatus.Category.choices)
    for code, (before, after) in diff.get("categories", {}).items():
        if before or after:
            lines.append(f"  {categories.get(code, code)}: {before} → {after}")
    return lines


def count_labels(counts: dict[str, int]) -> list[tuple[str, str]]:
    """Return (key, label in the user's language) of a run's counts, in a fixed order."""
    labels: dict[str, str] = {
        "children": str(_("Children aged 3-22")),
        **{f"links_{k}": str(_("Links: %(how)s") % {"how": v}) for k, v in Link.Method.choices},
        **{k: str(v) for k, v in ChildStatus.Category.choices},
        "review_candidates": str(_("Waiting for review")),
        "discrepancies": str(_("Discrepancies")),
        "roll_duplicates": str(_("Duplicate roll records")),
    }
    return [(k, labels.get(k, k)) for k in sorted(counts, key=lambda k: (k not in labels, k))]
