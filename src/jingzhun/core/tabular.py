"""Read county import files (``.xlsx``, ``.xls``, ``.csv``) into Arrow tables of strings.

:func:`read_table` finds the header row (skipping title rows), flattens two-row headers made
of merged cells, drops blank rows and trailing notes, and returns every remaining cell as a
stripped string (``null`` when empty) together with the row number the user sees in Excel.

Excel files are read with ``fastexcel`` (calamine). Numbers Excel has stored as floating point
with more than 15 significant digits (typically an ID number typed into a cell formatted as a
number) come back in scientific notation such as ``4.2010120100503E+17`` so that the caller can
reject them instead of importing silently corrupted digits. Date cells become ``YYYY-MM-DD``.
Before calamine opens a workbook, :func:`jingzhun.core.uploads.check_workbook` refuses one
that would unpack to too much (a zip bomb), naming the file and the reason.

CSV files may be UTF-8 (with or without BOM), GB18030 or UTF-16 with BOM, delimited by comma,
tab or semicolon. The bulk of the file is parsed with ``pyarrow.csv``.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import logging
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

import fastexcel
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.utils.translation import gettext

from jingzhun.core.uploads import WorkbookRefused, check_workbook

# What a library said about a file that could not be read goes here, never to the user:
# it names server paths and library internals.
logger = logging.getLogger(__name__)

__all__ = [
    "CSV_EXTENSIONS",
    "EXCEL_EXTENSIONS",
    "HEADER_SCAN_ROWS",
    "RawTable",
    "TabularError",
    "normalize_header",
    "read_table",
]

EXCEL_EXTENSIONS = frozenset({".xlsx", ".xlsm", ".xls"})
CSV_EXTENSIONS = frozenset({".csv", ".txt", ".tsv"})

#: The header row must be among the first this many rows.
HEADER_SCAN_ROWS = 30
#: A header row needs at least this many cells matching a known header.
MIN_HEADER_MATCHES = 2

#: Characters stripped from both ends of every value.
_STRIP_CHARS = " \t\r\n\v\f\u3000\u00a0\ufeff\u200b"
#: Suffixes (after normalisation) that mark a header as required/optional.
_HEADER_MARKERS = ("*", "(必填)", "(选填)", "(必填项)", "(可选)", ":")
#: A row whose first non-empty cell starts like this (and is otherwise mostly empty) is a note.
_NOTE_PATTERN = (
    r"(?i)^(?:注|備註|备注|说明|說明|填表人|填报人|填報人|制表人|製表人|审核人|審核人|"
    r"负责人|負責人|合计|合計|总计|總計|小计|小計|填表日期|填报日期|制表日期|note|total)"
)
_CSV_DELIMITERS = (",", "\t", ";")
_CSV_HEAD_LINES = 400
_CSV_BLOCK_SIZE = 16 << 20
#: Integers with more digits than this cannot have come through an Excel number intact.
_EXCEL_DIGITS = 15


class TabularError(Exception):
    """The file cannot be read as an import table; the message says why."""


def _empty(path: Path) -> TabularError:
    return TabularError(gettext("%(file)s is empty.") % {"file": path.name})


def _unreadable(path: Path, exc: Exception) -> TabularError:
    logger.warning("cannot read import file %s: %r", path.name, exc)
    return TabularError(_not_a_table())


def _not_text() -> str:
    return gettext(
        "The file is not text in UTF-8 or GB18030 (reading failed); in Excel, save it as "
        '"CSV UTF-8" and import it again.'
    )


def _not_a_table() -> str:
    return gettext("The file is not an Excel or CSV file (reading failed).")


@dataclass
class RawTable:
    """Cells of an import file as strings, after header detection."""

    #: Header texts as found (two-row headers flattened, whitespace removed); "" when missing.
    headers: list[str]
    #: One ``pa.string()`` column per header, named ``c0``, ``c1``...; values stripped, empty
    #: cells null.
    table: pa.Table
    #: int32, the 1-based row number in the file (as Excel shows it) of each data row.
    line_numbers: pa.Array
    #: 1-based row number of the header row (the one with the most matching headers).
    header_line: int
    #: Sheet name for Excel files, ``None`` for CSV.
    sheet: str | None
    #: Detected encoding for CSV (``utf-8``, ``utf-8-sig``, ``gb18030``, ``utf-16``), else None.
    encoding: str | None


def normalize_header(text: str | None) -> str:
    """Return *text* in the form used to compare headers with aliases.

    Full-width forms are folded (NFKC), all whitespace is removed, the text is case-folded and
    required/optional markers such as a trailing ``*`` or ``(必填)`` are dropped.
    """
    if not text:
        return ""
    folded = "".join(unicodedata.normalize("NFKC", text).split()).casefold()
    changed = True
    while changed and folded:
        changed = False
        for marker in _HEADER_MARKERS:
            if folded.endswith(marker):
                folded = folded[: -len(marker)]
                changed = True
        if folded.startswith("*"):
            folded = folded.lstrip("*")
            changed = True
    return folded


def read_table(path: Path, *, header_aliases: set[str], sheet: str | None = None) -> RawTable:
    """Read *path* and return its data rows as strings.

    *header_aliases* are the header texts (any language, any spelling the caller knows) that
    identify the header row; it is the row among the first :data:`HEADER_SCAN_ROWS` with the
    most cells matching an alias (at least :data:`MIN_HEADER_MATCHES`). For Excel files *sheet*
    selects a sheet by name; by default the first sheet with such a header row is used.

    Raise :class:`TabularError` for an unsupported extension, an unreadable or empty file, or
    when no header row is found.
    """
    path = Path(path)
    aliases = _Aliases(header_aliases)
    suffix = path.suffix.lower()
    if suffix in EXCEL_EXTENSIONS:
        return _read_excel(path, aliases, sheet)
    if suffix in CSV_EXTENSIONS:
        return _read_csv(path, aliases)
    supported = ", ".join(sorted(EXCEL_EXTENSIONS | CSV_EXTENSIONS))
    raise TabularError(
        gettext("Unsupported file type %(suffix)s for %(file)s; use one of %(supported)s.")
        % {"suffix": repr(suffix or "(none)"), "file": path.name, "supported": supported}
    )


# --------------------------------------------------------------------------- header detection


@dataclass
class _Header:
    """Where the header is and what it says."""

    row: int  # 0-based index of the main header row
    first_data: int  # 0-based index of the first row after the header block
    labels: list[str]
    matches: int


def _display(text: str | None) -> str:
    """Return a header cell as shown to the user: all whitespace removed."""
    return "".join(text.split()) if text else ""


class _Aliases:
    """The expected header texts; calling it tells whether a cell text matches one of them."""

    def __init__(self, aliases: Iterable[str]) -> None:
        self.originals = [a for a in aliases if a]
        self.normalised = {normalize_header(a) for a in self.originals} - {""}

    def __call__(self, text: str | None) -> bool:
        return bool(text) and normalize_header(text) in self.normalised


def _forward_fill_groups(row: Sequence[str | None], is_alias: _Aliases) -> list[str]:
    """Spread group labels (non-alias texts, e.g. a merged "监护人") over the empty cells after."""
    filled: list[str] = []
    group = ""
    for cell in row:
        if cell:
            group = "" if is_alias(cell) else _display(cell)
            filled.append(_display(cell))
        else:
            filled.append(group)
    return filled


def _find_header(rows: Sequence[Sequence[str | None]], is_alias: _Aliases) -> _Header | None:
    """Find the header row in the first rows of a sheet and flatten a two-row header."""
    scores = [sum(1 for cell in row if is_alias(cell)) for row in rows[:HEADER_SCAN_ROWS]]
    if not scores or max(scores) < MIN_HEADER_MATCHES:
        return None
    best = scores.index(max(scores))
    width = max(len(row) for row in rows[max(best - 1, 0) : best + 2])

    def padded(index: int) -> list[str | None]:
        row = list(rows[index]) if 0 <= index < len(rows) else []
        return row + [None] * (width - len(row))

    upper, lower, above = padded(best), padded(best + 1), padded(best - 1)

    # Case A: the row below holds sub-headers under group labels (merged "监护人" over 姓名/身份证号).
    groups = _forward_fill_groups(upper, is_alias)
    sub_matches = 0
    conflict = False
    for j in range(width):
        top, below = upper[j], lower[j]
        if not below:
            continue
        if is_alias(top):
            conflict = True  # a value under a real header: the row below is data
            break
        if is_alias(below) or is_alias(groups[j] + _display(below)):
            sub_matches += 1
    if sub_matches and not conflict:
        labels = []
        for j in range(width):
            top, below = upper[j], lower[j]
            if not below:
                labels.append(_display(top))
                continue
            combined = groups[j] + _display(below)
            if groups[j] and is_alias(combined):
                labels.append(combined)
            elif is_alias(below) or not groups[j]:
                labels.append(_display(below))
            else:
                labels.append(combined)
        return _Header(best, best + 2, labels, scores[best])

    # Case B: the row above holds group labels and vertically merged headers.
    labels = [_display(top) for top in upper]
    above_groups = _forward_fill_groups(above, is_alias)
    for j, top in enumerate(upper):
        if not top:
            if is_alias(above[j]):
                labels[j] = _display(above[j])
        elif above_groups[j] and is_alias(above_groups[j] + _display(top)):
            labels[j] = above_groups[j] + _display(top)
    return _Header(best, best + 1, labels, scores[best])


def _no_header_error(aliases: Iterable[str], where: str) -> TabularError:
    """Build the error for a file without a recognisable header row."""
    names = sorted({a.strip() for a in aliases if a.strip()}, key=lambda a: (a.isascii(), a))
    expected = "、".join(names[:12]) + ("…" if len(names) > 12 else "")
    return TabularError(
        gettext(
            "No header row found in the first %(rows)d rows of %(where)s: need a row with at "
            "least %(matches)d of the expected headers (%(expected)s)."
        )
        % {
            "rows": HEADER_SCAN_ROWS,
            "where": where,
            "matches": MIN_HEADER_MATCHES,
            "expected": expected,
        }
    )


# --------------------------------------------------------------------------- shared cleanup


Column: TypeAlias = pa.Array | pa.ChunkedArray


def _clean_column(column: Column) -> Column:
    """Strip a string column and turn empty strings into nulls (chunked input stays chunked)."""
    if not pa.types.is_string(column.type):
        column = pc.cast(column, pa.string())
    trimmed = pc.utf8_trim(column, characters=_STRIP_CHARS)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _line_numbers(first: int, count: int) -> pa.Array:
    """Return int32 numbers first, first + 1, ... (count of them)."""
    if count == 0:
        return pa.array([], pa.int32())
    ones = pa.repeat(pa.scalar(1, pa.int32()), count)
    return pc.add(pc.cumulative_sum(ones), pa.scalar(first - 1, pa.int32()))


def _as_array(values: Column) -> pa.Array:
    """Return *values* as a single Array."""
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks else pa.array([], values.type)
    return values


def _note_rows(columns: list[Column], filled: pa.Array, non_blank: pa.Array) -> list[int]:
    """Return the positions of note rows (注：…, 填表人：…, 合计…) in ascending order."""
    width = len(columns)
    # A note's other cells are mostly empty; only those rows need the regular expression.
    candidates = pc.and_(non_blank, pc.less_equal(pc.subtract(filled, 1), (width - 1) // 2))
    if not pc.any(candidates).as_py():
        return []
    positions = pc.indices_nonzero(candidates)
    first_value = pc.coalesce(*[pc.take(column, positions) for column in columns])
    is_note = pc.fill_null(pc.match_substring_regex(first_value, _NOTE_PATTERN), False)
    return pc.filter(positions, is_note).to_pylist()


def _assemble(
    header: _Header,
    columns: list[Column],
    line_numbers: pa.Array,
    *,
    sheet: str | None,
    encoding: str | None,
    header_line: int,
) -> RawTable:
    """Align headers and data, drop blank rows, notes and trailers, and build the RawTable."""
    labels = list(header.labels)
    n_rows = len(line_numbers)
    width = max(len(labels), len(columns))
    labels += [""] * (width - len(labels))
    columns = columns + [pa.nulls(n_rows, pa.string())] * (width - len(columns))
    # Drop unnamed, empty columns at the right (Excel formatting, trailing delimiters).
    while width and not labels[width - 1] and columns[width - 1].null_count == n_rows:
        width -= 1
    labels, columns = labels[:width], columns[:width]

    if n_rows and width:
        filled = _as_array(pc.cast(pc.is_valid(columns[0]), pa.int32()))
        for column in columns[1:]:
            filled = pc.add(filled, _as_array(pc.cast(pc.is_valid(column), pa.int32())))
        non_blank = pc.greater(filled, 0)
        notes = _note_rows(columns, filled, non_blank)
        end = n_rows
        if notes:
            # Everything from the first note after the last substantial data row is a trailer.
            note_set = set(notes)
            substantial = pc.indices_nonzero(pc.greater(filled, max(1, width // 4))).to_pylist()
            last_data = next((i for i in reversed(substantial) if i not in note_set), -1)
            end = next((i for i in notes if i > last_data), n_rows)
            inner = [i for i in notes if i < end]
            columns = [column.slice(0, end) for column in columns]
            line_numbers = line_numbers.slice(0, end)
            non_blank = non_blank.slice(0, end)
            if inner:
                is_note = pc.is_in(_line_numbers(0, end), value_set=pa.array(inner, pa.int32()))
                non_blank = pc.and_(non_blank, pc.invert(is_note))
        kept = pc.sum(non_blank).as_py() or 0
        if kept < end:
            if pc.all(non_blank.slice(0, kept)).as_py():
                columns = [column.slice(0, kept) for column in columns]  # only a blank tail
                line_numbers = line_numbers.slice(0, kept)
            else:
                columns = [pc.filter(column, non_blank) for column in columns]
                line_numbers = pc.filter(line_numbers, non_blank)

    table = pa.table(
        {f"c{i}": column for i, column in enumerate(columns)},
        schema=pa.schema([pa.field(f"c{i}", pa.string()) for i in range(width)]),
    )
    return RawTable(
        headers=labels,
        table=table,
        line_numbers=pc.cast(_as_array(line_numbers), pa.int32()),
        header_line=header_line,
        sheet=sheet,
        encoding=encoding,
    )


def _head_rows(columns: Sequence[pa.Array], count: int) -> list[list[str | None]]:
    """Return the first *count* rows of cleaned columns as Python lists."""
    sliced = [column.slice(0, count).to_pylist() for column in columns]
    n = min((len(c) for c in sliced), default=0)
    return [[column[i] for column in sliced] for i in range(n)]


# --------------------------------------------------------------------------- Excel


def _excel_number_text(digits: str) -> str:
    """Format an integer Excel stored as a double the way Excel would: 15 significant digits."""
    mantissa, exponent = f"{float(int(digits)):.{_EXCEL_DIGITS - 1}E}".split("E")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}E+{int(exponent):02d}"


def _exact_doubles(values: pa.Array) -> pa.Array:
    """Return whether each integer string is exactly representable as a double."""
    exact = pc.cast(values, pa.decimal128(38, 0))
    via_double = pc.cast(pc.cast(values, pa.float64()), pa.decimal128(38, 0), safe=False)
    return pc.equal(exact, via_double)


def _load_sheet(reader: fastexcel.ExcelReader, name: str) -> list[pa.Array]:
    """Load a sheet's cells as cleaned string columns, row i being sheet row i + 1."""
    try:
        batch = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string", eager=True)
    except Exception as exc:  # fastexcel raises several unrelated types
        logger.warning("cannot read sheet %r of an import file: %r", name, exc)
        raise TabularError(
            gettext("The sheet %(sheet)s could not be read (reading failed).")
            % {"sheet": repr(name)}
        ) from exc
    columns = [batch.column(i) for i in range(batch.num_columns)]

    # Numeric cells with more than 15 digits (an ID typed into a number cell) lost digits in
    # Excel; show them as Excel does, 4.2010120100503E+17. Such a cell comes back as the
    # integer text of a double, so only texts that are exact doubles need a closer look.
    long_number = rf"^-?\d{{{_EXCEL_DIGITS + 1},38}}$"
    suspects: dict[int, pa.Array] = {}
    for i, column in enumerate(columns):
        is_long = pc.fill_null(pc.match_substring_regex(column, long_number), False)
        if not pc.any(is_long).as_py():
            continue
        exact = _exact_doubles(pc.filter(column, is_long))
        if pc.any(exact).as_py():
            suspects[i] = pc.replace_with_mask(is_long, is_long, exact)
    if suspects:
        # A boolean load is null for text cells and non-null for numeric (and boolean) cells.
        kinds = reader.load_sheet(
            name,
            header_row=None,
            skip_rows=0,
            dtypes="boolean",
            use_columns=list(suspects),
            eager=True,
        )
        for k, (i, suspect) in enumerate(suspects.items()):
            column = columns[i]
            numeric = pc.fill_null(pc.and_(pc.is_valid(kinds.column(k)), suspect), False)
            if pc.any(numeric).as_py():
                texts = [_excel_number_text(v) for v in pc.filter(column, numeric).to_pylist()]
                columns[i] = pc.replace_with_mask(column, numeric, pa.array(texts, column.type))

    cleaned = []
    for column in columns:
        # Date cells come back as "2010-05-03 00:00:00".
        midnight = pc.fill_null(
            pc.and_(pc.ends_with(column, " 00:00:00"), pc.equal(pc.binary_length(column), 19)),
            False,
        )
        if pc.any(midnight).as_py():
            column = pc.if_else(midnight, pc.utf8_slice_codeunits(column, 0, 10), column)
        cleaned.append(_clean_column(column))
    return cleaned


