"""The import framework: read a county file, map its columns, validate in bulk, land it whole.

Each kind of file (areas, schools, registry, rolls) is an :class:`Importer`
registered by the app that owns its tables. The framework does the parts they
share: reading (``core.tabular``), column mapping, vectorised parsing
(``core.normalize``), the per-row error report, the all-or-nothing
transaction, counts, progress and the audit event.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import xlsxwriter
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jingzhun.core import crypto, normalize
from jingzhun.core.audit import audit_record
from jingzhun.core.bulk import (
    copy_arrow,
    fetch_arrow,
    fetch_columns,
    insert_rows,
    plain_indexes_deferred,
    select_in,
    update_rows,
)
from jingzhun.core.db import serialise
from jingzhun.core.mapping import extend_mapping, fold_header
from jingzhun.core.models import ColumnMapping, ImportBatch, ImportChange, SetAsideRow
from jingzhun.core.progress import Progress, read_progress
from jingzhun.core.sealed import UPLOAD, plain_chunks, plain_copy, seal_file
from jingzhun.core.tabular import TabularError, read_table

logger = logging.getLogger(__name__)

SENSITIVE_KINDS = {"id", "bank"}

ERROR_MESSAGES: dict[str, Any] = {
    "required": gettext_lazy("A value is required."),
    "id_excel_number": gettext_lazy(
        "Excel turned this ID number into a number and lost its last digits; format the column "
        "as text and type the number again."
    ),
    "id_length": gettext_lazy("An ID number has 18 characters."),
    "id_chars": gettext_lazy("An ID number has 17 digits and a final digit or X."),
    "id_birth_date": gettext_lazy("The birth date inside the ID number is not a real date."),
    "id_checksum": gettext_lazy("The ID number's check character is wrong (a typing error?)."),
    "id_area_unknown": gettext_lazy("Unknown area code in the ID number (late registration?)."),
    "date_format": gettext_lazy("Not a date; write it like 2010-05-03."),
    "bool_format": gettext_lazy("Write 是 or 否."),
    "school_year_format": gettext_lazy("Not a school year; write it like 2018 or 2018-2019."),
    "choice": gettext_lazy("Not one of the allowed values."),
    "int_format": gettext_lazy("Not a whole number."),
    "int_range": gettext_lazy("The number is out of range."),
    "decimal_format": gettext_lazy("Not a number."),
    "decimal_range": gettext_lazy("The number is too large."),
    "code_format": gettext_lazy("Wrong number of digits for this code."),
    "too_long": gettext_lazy("The text is too long."),
    "account_format": gettext_lazy("A bank account number has 12 to 25 digits."),
}


@dataclass(frozen=True)
class Field:
    """One column an importer understands."""

    name: str
    zh: str
    en: str
    kind: str = "text"  # text | id | bank | date | bool | year | int | choice | code | decimal
    required: bool = False
    choices: Mapping[str, str] | None = None
    lengths: tuple[int, ...] = ()  # allowed lengths of a digit code
    lo: int | None = None
    hi: int | None = None
    max_length: int = 100
    aliases: tuple[str, ...] = ()
    soft_errors: tuple[str, ...] = ()  # error codes reported as warnings; the row still lands

    def labels(self) -> set[str]:
        return {self.zh, self.en, self.name, *self.aliases}


@dataclass
class RowError:
    line: int
    column: str
    value: str
    reason: str
    severity: str = "error"


@dataclass
class Report:
    """Errors and warnings found in a file."""

    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)

    def add(
        self,
        line: int,
        column: str,
        value: Any,
        code_or_text: str,
        *,
        warning: bool = False,
        sensitive: bool = False,
    ) -> None:
        text = str(ERROR_MESSAGES.get(code_or_text, code_or_text))
        shown = "" if value is None else str(value)
        if sensitive and shown:
            shown = crypto.mask_id(shown)
        item = RowError(line, column, shown, text, "warning" if warning else "error")
        (self.warnings if warning else self.errors).append(item)

    @property
    def rejected_lines(self) -> int:
        return len({e.line for e in self.errors})


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class Context:
    """What an importer gets to see of the current import."""

    batch: ImportBatch
    report: Report
    progress: Callable[..., None]
    headers: dict[str, str]  # field name -> header text in the file
    mapped: set[str] = field(default_factory=set)  # the fields the file has a column for

    def header(self, name: str) -> str:
        return self.headers.get(name, name)


class Importer(ABC):
    """A kind of file: its fields, its cross-row checks, and how it lands."""

    kind: str
    fields: tuple[Field, ...]

    def field_map(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    def check(self, data: pa.Table, ctx: Context) -> pa.Table:
        """Add cross-row and reference errors; return the (possibly enriched) table."""
        return data

    def county_of(self, data: pa.Table) -> str:
        """Return the county the file belongs to ('' if it cannot tell); see ``county_column``."""
        if not self.county_column or data.num_rows == 0:
            return ""
        codes = {c[:6] for c in data.column(self.county_column).to_pylist() if c}
        return codes.pop() if len(codes) == 1 else ""

    county_column: str = ""
    # The fields whose raw value keys a row (the first one present): a set-aside row is
    # closed when a later import lands a row with the same key.
    key_fields: tuple[str, ...] = ()

    @abstractmethod
    def apply(self, data: pa.Table, ctx: Context) -> Counts:
        """Write the validated rows (inside the import's transaction)."""


_IMPORTERS: dict[str, Importer] = {}


def register(importer: Importer) -> None:
    """Make an importer available (called by the owning app's AppConfig.ready)."""
    _IMPORTERS[importer.kind] = importer


def importer_for(kind: str) -> Importer:
    try:
        return _IMPORTERS[kind]
    except KeyError as exc:
        raise ValueError(_("Unknown import kind: %(kind)s") % {"kind": kind}) from exc


def propose_mapping(headers: list[str], importer: Importer) -> tuple[dict[str, int], bool]:
    """Return the likely {field: column index} for a file's headers, and whether all matches
    were exact labels (a guess by similarity must be confirmed by the user)."""
    folded = [fold_header(h) for h in headers]
    mapping: dict[str, int] = {}
    used: set[int] = set()
    guessed = False
    for f in importer.fields:
        labels = {fold_header(x) for x in f.labels()}
        for i, h in enumerate(folded):
            if h and h in labels and i not in used:
                mapping[f.name] = i
                used.add(i)
                break
    for f in importer.fields:
        if f.name in mapping:
            continue
        best, best_score = None, 0.0
        for i, h in enumerate(folded):
            if i in used or not h:
                continue
            score = max(
                difflib.SequenceMatcher(None, h, fold_header(x)).ratio() for x in f.labels()
            )
            if fold_header(f.zh) in h or h in fold_header(f.zh):
                score = max(score, 0.8)
            if score > best_score:
                best, best_score = i, score
        if best is not None and best_score >= 0.6:
            mapping[f.name] = best
            used.add(best)
            guessed = True
    return mapping, not guessed


def stored_mapping(kind: str, source: str, headers: list[str]) -> dict[str, int] | None:
    """Return a kept mapping for this source, by header text, if all its headers are present."""
    if not source:
        return None
    kept = ColumnMapping.objects.filter(kind=kind, source=source).first()
    if kept is None:
        return None
    folded = [fold_header(h) for h in headers]
    result: dict[str, int] = {}
    for name, header in kept.mapping.items():
        if fold_header(header) not in folded:
            return None
        result[name] = folded.index(fold_header(header))
    return extend_mapping(result, headers, importer_for(kind))


def mapping_save(*, actor: Any, kind: str, source: str, mapping: dict[str, str]) -> ColumnMapping:
    """Keep a confirmed mapping {field: header text} for a source."""
    with transaction.atomic():
        kept, _created = ColumnMapping.objects.update_or_create(
            kind=kind, source=source, defaults={"mapping": mapping}
        )
        audit_record(
            actor=actor,
            action="import.mapping_saved",
            target=kept,
            data={"kind": kind, "source": source, "mapping": mapping},
        )
    return kept


def put_column(table: pa.Table, name: str, column: Any) -> pa.Table:
    """Return the table with column `name` replaced, or added when it has none."""
    i = table.schema.get_field_index(name)
    return table.set_column(i, name, column) if i >= 0 else table.append_column(name, column)


def _parse_column(f: Field, raw: pa.Array, *, csv: bool = False) -> tuple[pa.Array, pa.Array]:
    """Return (typed values, error codes) for one column (`csv`: the file is plain text)."""
    if f.kind in ("id",):
        return normalize.normalize_id_numbers(raw, excel_zeros=not csv)
    if f.kind == "date":
        return normalize.parse_dates(raw)
    if f.kind == "bool":
        return normalize.parse_booleans(raw)
    if f.kind == "year":
        return normalize.parse_school_years(raw)
    if f.kind == "int":
        return normalize.parse_int(raw, f.lo, f.hi)
    if f.kind == "decimal":
        return normalize.parse_decimal(raw)
    if f.kind == "choice":
        assert f.choices is not None
        return normalize.parse_choice(raw, f.choices)
    text = pc.utf8_trim_whitespace(raw.cast(pa.string()))
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    if f.kind in ("code", "bank"):
        cleaned = pc.replace_substring_regex(text, "[\\s\u3000]", "")
        ok = pc.match_substring_regex(cleaned, r"^\d+$")
        if f.kind == "bank":
            lengths_ok = pc.and_(
                ok,
                pc.and_(
                    pc.greater_equal(pc.utf8_length(cleaned), 12),
                    pc.less_equal(pc.utf8_length(cleaned), 25),
                ),
            )
            code = "account_format"
        elif f.lengths:
            lengths_ok = pc.and_(
                ok, pc.is_in(pc.utf8_length(cleaned), value_set=pa.array(f.lengths, pa.int32()))
            )
            code = "code_format"
        else:
            lengths_ok = pc.is_valid(cleaned)
            code = "code_format"
        bad = pc.and_(pc.is_valid(cleaned), pc.invert(pc.fill_null(lengths_ok, False)))
        errors = pc.if_else(bad, pa.scalar(code), pa.scalar(None, pa.string()))
        return pc.if_else(bad, pa.scalar(None, pa.string()), cleaned), errors
    too_long = pc.fill_null(pc.greater(pc.utf8_length(text), f.max_length), False)
    errors = pc.if_else(too_long, pa.scalar("too_long"), pa.scalar(None, pa.string()))
    return text, errors


def _collect(
    report: Report,
    errors: pa.Array,
    raw: pa.Array,
    lines: pa.Array,
    header: str,
    sensitive: bool,
    soft: tuple[str, ...] = (),
) -> None:
    mask = pc.is_valid(errors)
    if not pc.any(mask).as_py():
        return
    idx = pc.indices_nonzero(mask).to_pylist()
    codes, values, line_nos = (
        errors.take(idx).to_pylist(),
        raw.take(idx).to_pylist(),
        lines.take(idx).to_pylist(),
    )
    for code, value, line in zip(codes, values, line_nos, strict=True):
        report.add(line, header, value, code, sensitive=sensitive, warning=code in soft)


class ImportFailure(Exception):
    """A problem with the file as a whole (not one row): the import is rejected with this text."""


class NeedsMapping(Exception):
    """The file's headers do not cover the required fields; the user must map them."""


@dataclass
class Parsed:
    """A file read, mapped and typed."""

    data: pa.Table  # typed columns, `_line` and `_key_raw`
    headers: dict[str, str]  # field name -> header text in the file
    raw: Any  # the RawTable as read (original cells), for rows set aside
    mapped: set[str] = field(default_factory=set)  # the fields the file has a column for


def parse_file(
    batch: ImportBatch, importer: Importer, report: Report, progress: Callable[..., None]
) -> Parsed:
    """Read, map and type a file."""
    aliases = set().union(*(f.labels() for f in importer.fields))
    progress(_("Reading the file"), force=True)
    # The stored file is sealed: read a plaintext copy that is gone once the cells are read.
    with plain_copy(Path(batch.stored_path), purpose=UPLOAD, name=batch.file_name) as path:
        raw = read_table(path, header_aliases=aliases)
    batch.file_headers = raw.headers
    confirmed = True
    if batch.mapping:
        mapping = {k: raw.headers.index(v) for k, v in batch.mapping.items() if v in raw.headers}
    else:
        kept = stored_mapping(importer.kind, batch.source, raw.headers)
        if kept is not None:
            mapping = kept
        else:
            mapping, confirmed = propose_mapping(raw.headers, importer)
    missing = [f for f in importer.fields if f.required and f.name not in mapping]
    if missing or not confirmed:
        batch.proposed_mapping = {k: raw.headers[i] for k, i in mapping.items()}
        if missing:
            raise NeedsMapping(
                _("These required columns were not found: %(cols)s")
                % {"cols": ", ".join(f"{f.zh} ({f.en})" for f in missing)}
            )
        raise NeedsMapping(
            _("Some column headers differ from the template; please confirm the proposed mapping.")
        )
    n = raw.table.num_rows
    lines = raw.line_numbers
    columns: dict[str, pa.Array] = {}
    headers: dict[str, str] = {}
    for i, f in enumerate(importer.fields):
        progress(_("Checking columns"), i, len(importer.fields))
        if f.name in mapping:
            col = raw.table.column(mapping[f.name]).combine_chunks()
            headers[f.name] = raw.headers[mapping[f.name]]
        else:
            col = pa.nulls(n, pa.string())
            headers[f.name] = f.zh
        values, errors = _parse_column(f, col, csv=raw.encoding is not None)
        if f.required:
            missing_mask = pc.and_(pc.is_null(col), pc.is_null(errors))
            errors = pc.if_else(missing_mask, pa.scalar("required"), errors)
        _collect(
            report, errors, col, lines, headers[f.name], f.kind in SENSITIVE_KINDS, f.soft_errors
        )
        if f.kind == "id":
            columns[f"{f.name}__raw"] = col
            columns[f"{f.name}__error"] = errors
        columns[f.name] = values
    columns["_line"] = lines
    key: pa.Array = pa.nulls(n, pa.string())
    for name in reversed(importer.key_fields):
        if name in mapping:
            text = pc.utf8_trim_whitespace(
                raw.table.column(mapping[name]).combine_chunks().cast(pa.string())
            )
            text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
            key = pc.coalesce(pc.binary_join_element_wise(name, text, ":"), key)
    columns["_key_raw"] = key
    return Parsed(pa.table(columns), headers, raw, set(mapping))


def write_report(batch: ImportBatch, report: Report) -> str:
    """Write the per-row error report as .xlsx and return its path."""
    out = Path(settings.REPORT_DIR) / f"import-{batch.pk}-report.xlsx"
    out.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    ws = wb.add_worksheet(_("Errors")[:31])
    bold = wb.add_format({"bold": True})
    heads = [_("Line"), _("Column"), _("Value"), _("Reason"), _("Severity")]
    for c, h in enumerate(heads):
        ws.write_string(0, c, str(h), bold)
    ws.set_column(0, 0, 8)
    ws.set_column(1, 2, 20)
    ws.set_column(3, 3, 60)
    items = sorted(report.errors + report.warnings, key=lambda e: (e.line, e.severity))
    for r, e in enumerate(items, start=1):
        ws.write_number(r, 0, e.line)
        ws.write_string(r, 1, e.column)
        ws.write_string(r, 2, e.value)
        ws.write_string(r, 3, e.reason)
        ws.write_string(r, 4, str(_("error") if e.severity == "error" else _("warning")))
    wb.close()
    return str(out)


def store_upload(src: Path | Any, file_name: str) -> tuple[str, str]:
    """Seal an uploaded or given file into the import store; return (path, sha256).

    The store keeps files encrypted at rest (:mod:`jingzhun.core.sealed`): an import is read
    again when its columns are mapped, and a sealed file given here (such a re-run) is read
    decrypted. The hash is the plaintext's, so the same file always has the same name.
    """
    digest = hashlib.sha256()
    store = Path(settings.IMPORT_DIR)
    store.mkdir(parents=True, exist_ok=True)
    tmp = store / f".upload-{time.time_ns()}-{os.getpid()}"
    if isinstance(src, Path):
        chunks: Iterable[bytes] = plain_chunks(src, purpose=UPLOAD)
    else:
        chunks = src.chunks()

    def hashed() -> Iterator[bytes]:
        for chunk in chunks:
            digest.update(chunk)
            yield chunk

    seal_file(hashed(), tmp, purpose=UPLOAD)
    sha = digest.hexdigest()
    suffix = Path(file_name).suffix.lower()
    final = store / f"{sha}{suffix}"
    os.replace(tmp, final)
    return str(final), sha


def import_create(
    *,
    actor: Any,
    kind: str,
    path: Path | Any,
    file_name: str,
    source: str = "",
    mapping: dict[str, str] | None = None,
    school_year: int | None = None,
    strict: bool = False,
) -> ImportBatch:
    """Record a new import of a file (not yet run).

    `school_year`: the year of rows whose file does not say (the national roll export);
    `strict`: refuse the whole file if any row has an error.
    """
    importer_for(kind)
    suffix = Path(file_name).suffix.lower()
    if suffix not in (".xlsx", ".xls", ".csv"):
        raise ValueError(_("Only .xlsx, .xls and .csv files can be imported."))
    stored, sha = store_upload(path, file_name)
    scope = getattr(actor, "scope", None)
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            kind=kind,
            source=source,
            file_name=Path(file_name).name,
            stored_path=stored,
            sha256=sha,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            county_code=getattr(scope, "county_code", "") or "",
            mapping=mapping or {},
            school_year=school_year,
            strict=strict,
        )
        audit_record(
            actor=actor,
            action="import.created",
            target=batch,
            actor_name="" if actor else "cli",
            data={"kind": kind, "file": batch.file_name, "sha256": sha},
        )
    return batch


