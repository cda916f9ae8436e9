"""``jingzhun seal-files``: encrypt stored uploads and evidence kept in plain text."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from jingzhun.core.audit import audit_record
from jingzhun.core.crypto import keyring
from jingzhun.core.sealed import seal_stored_files


class Command(BaseCommand):
    help = (
        "Seal the import store and case evidence with the newest key in JINGZHUN_FIELD_KEYS: "
        "files stored before sealing, and files sealed under an older key (run it after "
        "rotate-keys, before retiring a key). A rerun rewrites nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = seal_stored_files(echo=lambda line: self.stderr.write(line))
        if any(counts.values()):
            audit_record(
                actor=None,
                actor_name="cli",
                action="files.sealed",
                data={"version": keyring().current_version, "counts": counts},
            )
        for label, n in counts.items():
            self.stdout.write(f"{label}: {n} sealed")
        self.stdout.write(f"All stored files use key version {keyring().current_version}.")