def _read_excel(path: Path, aliases: _Aliases, sheet: str | None) -> RawTable:
    """Read an Excel workbook (see :func:`read_table`)."""
    try:
        # Before any library unpacks it: a small .xlsx can unpack to gigabytes.
        check_workbook(path)
    except WorkbookRefused as exc:
        raise TabularError(str(exc)) from exc
    try:
        reader = fastexcel.read_excel(path)
        names = list(reader.sheet_names)
    except Exception as exc:  # a text file, a zip, a truncated workbook: calamine's words
        raise _unreadable(path, exc) from exc
    if sheet is not None and sheet not in names:
        raise TabularError(
            gettext("%(file)s has no sheet %(sheet)s; its sheets are: %(sheets)s.")
            % {"file": path.name, "sheet": repr(sheet), "sheets": ", ".join(names)}
        )
    candidates = [sheet] if sheet is not None else names
    any_cells = False
    for name in candidates:
        columns = _load_sheet(reader, name)
        head = _head_rows(columns, HEADER_SCAN_ROWS + 1)
        if any(any(row) for row in head):
            any_cells = True
        header = _find_header(head, aliases)
        if header is None:
            continue
        n_rows = min((len(c) for c in columns), default=0)
        data = [column.slice(header.first_data) for column in columns]
        n_data = max(n_rows - header.first_data, 0)
        line_numbers = _line_numbers(header.first_data + 1, n_data)
        return _assemble(
            header,
            data,
            line_numbers,
            sheet=name,
            encoding=None,
            header_line=header.row + 1,
        )
    if not any_cells:
        raise _empty(path)
    where = (
        gettext("sheet %(sheet)s") % {"sheet": repr(sheet)}
        if sheet is not None
        else gettext("any sheet of %(file)s") % {"file": path.name}
    )
    raise _no_header_error(aliases.originals, where)