def bulk_write_settings(on: bool) -> None:
    """Give SQLite a large page cache for a bulk write (index pages stay in memory), then
    return to the default."""
    if connection.vendor == "sqlite":
        size = settings.SQLITE_BULK_CACHE_KIB if on else 2000
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = -{size}")


def _finish(batch: ImportBatch, status: str, message: str = "") -> None:
    batch.status = status
    batch.message = message
    batch.finished_at = timezone.now()
    batch.save()


def _reject(batch: ImportBatch, report: Report, limit: int) -> None:
    """Refuse the whole file, with the first errors and the report."""
    batch.rows_rejected = report.rejected_lines
    batch.report_path = write_report(batch, report)
    first = sorted(report.errors, key=lambda e: e.line)[:5]
    lines = [
        _("line %(line)d, %(column)s: %(reason)s")
        % {"line": e.line, "column": e.column, "reason": e.reason}
        for e in first
    ]
    if batch.strict:
        head = _(
            "%(n)d rows have errors; nothing was imported (all or nothing). Open the error report."
        ) % {"n": batch.rows_rejected}
    else:
        head = _(
            "%(n)d of %(total)d rows have errors, more than %(limit)d%%: the columns are probably "
            "mapped wrong, so nothing was imported. Check the mapping and the error report."
        ) % {"n": batch.rows_rejected, "total": batch.rows_total, "limit": limit}
    with transaction.atomic():
        _finish(batch, ImportBatch.Status.REJECTED, "\n".join([head, *lines]))
        audit_record(
            actor=batch.created_by,
            action="import.rejected",
            target=batch,
            data={"errors": len(report.errors), "rows": batch.rows_rejected},
        )


