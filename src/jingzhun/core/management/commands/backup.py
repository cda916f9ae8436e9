"""``jingzhun backup DIR|FILE``: one archive of the database, the uploaded files and a manifest.

SQLite is copied with ``VACUUM INTO`` and PostgreSQL with ``pg_dump`` (custom format) from
one snapshot, both safe while the platform keeps writing. The archive holds no key: the
command reminds the operator to keep the key variables with the backup's owner.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jingzhun.core.backup import BackupError, backup, describe, key_reminder


class Command(BaseCommand):
    help = (
        "Back up the database and MEDIA_ROOT into one .tar.gz with a manifest (rows per "
        "table, audit chain tail, app version, field-key versions needed; never the keys)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "destination",
            type=Path,
            help="A directory (the archive is named jingzhun-<time>.tar.gz) or a .tar.gz name.",
        )
        parser.add_argument(
            "--pg-bin", default=None, help="Directory of pg_dump, when it is not on PATH."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            outcome = backup(
                options["destination"],
                pg_bin=options["pg_bin"],
                echo=lambda line: self.stderr.write(line),
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(_("Backup written: %(file)s") % {"file": outcome.path})
        self.stdout.write(describe(outcome.manifest))
        self.stdout.write(self.style.WARNING(key_reminder(outcome.manifest)))
