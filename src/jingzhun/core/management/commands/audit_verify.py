"""``jingzhun audit-verify``: check the audit log's hash chain end to end."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jingzhun.core.audit import verify_chain
from jingzhun.core.models import AuditEvent


class Command(BaseCommand):
    help = "Verify that no audit event was changed, removed or inserted out of order."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = list(verify_chain())
        for event_id, problem in problems:
            self.stderr.write(f"event #{event_id}: {problem}")
        if problems:
            raise CommandError(f"The audit chain is broken in {len(problems)} place(s).")
        self.stdout.write(f"The audit chain is intact ({AuditEvent.objects.count()} events).")
