"""``jingzhun audit-verify``: check the audit log's keyed chain and its checkpoints end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from jingzhun.core.audit import checkpoint_path, read_checkpoints, verify_chain
from jingzhun.core.models import AuditEvent

SHOWN = 50  # problems printed; the rest are counted


class Command(BaseCommand):
    help = (
        "Verify that no audit event was changed, removed or inserted out of order, that the "
        "chain was not recomputed without the key, and that the log still holds what every "
        "checkpoint recorded (no truncation, no deleted newest events)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoints",
            type=Path,
            default=None,
            help=(
                "The checkpoint file to verify against (default: JINGZHUN_AUDIT_CHECKPOINT_FILE); "
                "give the copy shipped off this machine."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["checkpoints"] or checkpoint_path()
        if options["checkpoints"] and not path.exists():
            raise CommandError(_("No checkpoint file at %(path)s.") % {"path": path})
        checkpoints, bad_lines = read_checkpoints(path)
        problems: list[tuple[int | None, str]] = [(None, line) for line in bad_lines]
        problems += verify_chain(checkpoints=checkpoints)
        events = AuditEvent.objects.count()
        every = settings.AUDIT_CHECKPOINT_EVERY
        if not checkpoints and events >= every:
            problems.append(
                (
                    None,
                    _(
                        "no checkpoint in %(path)s although the log holds %(count)d events and "
                        "one is written every %(every)d: the file was removed, moved or could "
                        "not be written (see the log); verify against the copy shipped "
                        "elsewhere with --checkpoints"
                    )
                    % {"path": path, "count": events, "every": every},
                )
            )
        elif not checkpoints and events:
            self.stderr.write(
                _(
                    "Warning: no checkpoint yet in %(path)s, so deleting the newest events or "
                    "all of them cannot be detected; run `jingzhun audit-checkpoint`."
                )
                % {"path": path}
            )
        for event_id, problem in problems[:SHOWN]:
            if event_id is None:
                self.stderr.write(problem)
            else:
                self.stderr.write(
                    _("event #%(id)d: %(problem)s") % {"id": event_id, "problem": problem}
                )
        if len(problems) > SHOWN:
            self.stderr.write(_("… and %(count)d more.") % {"count": len(problems) - SHOWN})
        if problems:
            raise CommandError(
                ngettext(
                    "The audit log fails verification: %(count)d problem.",
                    "The audit log fails verification: %(count)d problems.",
                    len(problems),
                )
                % {"count": len(problems)}
            )
        message = _("The audit chain is intact (%(count)d events).") % {"count": events}
        if checkpoints:
            newest = max(checkpoints, key=lambda c: c.last_id)
            message += " " + ngettext(
                "The checkpoint agrees; written at %(at)s, it recorded %(count)d events.",
                "All %(n)d checkpoints agree; the newest, of %(at)s, recorded %(count)d events.",
                len(checkpoints),
            ) % {"n": len(checkpoints), "at": newest.at, "count": newest.count}
        self.stdout.write(message)