# --------------------------------------------------------------------------- CSV


class _NotUtf8(Exception):
    """The file looked like UTF-8 at the start but is not."""


def _detect_encoding(path: Path) -> tuple[str, str | None]:
    """Return (Python codec, pyarrow encoding or None for native UTF-8) for a CSV file.

    Only the first megabyte is checked; if invalid UTF-8 turns up later the readers raise
    :class:`_NotUtf8` and the file is read again as GB18030.
    """
    with path.open("rb") as fh:
        start = fh.read(1 << 20)
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "utf-16"
    if start.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", None
    try:
        codecs.getincrementaldecoder("utf-8")().decode(start, final=False)
    except UnicodeDecodeError:
        return "gb18030", "gb18030"
    return "utf-8", None


def _head_lines(path: Path, codec: str) -> list[str]:
    """Return the first physical lines of a text file, line endings kept."""
    with path.open(encoding=codec, newline="") as fh:
        return list(itertools.islice(fh, _CSV_HEAD_LINES))


def _read_csv(path: Path, aliases: _Aliases, codec: str | None = None) -> RawTable:
    """Read a CSV file (see :func:`read_table`)."""
    try:
        if path.stat().st_size == 0:
            raise _empty(path)
        if codec is None:
            codec, arrow_encoding = _detect_encoding(path)
        else:
            arrow_encoding = codec
        lines = _head_lines(path, codec)
    except UnicodeDecodeError as exc:
        if codec is not None and codec.startswith("utf-8"):
            return _read_csv(path, aliases, "gb18030")
        logger.warning("import file %s is not UTF-8 or GB18030: %r", path.name, exc)
        raise TabularError(_not_text()) from exc
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    if not any(line.strip(_STRIP_CHARS) for line in lines):
        raise _empty(path)

    best: tuple[_Header, str, list[int], list[list[str | None]]] | None = None
    for delimiter in _CSV_DELIMITERS:
        records, ends = _parse_head(lines, delimiter)
        header = _find_header(records, aliases)
        if header is not None and (best is None or header.matches > best[0].matches):
            best = (header, delimiter, ends, records)
    if best is None:
        raise _no_header_error(aliases.originals, path.name)
    header, delimiter, ends, records = best
    skip_lines = ends[header.first_data - 1]
    width = max(len(record) for record in records[header.row :])

    try:
        columns = _read_csv_body_arrow(path, delimiter, arrow_encoding, skip_lines, width)
        if columns is None:
            columns = _read_csv_body_python(path, delimiter, codec, header.first_data)
    except _NotUtf8 as exc:
        if codec.startswith("utf-8"):
            return _read_csv(path, aliases, "gb18030")
        raise TabularError(_not_text()) from exc
    n_rows = len(columns[0]) if columns else 0
    return _assemble(
        header,
        columns,
        _line_numbers(header.first_data + 1, n_rows),
        sheet=None,
        encoding=codec,
        header_line=header.row + 1,
    )


