"""``jingzhun rotate-keys``: re-encrypt every ID and bank number with the newest key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from jingzhun.core.audit import audit_record
from jingzhun.core.crypto import keyring
from jingzhun.core.sensitive import rotate_keys


class Command(BaseCommand):
    help = (
        "Re-encrypt sealed values under the newest key in JINGZHUN_FIELD_KEYS. Add the new "
        "key first (keep the old ones), run this, then the old keys may be retired."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = rotate_keys(echo=lambda line: self.stderr.write(line))
        audit_record(
            actor=None,
            actor_name="cli",
            action="keys.rotated",
            data={"version": keyring().current_version, "counts": counts},
        )
        for label, n in counts.items():
            self.stdout.write(f"{label}: {n} re-encrypted")
        self.stdout.write(f"All sealed values now use key version {keyring().current_version}.")