def _row_keys(kind: str, values: list[str | None]) -> list[str]:
    """Return the keyed index of each row key ('' for none): never the plaintext."""
    keyed = crypto.blind_index_many(
        [f"{kind}:{v}" if v else None for v in values], purpose="setaside"
    )
    return [k or "" for k in keyed]


def _close_open(kind: str, keys: list[str], **closed: Any) -> int:
    """Close the open set-aside rows of a kind with these keys; return how many."""
    done = 0
    for start in range(0, len(keys), 900):
        done += SetAsideRow.objects.filter(
            kind=kind, status=SetAsideRow.Status.OPEN, row_key__in=keys[start : start + 900]
        ).update(**closed)
    return done


def _set_aside(
    batch: ImportBatch,
    parsed: Parsed,
    report: Report,
    bad_lines: set[int],
    landed_keys: pa.Array,
) -> int:
    """Keep the rows in error (sealed, with their reasons); close earlier ones now landed.

    Return how many earlier set-aside rows this import fixed.
    """
    now = timezone.now()
    # Only the keys of rows still open can be closed: with none open (the usual case) no key
    # of the file is computed, and otherwise only the landed keys among the open ones are sent.
    open_keys = set(
        SetAsideRow.objects.filter(kind=batch.kind, status=SetAsideRow.Status.OPEN).values_list(
            "row_key", flat=True
        )
    )
    fixed = 0
    if open_keys and len(landed_keys):
        text = landed_keys.cast(pa.string())
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
        keyed = crypto.blind_index_array(
            pc.binary_join_element_wise(batch.kind, text, ":"), purpose="setaside"
        )
        landed = sorted({k for k in keyed.to_pylist() if k} & open_keys)
        fixed = _close_open(
            batch.kind, landed, status=SetAsideRow.Status.FIXED, fixed_by=batch, closed_at=now
        )
    if not bad_lines:
        return fixed
    raw = parsed.raw
    lines = raw.line_numbers.to_pylist()
    positions = [i for i, line in enumerate(lines) if line in bad_lines]
    heads = raw.headers
    taken = raw.table.take(positions) if positions else raw.table.slice(0, 0)
    cols = [taken.column(j).to_pylist() for j in range(taken.num_columns)]
    rows = [[col[r] for col in cols] for r in range(taken.num_rows)]
    reasons: dict[int, list[dict[str, str]]] = {}
    for e in report.errors:
        reasons.setdefault(e.line, []).append(
            {"column": e.column, "value": e.value, "reason": e.reason}
        )
    key_values = parsed.data.column("_key_raw").to_pylist()
    data_lines = parsed.data.column("_line").to_pylist()
    key_of = {line: key for line, key in zip(data_lines, key_values, strict=True)}
    # A row without a key is known by its place in the same file: importing the file again
    # supersedes it instead of listing it twice.
    keys = _row_keys(
        batch.kind,
        [key_of.get(lines[i]) or f"file:{batch.sha256}:{lines[i]}" for i in positions],
    )
    _close_open(batch.kind, keys, status=SetAsideRow.Status.SUPERSEDED, closed_at=now)
    plain = [
        json.dumps(
            {
                (heads[j] if j < len(heads) else "") or f"#{j + 1}": _cell(v)
                for j, v in enumerate(row)
            },
            ensure_ascii=False,
        )
        for row in rows
    ]
    sealed = crypto.encrypt_many(plain, purpose="setaside")
    version = crypto.keyring().current_version
    SetAsideRow.objects.bulk_create(
        [
            SetAsideRow(
                batch=batch,
                kind=batch.kind,
                county_code=batch.county_code,
                line=lines[i],
                row_key=key,
                label=_("line %(line)d") % {"line": lines[i]},
                reasons=reasons.get(lines[i], []),
                values_cipher=cipher,
                values_key=version,
            )
            for i, key, cipher in zip(positions, keys, sealed, strict=True)
        ],
        batch_size=1000,
    )
    return fixed


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def set_aside_values(row: SetAsideRow) -> dict[str, str]:
    """Return a set-aside row's original cells {header: text}; callers check permission."""
    text = crypto.decrypt(bytes(row.values_cipher), version=row.values_key, purpose="setaside")
    values: dict[str, str] = json.loads(text)
    return values


