"""``jingzhun remask``: bring every stored masked number to the one mask format."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from jingzhun.core.audit import audit_record
from jingzhun.core.sensitive import remask


class Command(BaseCommand):
    help = (
        "Recompute the masked form of every ID, roll and bank number (first four and last four "
        "shown). Run once after upgrading; running it again changes nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = remask()
        audit_record(actor=None, actor_name="cli", action="masks.recomputed", data=counts)
        for label, n in counts.items():
            self.stdout.write(
                _("%(column)s: %(count)s masks recomputed") % {"column": label, "count": n}
            )
