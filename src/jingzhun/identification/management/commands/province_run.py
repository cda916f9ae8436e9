"""``jingzhun province-run --province 42 --as-of DATE [--wait]``: identify a province, county
by county, on the task queue (one task per county; workers: ``jingzhun db_worker`` or RQ)."""

from __future__ import annotations

import argparse
import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.identification.models import ProvinceRun
from jingzhun.identification.province import province_run_start, province_summary


class Command(BaseCommand):
    help = (
        "Run identification for every county of a province, one task per county on the task "
        "queue; each county's run is confirmed as its current run unless it is held."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--province", required=True, help="The province's two-digit code.")
        parser.add_argument(
            "--as-of",
            type=dt.date.fromisoformat,
            default=None,
            help="Date to classify as of (YYYY-MM-DD); default today.",
        )
        parser.add_argument(
            "--county",
            action="append",
            default=None,
            help="Only this county (repeat for several); default: every county of the province.",
        )
        parser.add_argument(
            "--wait",
            action="store_true",
            help="Wait until every county is finished (workers must be running), then print "
            "the summary.",
        )
        parser.add_argument("--poll", type=float, default=2.0, help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        province = options["province"]
        if len(province) != 2 or not province.isdigit():
            raise CommandError(_("A province code is two digits (e.g. 42)."))
        try:
            run = province_run_start(
                actor=None,
                province=province,
                as_of=options["as_of"] or timezone.localdate(),
                counties=options["county"],
            )
        except ValueError as exc:
            raise CommandError(
                _("No county of province %(code)s is known: import its areas first.")
                % {"code": province}
            ) from exc
        self.stdout.write(
            _("Province run #%(n)d: %(count)d counties queued.")
            % {"n": run.pk, "count": run.counties.count()}
        )
        if not options["wait"]:
            self.stdout.write(
                _("Follow it with `jingzhun province-summary --run %(n)d`.") % {"n": run.pk}
            )
            return
        seen = -1
        while True:
            run = ProvinceRun.objects.get(pk=run.pk)
            summary = province_summary(run)
            states = summary["states"]
            finished = summary["counties"] - states["queued"] - states["running"]
            if finished != seen:
                self.stderr.write(
                    _("%(done)d of %(all)d counties finished (%(running)d running)")
                    % {"done": finished, "all": summary["counties"], "running": states["running"]}
                )
                seen = finished
            if summary["done"]:
                break
            time.sleep(options["poll"])
        for line in summary_lines(summary):
            self.stdout.write(line)


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """Return a province run's summary as lines of text, in the user's language."""
    from jingzhun.identification.management.commands.identify import count_labels
    from jingzhun.identification.models import ProvinceCountyRun

    labels = dict(ProvinceCountyRun.State.choices)
    lines = [
        _("Province run #%(n)s, province %(code)s, as of %(date)s: %(count)s counties, %(s)s s")
        % {
            "n": summary["id"],
            "code": summary["province"],
            "date": summary["as_of"],
            "count": summary["counties"],
            "s": summary["seconds"],
        }
    ]
    if not summary["done"]:
        lines.append(_("Still running."))
    lines += [f"  {labels[k]}: {v}" for k, v in summary["states"].items() if v]
    totals = summary["totals"]
    lines += [f"  {label}: {totals[key]}" for key, label in count_labels(totals)]
    for held in summary["held"]:
        lines.append(
            _("Held: county %(county)s, run #%(run)s (moves %(n)s enrolled children out of school)")
            % {"county": held["county"], "run": held["run"], "n": held["moved_out"]}
        )
    for failed in summary["failed"]:
        lines.append(
            _("Failed: county %(county)s: %(error)s")
            % {"county": failed["county"], "error": failed["error"]}
        )
    return lines