class ImportAlreadyStarted(Exception):
    """The import was started already (by another worker, request or command): it runs once."""

    def __init__(self, batch: ImportBatch) -> None:
        self.batch = batch
        super().__init__(
            _("Already done: import #%(id)d was started once already (now %(status)s).")
            % {"id": batch.pk, "status": batch.get_status_display()}
        )


def _same_file_imported(batch: ImportBatch) -> ImportBatch | None:
    """Return the latest other import of the same file and kind that landed, if any."""
    return (
        ImportBatch.objects.filter(
            kind=batch.kind, sha256=batch.sha256, status=ImportBatch.Status.DONE
        )
        .exclude(pk=batch.pk)
        .order_by("-finished_at", "-id")
        .first()
    )


def import_run(*, batch: ImportBatch, echo: Callable[[str], None] | None = None) -> ImportBatch:
    """Run an import to the end: rejected with a report, needs mapping, or landed whole.

    An import runs once: a second run of the same batch (at the same moment or later) raises
    ImportAlreadyStarted. The writing of one county's imports is serialised, so that of two
    imports of one file at once the second finds every row in place, records no change
    twice, and says the file was already imported.
    """
    importer = importer_for(batch.kind)
    claimed = ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.PENDING).update(
        status=ImportBatch.Status.RUNNING
    )
    if not claimed:
        batch.refresh_from_db()
        raise ImportAlreadyStarted(batch)
    batch.status = ImportBatch.Status.RUNNING
    progress = Progress(f"import-{batch.pk}", echo=echo)
    report = Report()
    try:
        parsed = parse_file(batch, importer, report, progress)
    except NeedsMapping as exc:
        _finish(batch, ImportBatch.Status.NEEDS_MAPPING, str(exc))
        return batch
    except TabularError as exc:
        _finish(batch, ImportBatch.Status.REJECTED, str(exc))
        return batch
    data, headers = parsed.data, parsed.headers
    ctx = Context(
        batch=batch, report=report, progress=progress, headers=headers, mapped=parsed.mapped
    )
    batch.rows_total = data.num_rows
    progress(_("Checking rows"), force=True)
    try:
        data = importer.check(data, ctx)
    except ImportFailure as exc:
        _finish(batch, ImportBatch.Status.REJECTED, str(exc))
        return batch
    if not batch.county_code:  # after the check, which may derive it (the village from 户编号)
        batch.county_code = importer.county_of(data)
    batch.warnings = len(report.warnings)
    bad_lines = {e.line for e in report.errors}
    limit = settings.IMPORT_MAX_BAD_PERCENT
    if bad_lines and (batch.strict or len(bad_lines) * 100 > limit * max(1, batch.rows_total)):
        _reject(batch, report, limit)
        progress(_("Rejected"), force=True)
        return batch
    if bad_lines:
        data = data.filter(
            pc.invert(
                pc.is_in(data.column("_line"), value_set=pa.array(sorted(bad_lines), pa.int64()))
            )
        )
    keys = data.column("_key_raw")
    data = data.drop_columns(["_key_raw"])
    progress.phase = "apply"
    bulk_write_settings(True)
    try:
        with transaction.atomic():
            # First: a second import of the county waits here, then reads what the first wrote.
            serialise("import", batch.county_code)
            counts = importer.apply(data, ctx) if data.num_rows else Counts()
            batch.rows_created, batch.rows_updated = counts.created, counts.updated
            batch.rows_unchanged = counts.unchanged
            batch.rows_rejected = batch.rows_set_aside = len(bad_lines)
            closed = _set_aside(batch, parsed, report, bad_lines, keys)
            batch.warnings = len(report.warnings)  # the writing step may add some
            if report.warnings or report.errors:
                batch.report_path = write_report(batch, report)
            notes = list(counts.notes)
            if bad_lines:
                notes.insert(
                    0,
                    _(
                        "%(n)d rows were set aside to fix (see the list of rows to fix); "
                        "the other rows landed."
                    )
                    % {"n": len(bad_lines)},
                )
            if closed:
                notes.append(
                    _("%(n)d rows set aside by earlier imports are fixed by this file.")
                    % {"n": closed}
                )
            earlier = (
                None
                if counts.created or counts.updated or bad_lines or closed
                else _same_file_imported(batch)
            )
            if earlier is not None:
                notes.insert(
                    0,
                    _("Already done: this file was imported as import #%(id)d; nothing changed.")
                    % {"id": earlier.pk},
                )
            _finish(batch, ImportBatch.Status.DONE, "\n".join(notes))
            audit_record(
                actor=batch.created_by,
                action="import.done",
                target=batch,
                data={
                    "kind": batch.kind,
                    "sha256": batch.sha256,
                    "rows": batch.rows_total,
                    "created": counts.created,
                    "updated": counts.updated,
                    "unchanged": counts.unchanged,
                    "set_aside": len(bad_lines),
                },
            )
    except ImportFailure as exc:
        batch.rows_created = batch.rows_updated = batch.rows_unchanged = 0
        batch.rows_set_aside = 0
        _finish(batch, ImportBatch.Status.REJECTED, str(exc))
        return batch
    except IntegrityError:
        # Rows shared beyond one county (a university named by two counties' rolls) written
        # by another county's import at the same moment: nothing landed, the file can be
        # imported again as it is.
        logger.warning("Import %s met a concurrent write", batch.pk, exc_info=True)
        batch.rows_created = batch.rows_updated = batch.rows_unchanged = 0
        batch.rows_set_aside = 0
        _finish(
            batch,
            ImportBatch.Status.FAILED,
            _(
                "Another import was writing the same records at the same moment; nothing was "
                "imported. Import the file again."
            ),
        )
        return batch
    except Exception:
        batch.rows_created = batch.rows_updated = batch.rows_unchanged = 0
        batch.rows_set_aside = 0
        _finish(
            batch,
            ImportBatch.Status.FAILED,
            _("The import failed unexpectedly; nothing was imported."),
        )
        raise
    finally:
        bulk_write_settings(False)
    progress(_("Done"), batch.rows_total, batch.rows_total, force=True)
    return batch


