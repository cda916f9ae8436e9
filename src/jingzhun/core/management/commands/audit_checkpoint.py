"""``jingzhun audit-checkpoint``: append a signed checkpoint of the audit log to its file.

Run it from cron (say hourly) and ship the file off the machine: a checkpoint records how
many events the log held and the last one's id and hash, so that removing the newest events,
or all of them, fails ``jingzhun audit-verify``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from jingzhun.core.audit import (
    append_checkpoint,
    checkpoint_path,
    read_checkpoints,
    take_checkpoint,
)
from jingzhun.core.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Append a signed checkpoint (count, last id, last hash, time) of the audit log to "
        "JINGZHUN_AUDIT_CHECKPOINT_FILE. Refuses when the log no longer holds what the newest "
        "checkpoint recorded."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        path = checkpoint_path()
        checkpoints, bad_lines = read_checkpoints(path)
        if bad_lines:
            raise CommandError("\n".join([*bad_lines, _("No checkpoint written.")]))
        if checkpoints:
            newest = max(checkpoints, key=lambda c: c.last_id)
            stored = AuditEvent.objects.filter(pk=newest.last_id).values_list("hash", flat=True)
            up_to = AuditEvent.objects.filter(pk__lte=newest.last_id).count()
            if list(stored) != [newest.last_hash] or up_to != newest.count:
                raise CommandError(
                    _(
                        "The audit log no longer holds what the checkpoint of %(at)s (line "
                        "%(line)d) recorded; run `jingzhun audit-verify`. No checkpoint written."
                    )
                    % {"at": newest.at, "line": newest.line}
                )
        checkpoint = take_checkpoint()
        if checkpoint is None:
            self.stdout.write(_("The audit log is empty: no checkpoint written."))
            return
        append_checkpoint(checkpoint, path)
        self.stdout.write(
            _("Checkpoint written to %(path)s: %(count)d events, the last #%(id)d.")
            % {"path": path, "count": checkpoint.count, "id": checkpoint.last_id}
        )