def _parse_head(lines: list[str], delimiter: str) -> tuple[list[list[str | None]], list[int]]:
    """Parse CSV *lines*; return cleaned records and the physical lines consumed after each."""
    reader = csv.reader(iter(lines), delimiter=delimiter)
    records: list[list[str | None]] = []
    ends: list[int] = []
    try:
        for record in itertools.islice(reader, HEADER_SCAN_ROWS + 1):
            records.append([v.strip(_STRIP_CHARS) or None for v in record])
            ends.append(reader.line_num)
    except csv.Error:
        pass
    return records, ends


def _read_csv_body_arrow(
    path: Path, delimiter: str, encoding: str | None, skip_lines: int, width: int
) -> list[Column] | None:
    """Parse the data part with pyarrow; return None if the tolerant reader must be used.

    Rows with a different number of fields (typically trailing notes) are set aside by
    pyarrow with their row number, parsed with the csv module and put back in place.
    """
    ragged: list[tuple[int, str]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        if row.number is None:
            return "error"
        ragged.append((row.number - skip_lines - 1, row.text))
        return "skip"

    names = [f"f{i}" for i in range(width)]
    read_options = pacsv.ReadOptions(
        skip_rows=skip_lines,
        column_names=names,
        block_size=_CSV_BLOCK_SIZE,
        use_threads=False,  # row numbers of invalid rows are only known when single-threaded
        **({"encoding": encoding} if encoding else {}),
    )
    parse_options = pacsv.ParseOptions(
        delimiter=delimiter,
        newlines_in_values=True,
        ignore_empty_lines=False,
        invalid_row_handler=on_invalid,
    )
    convert_options = pacsv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()),
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    try:
        table = pacsv.read_csv(
            path,
            read_options=read_options,
            parse_options=parse_options,
            convert_options=convert_options,
        )
    except pa.ArrowInvalid as exc:
        message = str(exc)
        if "invalid UTF8" in message or "UTF-8" in message:
            raise _NotUtf8(message) from exc
        if "Empty CSV file" in message:
            return []
        if "CSV parse error" in message:
            return None
        raise _unreadable(path, exc) from exc
    except UnicodeDecodeError as exc:
        raise _NotUtf8(str(exc)) from exc
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    columns: list[Column] = [table.column(i) for i in range(table.num_columns)]
    if ragged:
        merged = _merge_ragged(columns, table.num_rows, ragged, delimiter)
        if merged is None:
            return None
        columns = merged
    return [_clean_column(column) for column in columns]


