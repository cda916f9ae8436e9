"""``jingzhun restore ARCHIVE [--force]``: restore a ``jingzhun backup`` archive and verify it.

The archive is checked first (member hashes, database engine, migrations this version
knows, the field-key versions the data needs); a database with tables or a non-empty
MEDIA_ROOT is replaced only with ``--force``. Stop the web app and the worker first.
Afterwards the rows per table, the audit chain and one decryption per encrypted column
are verified; any difference is listed and the exit status is non-zero.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jingzhun.core.backup import BackupError, describe, key_reminder, restore


class Command(BaseCommand):
    help = (
        "Restore a backup archive into the configured database and MEDIA_ROOT (empty, or "
        "replaced with --force), then verify row counts, the audit chain and decryption."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path, help="A .tar.gz written by `jingzhun backup`.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace a database that holds tables and a MEDIA_ROOT that holds files.",
        )
        parser.add_argument(
            "--pg-bin", default=None, help="Directory of pg_restore, when it is not on PATH."
        )
        parser.add_argument(
            "--no-privileges",
            action="store_true",
            help="PostgreSQL: leave out the backup's grants (when the app's role does not "
            "exist here yet; grant them afterwards with `jingzhun db-app-role`).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            outcome = restore(
                options["archive"],
                force=options["force"],
                pg_bin=options["pg_bin"],
                no_privileges=options["no_privileges"],
                echo=lambda line: self.stderr.write(line),
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(describe(outcome.manifest))
        for problem in outcome.problems:
            self.stderr.write(problem)
        if outcome.problems:
            raise CommandError(
                _("Restored, but the verification found %(n)d problem(s).")
                % {"n": len(outcome.problems)}
            )
        self.stdout.write(
            _(
                "Restored and verified: rows per table, the audit chain and decryption "
                "with the configured keys."
            )
        )
        for note in outcome.notes:
            self.stdout.write(self.style.WARNING(note))
        self.stdout.write(self.style.WARNING(key_reminder(outcome.manifest)))
