"""``jingzhun import KIND FILE``: import a county file, with progress; non-zero exit on rejection.

When the file's columns need mapping, the proposed mapping is printed as a table; the user
confirms it (``--confirm-mapping``) or gives their own (``--mapping FILE``, written first with
``--write-mapping FILE``). With ``--source`` a confirmed mapping is kept for that source.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jingzhun.core.importing import (
    Importer,
    import_create,
    import_run,
    importer_for,
    mapping_save,
)
from jingzhun.core.mapping import (
    MappingFileError,
    extend_mapping,
    fold_header,
    read_mapping_file,
    write_mapping_file,
)
from jingzhun.core.models import ImportBatch
from jingzhun.core.tabular import TabularError, normalize_header, read_table
from jingzhun.core.working_year import parse_school_year


def _width(text: str) -> int:
    """Return the width of a text in a terminal (Chinese characters take two columns)."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


class Command(BaseCommand):
    help = (
        "Import a county file (.xlsx, .xls, .csv): areas, schools, registry, rolls, university, "
        "outside or poor_villages. When its columns need mapping, prints the proposed mapping "
        "and how to confirm it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=[k for k, _label in ImportBatch.Kind.choices])
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--source", default="", help="Name of the file's source, for its column mapping."
        )
        parser.add_argument("--user", default="", help="Username the import is recorded under.")
        parser.add_argument("--county", default="", help="County code (6 digits) of the rolls.")
        parser.add_argument(
            "--school-year",
            default=None,
            help="School year of the file's rows when the file does not say (2018 or 2018-2019).",
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            help="All or nothing: refuse the whole file when any row has an error.",
        )
        how = parser.add_mutually_exclusive_group()
        how.add_argument(
            "--confirm-mapping",
            action="store_true",
            help="Accept the proposed column mapping as it is and import the file with it.",
        )
        how.add_argument(
            "--mapping",
            type=Path,
            default=None,
            help='A YAML or JSON file {field: "file header text"} giving the column mapping.',
        )
        parser.add_argument(
            "--write-mapping",
            type=Path,
            default=None,
            help="Write the proposed mapping to this file (YAML, or JSON for .json) for editing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.exists():
            raise CommandError(_("No such file: %(file)s") % {"file": path})
        try:
            importer = importer_for(options["kind"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(_("No such user: %(user)s") % {"user": options["user"]})
        if options["school_year"] is not None:
            try:
                options["school_year"] = parse_school_year(options["school_year"])
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        given: dict[str, str] | None = None
        if options["mapping"] is not None:
            given = self._given_mapping(options["mapping"], importer, path)
        batch = self._import(actor, path, options, mapping=given)
        confirmed = given
        if batch.status == ImportBatch.Status.NEEDS_MAPPING and given is None:
            proposal = dict(batch.proposed_mapping)
            self.stdout.write(batch.message)
            self.stdout.write(
                _("The columns of %(file)s need your confirmation. Proposed mapping:")
                % {"file": path.name}
            )
            self._table(importer, proposal, list(batch.file_headers))
            if options["write_mapping"] is not None:
                self._write(options["write_mapping"], importer, proposal, list(batch.file_headers))
            if options["confirm_mapping"]:
                missing = [f for f in importer.fields if f.required and f.name not in proposal]
                if missing:
                    raise CommandError(
                        _(
                            "The proposal cannot be confirmed: required columns are not found: "
                            "%(cols)s. Write the mapping to a file with --write-mapping FILE, "
                            "fill them in, and run again with --mapping FILE."
                        )
                        % {"cols": ", ".join(f"{f.zh} ({f.name})" for f in missing)}
                    )
                first = batch.pk
                batch = self._import(actor, path, options, mapping=proposal)
                self.stdout.write(
                    _("Mapping confirmed: import #%(first)d is run again as import #%(again)d.")
                    % {"first": first, "again": batch.pk}
                )
                confirmed = proposal
            else:
                self._how_to_confirm()
        elif batch.status == ImportBatch.Status.NEEDS_MAPPING:
            self.stdout.write(batch.message)
        if (
            confirmed is not None
            and options["source"]
            and batch.status in (ImportBatch.Status.DONE, ImportBatch.Status.REJECTED)
            and batch.file_headers
        ):
            mapping_save(
                actor=actor, kind=importer.kind, source=options["source"], mapping=confirmed
            )
            self.stdout.write(
                _("Mapping kept for source %(source)s: its next files map themselves.")
                % {"source": options["source"]}
            )
        self._summary(batch)

    # ------------------------------------------------------------------ running an import

    def _import(
        self, actor: Any, path: Path, options: dict[str, Any], *, mapping: dict[str, str] | None
    ) -> ImportBatch:
        try:
            batch = import_create(
                actor=actor,
                kind=options["kind"],
                path=path,
                file_name=path.name,
                source=options["source"],
                mapping=mapping,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        changed: list[str] = []
        if options["county"]:
            batch.county_code = options["county"]
            changed.append("county_code")
        if options["school_year"] is not None:
            batch.school_year = options["school_year"]
            changed.append("school_year")
        if options["strict"]:
            batch.strict = True
            changed.append("strict")
        if changed:
            batch.save(update_fields=changed)
        return import_run(batch=batch, echo=lambda line: self.stderr.write(line))

    def _summary(self, batch: ImportBatch) -> None:
        self.stdout.write(
            _(
                "import #%(id)d %(kind)s %(status)s: rows %(rows)d, created %(created)d, "
                "updated %(updated)d, unchanged %(unchanged)d, set aside or rejected "
                "%(rejected)d, warnings %(warnings)d"
            )
            % {
                "id": batch.pk,
                "kind": batch.get_kind_display(),
                "status": batch.get_status_display(),
                "rows": batch.rows_total,
                "created": batch.rows_created,
                "updated": batch.rows_updated,
                "unchanged": batch.rows_unchanged,
                "rejected": batch.rows_rejected,
                "warnings": batch.warnings,
            }
        )
        if batch.message and batch.status != ImportBatch.Status.NEEDS_MAPPING:
            self.stdout.write(batch.message)
        if batch.report_path:
            self.stdout.write(_("report: %(path)s") % {"path": batch.report_path})
        if batch.status != ImportBatch.Status.DONE:
            raise CommandError(_("import %(status)s") % {"status": batch.status})

    # ------------------------------------------------------------------ mapping

    def _table(
        self,
        importer: Importer,
        mapping: dict[str, str],
        headers: list[str],
        *,
        mark_guesses: bool = True,
    ) -> None:
        """Print field, our header label and the file's column, then the columns left over.

        A column matched by similarity rather than by one of our labels is marked as guessed.
        """
        rows: list[tuple[str, str, str]] = []
        for f in importer.fields:
            name = f"{f.name} *" if f.required else f.name
            header = mapping.get(f.name)
            if header is None:
                shown = _("— not found —") if f.required else ""
            elif not mark_guesses or fold_header(header) in {fold_header(x) for x in f.labels()}:
                shown = header
            else:
                shown = _("%(header)s (guessed)") % {"header": header}
            rows.append((name, f.zh, shown))
        titles = (_("field"), _("our column"), _("file's column"))
        widths = [max(_width(r[i]) for r in [titles, *rows]) for i in range(2)]
        for row in [titles, *rows]:
            line = f"  {_pad(row[0], widths[0])}  {_pad(row[1], widths[1])}  {row[2]}"
            self.stdout.write(line.rstrip())
        used = set(mapping.values())
        left = [h for h in headers if h and h not in used]
        self.stdout.write(
            _("* required. Columns of the file left unmapped: %(cols)s")
            % {"cols": ", ".join(left) if left else _("none")}
        )

    def _how_to_confirm(self) -> None:
        for line in (
            _("To accept this mapping, run the same command again with --confirm-mapping."),
            _(
                "To change it, write it to a file with --write-mapping FILE, edit the file "
                "(field: file header text), and run again with --mapping FILE."
            ),
            _(
                "With --source NAME a confirmed mapping is kept, and that source's next files map themselves."
            ),
        ):
            self.stdout.write(line)

    def _write(
        self, out: Path, importer: Importer, proposal: dict[str, str], headers: list[str]
    ) -> None:
        """Write the proposal for editing: every mapped field, and required fields left blank."""
        mapping = {
            f.name: proposal.get(f.name, "")
            for f in importer.fields
            if f.name in proposal or f.required
        }
        comments = [
            _("Column mapping of a %(kind)s file: field: the file's column header.")
            % {"kind": importer.kind},
            _("The file's columns: %(cols)s") % {"cols": ", ".join(h for h in headers if h)},
            _("Fields: %(fields)s")
            % {"fields": ", ".join(f"{f.name} ({f.zh})" for f in importer.fields)},
        ]
        try:
            write_mapping_file(out, mapping, comments=comments)
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(_("Mapping written to %(file)s.") % {"file": out})

    def _given_mapping(self, source: Path, importer: Importer, path: Path) -> dict[str, str]:
        """Read a mapping file and check it against the file's headers; return it completed
        with the columns whose headers are exactly our labels."""
        try:
            given = read_mapping_file(source)
        except MappingFileError as exc:
            raise CommandError(str(exc)) from exc
        fields = importer.field_map()
        unknown = sorted(set(given) - set(fields))
        if unknown:
            raise CommandError(
                _("Unknown fields in %(file)s: %(unknown)s. The fields of %(kind)s: %(fields)s.")
                % {
                    "file": source.name,
                    "unknown": ", ".join(unknown),
                    "kind": importer.kind,
                    "fields": ", ".join(fields),
                }
            )
        aliases = set().union(*(f.labels() for f in importer.fields))
        try:
            headers = read_table(path, header_aliases=aliases).headers
        except TabularError as exc:
            raise CommandError(str(exc)) from exc
        by_norm: dict[str, list[int]] = {}
        for i, h in enumerate(headers):
            by_norm.setdefault(normalize_header(h), []).append(i)
        kept: dict[str, int] = {}
        for name, header in given.items():
            if header in headers:
                index = headers.index(header)
            elif len(by_norm.get(normalize_header(header), [])) == 1:
                index = by_norm[normalize_header(header)][0]
            else:
                raise CommandError(
                    _(
                        "%(file)s maps %(field)s to %(header)s, which is not a column of "
                        "%(data)s. Its columns: %(cols)s"
                    )
                    % {
                        "file": source.name,
                        "field": name,
                        "header": header,
                        "data": path.name,
                        "cols": ", ".join(h for h in headers if h),
                    }
                )
            twice = [other for other, i in kept.items() if i == index]
            if twice:
                raise CommandError(
                    _("%(file)s maps both %(first)s and %(second)s to the column %(header)s.")
                    % {"file": source.name, "first": twice[0], "second": name, "header": header}
                )
            kept[name] = index
        complete = extend_mapping(kept, headers, importer)
        mapping = {name: headers[i] for name, i in complete.items()}
        missing = [f for f in importer.fields if f.required and f.name not in mapping]
        if missing:
            self._table(importer, mapping, headers, mark_guesses=False)
            raise CommandError(
                _("%(file)s leaves required columns unmapped: %(cols)s.")
                % {
                    "file": source.name,
                    "cols": ", ".join(f"{f.zh} ({f.name})" for f in missing),
                }
            )
        return mapping