def duck() -> duckdb.DuckDBPyConnection:
    """Return a fresh in-memory DuckDB connection for set-wise checks."""
    return duckdb.connect(":memory:")


def hash_expr(columns: list[str]) -> str:
    """Return a DuckDB expression hashing columns of a row (for change detection).

    Sensitive values enter only as their keyed blind index, never in plaintext.
    """
    parts = ", ".join(f"coalesce(CAST({c} AS VARCHAR), '~')" for c in columns)
    return f"md5(concat_ws('|', {parts}))"


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (bytes, memoryview)):
        return None
    return str(value) if not isinstance(value, int) else value


# A binary column as PostgreSQL's bytea hex text (\x0102...), for COPY ... CSV.
BYTEA_HEX = '\'\\x\' || hex(v."{0}") AS "{0}"'


@dataclass
class SyncResult:
    created: int
    updated: int
    unchanged: int
    ids: pa.Table  # (_key, id) of every row of the table after the sync
    # Ids of the updated rows whose ``watch`` column changed (sync_rows's ``watch``).
    watched: list[int] = field(default_factory=list)


def sync_rows(
    *,
    ctx: Context,
    table: str,
    entity: str,
    rows: pa.Table,
    key_sql: str,
    diff_columns: list[str],
    sensitive: Mapping[str, str] | None = None,
    order_by: str = "_key",
    watch: str | None = None,
) -> SyncResult:
    """Insert new rows, update changed ones (recording what changed), leave the rest.

    ``rows`` has a ``_key`` column matched against ``key_sql`` (an SQL expression over
    the table), a ``row_hash`` column compared with the stored one, an optional
    ``_label`` shown in change records, and the columns to write (every column whose
    name does not start with ``_``). ``sensitive`` maps a column to the field name shown
    in change records; its values are never recorded. ``watch`` names one of the
    ``diff_columns``: the result's ``watched`` lists the updated rows whose value of it
    changed (a student who moved county, a household that moved village), so that what
    follows them is updated for them alone.
    """
    if watch is not None and watch not in diff_columns:
        raise ValueError(f"watch={watch!r} is not one of the diff columns")
    sensitive = sensitive or {}
    watched: list[int] = []
    qn = connection.ops.quote_name
    key_type = rows.schema.field("_key").type
    existing = fetch_arrow(
        f"SELECT {key_sql}, id, row_hash FROM {qn(table)}",
        [],
        pa.schema([("_key", key_type), ("_id", pa.int64()), ("_old_hash", pa.string())]),
    )
    con = duck()
    con.register("v", rows)
    con.register("e", existing)
    columns = [c for c in rows.column_names if not c.startswith("_")]
    # Dates go to SQLite as ISO text, sparing the sqlite3 module a Python call per value.
    as_text = connection.vendor == "sqlite"
    select = ", ".join(
        f'CAST(v."{c}" AS VARCHAR)'
        if as_text and pa.types.is_date(rows.schema.field(c).type)
        else f'v."{c}"'
        for c in columns
    )
    # In key order, so that the key's index grows at its end instead of everywhere at once.
    ((created,),) = con.sql("SELECT count(*) FROM v ANTI JOIN e USING (_key)").fetchall()

    def report(done: int) -> None:
        ctx.progress(_("Writing %(what)s") % {"what": entity}, done, created)

    new_ids: pa.Table | None = None

    if created:
        if connection.vendor == "postgresql":
            # The ids come from the table's sequence as the rows land; they are read back
            # from above the highest id committed before (a sequence only ever grows, so
            # every id this COPY takes is above it), and kept for this file's keys only.
            ((top,),) = fetch_columns(f"SELECT coalesce(max(id), 0) FROM {qn(table)}")
            as_hex = ", ".join(
                BYTEA_HEX.format(c) if pa.types.is_binary(rows.schema.field(c).type) else f'v."{c}"'
                for c in columns
            )
            copy_arrow(
                table,
                columns,
                con.sql(
                    f"SELECT {as_hex} FROM v ANTI JOIN e USING (_key) ORDER BY v.{order_by}"
                ).to_arrow_table(),
                progress=report,
            )
            con.register(
                "_landed",
                fetch_arrow(
                    f"SELECT {key_sql}, id FROM {qn(table)} WHERE id > %s",
                    [top],
                    pa.schema([("_key", key_type), ("id", pa.int64())]),
                ),
            )
            new_ids = con.sql(
                "SELECT l._key, l.id FROM _landed l SEMI JOIN v USING (_key) "
                "ANTI JOIN e USING (_key)"
            ).to_arrow_table()
        else:
            # SQLite: this transaction holds the database's one write lock, so the new rows'
            # ids are given here, after the highest ever given, in the order they are
            # written; the ids of the table after the sync are known without reading them.
            from_n = select.replace('v."', 'n."')
            con.execute(f"""CREATE TEMP TABLE n AS
                SELECT {_next_id(table) - 1} + row_number() OVER (ORDER BY v.{order_by}, v._key)
                       AS _new_id, v.*
                FROM v ANTI JOIN e USING (_key)""")
            # Loading more rows than the table holds: its plain indexes are built once at the end.
            with plain_indexes_deferred(table, enabled=created > existing.num_rows):
                insert_rows(
                    table,
                    ["id", *columns],
                    con.sql(f"SELECT _new_id, {from_n} FROM n ORDER BY _new_id").fetchall(),
                    progress=report,
                )
            new_ids = con.sql("SELECT _key, _new_id AS id FROM n").to_arrow_table()
    label = "v._label" if "_label" in rows.column_names else "CAST(v._key AS VARCHAR)"
    changed = con.sql(f"""SELECT e._id, {label}, {select} FROM v JOIN e USING (_key)
                         WHERE v.row_hash IS DISTINCT FROM e._old_hash""").fetchall()
    ((matched,),) = con.sql("SELECT count(*) FROM v JOIN e USING (_key)").fetchall()
    if changed:
        old: dict[int, tuple[Any, ...]] = {}
        ids = [row[0] for row in changed]
        sql = (
            f"SELECT id, {', '.join(qn(c) for c in diff_columns)} FROM {qn(table)} "
            "WHERE id IN ({marks})"
        )
        for text, params in select_in(sql, ids):
            for row in fetch_columns(text, params):
                old[row[0]] = row[1:]
        position = {c: 2 + columns.index(c) for c in diff_columns}
        records = []
        for row in changed:
            diff: dict[str, Any] = {}
            for j, c in enumerate(diff_columns):
                before, after = _plain(old[row[0]][j]), _plain(row[position[c]])
                if before != after:
                    if c == watch:
                        watched.append(int(row[0]))
                    if c in sensitive:
                        diff[sensitive[c]] = ["***", "***"]
                    else:
                        diff[c] = [before, after]
            records.append(
                ImportChange(
                    batch=ctx.batch,
                    entity=entity,
                    key=str(row[1])[:100],
                    action="updated",
                    changes=diff,
                )
            )
        ImportChange.objects.bulk_create(records, batch_size=2000)
        update_rows(table, columns, [(*row[2:], row[0]) for row in changed])
    con.close()
    schema = pa.schema([("_key", key_type), ("id", pa.int64())])
    known = [existing.select(["_key", "_id"]).rename_columns(["_key", "id"]).cast(schema)]
    if new_ids is not None:
        known.append(new_ids.cast(schema))
    ids_now = pa.concat_tables(known)
    return SyncResult(int(created), len(changed), int(matched) - len(changed), ids_now, watched)