def _merge_ragged(
    columns: list[Column], n_valid: int, ragged: list[tuple[int, str]], delimiter: str
) -> list[Column] | None:
    """Insert rows pyarrow set aside at their positions; None if the positions do not add up."""
    total = n_valid + len(ragged)
    positions = [position for position, _ in ragged]
    if positions != sorted(set(positions)) or positions[0] < 0 or positions[-1] >= total:
        return None
    try:
        parsed = [
            next(csv.reader(io.StringIO(text), delimiter=delimiter), []) for _, text in ragged
        ]
    except csv.Error:
        return None
    width = max(len(columns), *(len(fields) for fields in parsed))
    columns = columns + [pa.nulls(n_valid, pa.string())] * (width - len(columns))
    merged = []
    for j, column in enumerate(columns):
        extra = pa.array([fields[j] if j < len(fields) else None for fields in parsed], pa.string())
        chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
        merged.append(pa.chunked_array([*chunks, extra], type=pa.string()))
    if positions == list(range(n_valid, total)):
        return merged  # all at the end: the usual trailing notes
    from_ragged = {position: n_valid + i for i, position in enumerate(positions)}
    order: list[int] = []
    next_valid = 0
    for k in range(total):
        source = from_ragged.get(k)
        if source is None:
            source = next_valid
            next_valid += 1
        order.append(source)
    indices = pa.array(order, pa.int64())
    return [pc.take(column, indices) for column in merged]


def _read_csv_body_python(path: Path, delimiter: str, codec: str, first_data: int) -> list[Column]:
    """Parse the data part with the csv module, padding short rows (slow but tolerant)."""
    try:
        with path.open(encoding=codec, newline="") as fh:
            records: Iterable[list[str]] = csv.reader(fh, delimiter=delimiter)
            rows = list(itertools.islice(records, first_data, None))
    except UnicodeDecodeError as exc:
        raise _NotUtf8(str(exc)) from exc
    except (OSError, csv.Error) as exc:
        raise _unreadable(path, exc) from exc
    width = max((len(r) for r in rows), default=0)
    columns = []
    for j in range(width):
        values = [r[j] if j < len(r) else None for r in rows]
        columns.append(_clean_column(pa.array(values, pa.string())))
    return columns