def _next_id(table: str) -> int:
    """Return the id SQLite would give the next row of a table (AUTOINCREMENT: never one
    given before, even to a row since deleted)."""
    qn = connection.ops.quote_name
    ((seq, top),) = fetch_columns(
        f"SELECT (SELECT seq FROM sqlite_sequence WHERE name = %s), max(id) FROM {qn(table)}",
        [table],
    )
    return max(int(seq or 0), int(top or 0)) + 1


def imports_sweep(*, stale_after: float | None = None) -> int:
    """Mark imports that stopped reporting progress (a killed worker) as failed; return how many.

    The write transaction of such an import was rolled back by the database, so only its
    record is left to close.
    """
    limit = settings.IMPORT_STALE_SECONDS if stale_after is None else stale_after
    closed = 0
    for batch in ImportBatch.objects.filter(status=ImportBatch.Status.RUNNING):
        seen = read_progress(f"import-{batch.pk}").get("at")
        last = float(seen) if seen else batch.created_at.timestamp()
        if time.time() - last < limit:
            continue
        with transaction.atomic():
            updated = ImportBatch.objects.filter(
                pk=batch.pk, status=ImportBatch.Status.RUNNING
            ).update(
                status=ImportBatch.Status.FAILED,
                finished_at=timezone.now(),
                message=str(
                    _(
                        "The import was interrupted (no progress for %(s)d s); nothing was "
                        "imported. Import the file again."
                    )
                    % {"s": int(limit)}
                ),
            )
            if updated:
                audit_record(
                    actor=None,
                    actor_name="system",
                    action="import.interrupted",
                    target=batch,
                    data={"stale_seconds": int(time.time() - last)},
                )
                closed += 1
    return closed


def write_template(kind: str, path: Path, *, english: bool = False) -> Path:
    """Write an empty .xlsx template for a kind, headers only, ID columns formatted as text."""
    importer = importer_for(kind)
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(kind)
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    text = wb.add_format({"num_format": "@"})
    for c, f in enumerate(importer.fields):
        ws.write_string(0, c, f.en if english else f.zh, head)
        ws.set_column(c, c, 22 if f.kind in ("id", "bank", "code") else 14, text)
        if f.required:
            ws.write_comment(0, c, str(_("Required")))
    ws.freeze_panes(1, 0)
    wb.close()
    return path
