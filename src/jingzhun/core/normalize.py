"""Vectorised normalisation of imported cell values.

Every parser takes a column of strings (``pa.Array`` or ``pa.ChunkedArray``, as read by
:mod:`jingzhun.core.tabular`) and returns two arrays of the same length: the parsed values and an
error code per row (``null`` when the row is fine). Empty and null cells give a null value and no
error (except :func:`parse_booleans`, where empty means "no"); whether a field is required is the
caller's business.

Resident ID numbers are checked with pure ``pyarrow.compute`` kernels, so a million rows take a
fraction of a second. Low-cardinality columns (dates, booleans, choices, school years) are
dictionary-encoded first and only the distinct values are parsed.

Error codes:

``id_excel_number``
    The ID was stored as a number by Excel: it shows in scientific notation (``4.20101E+17``), or
    it has 18 digits ending in ``000`` that fail the check (Excel keeps only 15 significant
    digits and zeroes the rest).
``id_length``
    Not 18 characters.
``id_chars``
    Characters other than digits and a final ``X``.
``id_birth_date``
    Digits 7-14 are not a real date, are before 1900 or in the future.
``id_checksum``
    The ISO 7064 MOD 11-2 check character is wrong.
``date_format``, ``bool_format``, ``school_year_format``, ``choice``, ``int_format``,
``int_range``, ``decimal_format``, ``decimal_range``
    The value could not be parsed (or is out of range) for that kind of field.
"""

from __future__ import annotations

import calendar
import functools
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import NamedTuple, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "ID_ERROR_CODES",
    "check_id_number",
    "id_area_unknown",
    "id_birth_dates",
    "id_sex",
    "clean_ids",
    "normalize_id_numbers",
    "parse_booleans",
    "parse_choice",
    "parse_dates",
    "parse_decimal",
    "parse_int",
    "parse_school_years",
]

ArrayLike: TypeAlias = pa.Array | pa.ChunkedArray

ID_ERROR_CODES = ("id_excel_number", "id_length", "id_chars", "id_birth_date", "id_checksum")

#: Characters stripped from both ends of every value (ASCII and full-width spaces, NBSP, BOM...).
_STRIP_CHARS = " \t\r\n\v\f\u3000\u00a0\ufeff\u200b"
#: RE2 class matching every whitespace character removed from inside ID numbers.
_WS_CLASS = r"[\s\x{3000}\x{00a0}\x{feff}\x{200b}]"

#: ISO 7064 MOD 11-2 weights of the first 17 digits of a resident ID.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

#: Dates outside these years are rejected (``date_format``).
CALENDAR_FIRST_YEAR = 1800
CALENDAR_LAST_YEAR = 2199

#: Days from 1970-01-01 back to 1899-12-30 (Excel serial 0 in the "correct" convention).
_EXCEL_EPOCH_OFFSET = 25569
_EXCEL_SERIAL_MAX = 80000

# 住校/走读 is how the national roll export says boarding or not (就读方式).
_TRUE_WORDS = frozenset(
    {"是", "y", "yes", "1", "true", "t", "√", "✓", "✔", "有", "对", "住校", "寄宿", "住读"}
)
_FALSE_WORDS = frozenset(
    {"否", "n", "no", "0", "false", "f", "×", "✗", "✘", "无", "不是", "走读", "非寄宿", "非住校"}
)

_DATE_RE = (
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:(?:\s+|T)\d{1,2}:\d{1,2}(?::\d{1,2}(?:\.\d+)?)?)?$"
)
_DATE_COMPACT_RE = r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$"
_SERIAL_RE = r"^\d{1,5}(?:\.\d+)?$"
_SCHOOL_YEAR_RE = (
    r"^(?P<a>\d{4})\s*(?:(?:-|~|—|–|―|至|到|/)\s*(?P<b>\d{4}|\d{2}))?\s*(?:年)?\s*(?:学年度?)?$"
)


# --------------------------------------------------------------------------- helpers


def _to_string_array(values: ArrayLike | Iterable[str | None]) -> pa.Array:
    """Return *values* as a single ``pa.string()`` (or ``large_string``) array."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], type=values.type)
    if not isinstance(values, pa.Array):
        values = pa.array(list(values), type=pa.string())
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = pc.cast(values, pa.string())
    return values


def _null_like(values: pa.Array) -> pa.Scalar:
    """Return a null scalar of the type of *values*."""
    return pa.scalar(None, type=values.type)


def _nfkc_non_ascii(values: pa.Array) -> pa.Array:
    """Apply Unicode NFKC (full-width digits and letters to ASCII) to non-ASCII values only."""
    non_ascii = pc.fill_null(pc.invert(pc.string_is_ascii(values)), False)
    if not pc.any(non_ascii).as_py():
        return values
    subset = pc.filter(values, non_ascii).to_pylist()
    fixed = pa.array([unicodedata.normalize("NFKC", v) for v in subset], type=values.type)
    return pc.replace_with_mask(values, non_ascii, fixed)


def _prepare(values: ArrayLike | Iterable[str | None]) -> pa.Array:
    """Return string values with full-width forms folded, ends stripped, empty as null."""
    arr = _nfkc_non_ascii(_to_string_array(values))
    arr = pc.utf8_trim(arr, characters=_STRIP_CHARS)
    return pc.if_else(pc.equal(arr, ""), _null_like(arr), arr)


def _by_dictionary(
    values: ArrayLike | Iterable[str | None],
    parse: Callable[[pa.Array], tuple[pa.Array, pa.Array]],
) -> tuple[pa.Array, pa.Array]:
    """Parse only the distinct values of *values* with *parse* and spread the results back."""
    arr = _to_string_array(values)
    encoded = pc.dictionary_encode(arr)
    parsed, errors = parse(encoded.dictionary)
    return pc.take(parsed, encoded.indices), pc.take(errors, encoded.indices)


def _errors_where(mask: pa.Array, code: str) -> pa.Array:
    """Return *code* where *mask* is true and null elsewhere."""
    return pc.if_else(pc.fill_null(mask, False), pa.scalar(code), pa.scalar(None, pa.string()))


def _int(values: pa.Array) -> pa.Array:
    """Cast digit strings to int64."""
    return pc.cast(values, pa.int64())


def _mod(a: pa.Array, b: int) -> pa.Array:
    """Return *a* modulo *b* (int64)."""
    return pc.modulo(a, pa.scalar(b, pa.int64()))


def _eq(a: pa.Array, b: int) -> pa.Array:
    """Compare *a* with the integer *b*."""
    return pc.equal(a, pa.scalar(b, pa.int64()))


def _between(a: pa.Array, lo: int, hi: int) -> pa.Array:
    """Return whether lo <= a <= hi (nulls give false)."""
    ok = pc.and_(
        pc.greater_equal(a, pa.scalar(lo, pa.int64())), pc.less_equal(a, pa.scalar(hi, pa.int64()))
    )
    return pc.fill_null(ok, False)


@functools.cache
def _calendar() -> tuple[pa.Array, pa.Array]:
    """Return (first day of month as days since 1970, days in month), indexed by month number.

    The month number of (y, m) is ``(y - CALENDAR_FIRST_YEAR) * 12 + m - 1``.
    """
    first: list[int] = []
    lengths: list[int] = []
    epoch = date(1970, 1, 1)
    for year in range(CALENDAR_FIRST_YEAR, CALENDAR_LAST_YEAR + 1):
        for month in range(1, 13):
            first.append((date(year, month, 1) - epoch).days)
            lengths.append(calendar.monthrange(year, month)[1])
    return pa.array(first, pa.int64()), pa.array(lengths, pa.int64())


def _ymd_to_date32(y: pa.Array, m: pa.Array, d: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Return (date32 or null, is_real_date) for year, month and day columns (int64)."""
    first, lengths = _calendar()
    ym_ok = pc.and_(_between(y, CALENDAR_FIRST_YEAR, CALENDAR_LAST_YEAR), _between(m, 1, 12))
    month_no = pc.add(pc.multiply(pc.subtract(y, CALENDAR_FIRST_YEAR), 12), pc.subtract(m, 1))
    month_no = pc.if_else(ym_ok, month_no, pa.scalar(0, pa.int64()))
    valid = pc.and_(ym_ok, pc.fill_null(pc.greater_equal(d, 1), False))
    valid = pc.and_(valid, pc.fill_null(pc.less_equal(d, pc.take(lengths, month_no)), False))
    days = pc.add(pc.take(first, month_no), pc.subtract(d, 1))
    days = pc.if_else(valid, days, pa.scalar(None, pa.int64()))
    return pc.cast(pc.cast(days, pa.int32()), pa.date32()), valid


def _today_in_china() -> date:
    """Return today's date in China Standard Time (UTC+8, no daylight saving)."""
    return datetime.now(timezone(timedelta(hours=8))).date()


# --------------------------------------------------------------------------- ID numbers


def clean_ids(values: ArrayLike | Iterable[str | None]) -> pa.Array:
    """Remove whitespace, fold full-width characters and upper-case ``x``."""
    arr = _nfkc_non_ascii(_to_string_array(values))
    needs_work = pc.fill_null(pc.invert(pc.ascii_is_alnum(arr)), False)
    if pc.any(needs_work).as_py():
        subset = pc.replace_substring_regex(pc.filter(arr, needs_work), _WS_CLASS, "")
        arr = pc.replace_with_mask(arr, needs_work, subset)
    arr = pc.ascii_upper(arr)
    return pc.if_else(pc.equal(arr, ""), _null_like(arr), arr)


@functools.cache
def _checksum_tables() -> tuple[tuple[int, int, pa.Array], ...]:
    """Return (divisor, modulus, weighted-sum table) for each chunk of the first 17 ID digits.

    The ID's first 17 digits, read as an integer ``n``, are cut into chunks of up to three
    digits; ``n // divisor % modulus`` is a chunk's value and ``table[value]`` its contribution
    to the MOD 11-2 weighted sum.
    """
    chunks = []
    for start in range(0, 17, 3):
        stop = min(start + 3, 17)
        width = stop - start
        weights = _ID_WEIGHTS[start:stop]
        table = [
            sum(int(ch) * w for ch, w in zip(f"{v:0{width}d}", weights, strict=True))
            for v in range(10**width)
        ]
        chunks.append((10 ** (17 - stop), 10**width, pa.array(table, pa.int64())))
    return tuple(chunks)


def _subset_regex(values: pa.Array, mask: pa.Array, pattern: str) -> pa.Array:
    """Match *pattern* only on the rows selected by *mask* (false elsewhere)."""
    base = pc.and_(mask, pa.scalar(False))
    if not pc.any(mask).as_py():
        return base
    matched = pc.fill_null(pc.match_substring_regex(pc.filter(values, mask), pattern), False)
    return pc.replace_with_mask(base, mask, matched)


class _IdParts(NamedTuple):
    """Per-row facts about cleaned ID numbers (boolean arrays have no nulls)."""

    scientific: pa.Array  # looks like 4.20101E+17
    bad_chars: pa.Array  # something other than digits and a final X
    well_formed: pa.Array  # 17 digits followed by a digit or X
    birth: pa.Array  # date32, null unless birth_ok
    birth_ok: pa.Array  # real date, 1900-01-01 <= birth <= today
    checksum_ok: pa.Array
    sex_digit: pa.Array  # int64, the 17th digit (meaningful where well_formed)


def _id_parts(ids: pa.Array) -> _IdParts:
    """Classify cleaned IDs with vectorised kernels only."""
    present = pc.is_valid(ids)
    digits_only = pc.fill_null(pc.ascii_is_decimal(ids), False)
    # Only the rare rows with something other than digits need regular expressions.
    other = pc.and_(present, pc.invert(digits_only))
    scientific = _subset_regex(ids, other, r"^[+-]?\d+(?:\.\d*)?E[+-]?\d+$")
    bad_chars = pc.and_(other, pc.invert(_subset_regex(ids, other, r"^\d*X$")))
    length_ok = pc.fill_null(pc.equal(pc.binary_length(ids), 18), False)
    well_formed = pc.and_(length_ok, pc.invert(bad_chars))

    ends_x = pc.and_(well_formed, pc.invert(digits_only))
    safe = pc.if_else(well_formed, ids, pa.scalar("000000197001010000", ids.type))
    if pc.any(ends_x).as_py():
        fixed = pc.utf8_replace_slice(pc.filter(safe, ends_x), 17, 18, "0")
        safe = pc.replace_with_mask(safe, ends_x, fixed)
    full = pc.cast(safe, pa.int64())
    n = pc.divide(full, pa.scalar(10, pa.int64()))
    check = pc.if_else(ends_x, pa.scalar(10, pa.int64()), _mod(full, 10))

    # ISO 7064 MOD 11-2: sum(w_i * d_i) + check == 1 (mod 11).
    total = check
    for divisor, modulus, table in _checksum_tables():
        chunk = _mod(pc.divide(n, pa.scalar(divisor, pa.int64())), modulus)
        total = pc.add(total, pc.take(table, chunk))
    checksum_ok = pc.and_(well_formed, _eq(_mod(total, 11), 1))

    ymd = _mod(pc.divide(n, pa.scalar(1000, pa.int64())), 100_000_000)
    md = _mod(ymd, 10000)
    y = pc.divide(ymd, pa.scalar(10000, pa.int64()))
    m = pc.divide(md, pa.scalar(100, pa.int64()))
    d = _mod(md, 100)
    birth, real = _ymd_to_date32(y, m, d)
    in_range = pc.and_(
        pc.greater_equal(birth, pa.scalar(date(1900, 1, 1), pa.date32())),
        pc.less_equal(birth, pa.scalar(_today_in_china(), pa.date32())),
    )
    birth_ok = pc.fill_null(pc.and_(pc.and_(well_formed, real), in_range), False)
    birth = pc.if_else(birth_ok, birth, pa.scalar(None, pa.date32()))
    return _IdParts(scientific, bad_chars, well_formed, birth, birth_ok, checksum_ok, _mod(n, 10))


def normalize_id_numbers(
    values: ArrayLike, *, excel_zeros: bool = True
) -> tuple[pa.Array, pa.Array]:
    """Normalise and validate 18-character resident ID numbers.

    Spaces (also full-width) are removed, full-width digits and ``Ｘ`` become ASCII and a
    lower-case ``x`` becomes ``X``. Return ``(ids, errors)``: the normalised ID (null when
    invalid or empty) and the error code (null when valid or empty) of each row; see the module
    docstring for the codes.
    """
    ids = clean_ids(values)
    present = pc.is_valid(ids)
    parts = _id_parts(ids)
    bad_length = pc.not_equal(pc.binary_length(ids), 18)
    # An ID ending in 000 that fails its checks is one Excel rounded to 15 digits; in a CSV
    # file (excel_zeros=False), where no spreadsheet touched the text, it is just invalid.
    zeroed = pc.and_(
        pc.and_(parts.well_formed, pc.ends_with(ids, "000")),
        pc.or_(pc.invert(parts.birth_ok), pc.invert(parts.checksum_ok)),
    )
    if not excel_zeros:
        zeroed = pc.and_(zeroed, pa.scalar(False))
    conditions = [
        ("id_excel_number", parts.scientific),
        ("id_chars", parts.bad_chars),
        ("id_length", bad_length),
        ("id_excel_number", zeroed),
        ("id_birth_date", pc.invert(parts.birth_ok)),
        ("id_checksum", pc.invert(parts.checksum_ok)),
    ]
    struct = pc.make_struct(
        *[pc.fill_null(pc.and_(present, cond), False) for _, cond in conditions],
        field_names=[f"c{i}" for i in range(len(conditions))],
    )
    errors = pc.case_when(
        struct, *[pa.scalar(code) for code, _ in conditions], pa.scalar(None, pa.string())
    )
    ok = pc.and_(present, pc.is_null(errors))
    normalised = pc.if_else(ok, ids, _null_like(ids))
    return pc.cast(normalised, pa.string()), errors


def check_id_number(value: str) -> str:
    """Return the normalised resident ID *value* or raise ``ValueError(code)``.

    Uses the same rules as :func:`normalize_id_numbers`; an empty value raises
    ``ValueError("id_length")``.
    """
    ids, errors = normalize_id_numbers(pa.array([value], type=pa.string()))
    error = errors[0].as_py()
    if error is not None:
        raise ValueError(error)
    normalised = ids[0].as_py()
    if normalised is None:
        raise ValueError("id_length")
    return str(normalised)


def id_area_unknown(ids: ArrayLike, known_area_codes: set[str]) -> pa.Array:
    """Return true where the ID's 6-digit area code is not in *known_area_codes*.

    This is a warning (area codes change over time), not an error. Null IDs give false.
    """
    arr = clean_ids(ids)
    area = pc.utf8_slice_codeunits(arr, 0, 6)
    known = pc.is_in(area, value_set=pa.array(sorted(known_area_codes), type=area.type))
    return pc.fill_null(pc.and_(pc.is_valid(arr), pc.invert(known)), False)


def id_birth_dates(ids: ArrayLike) -> pa.Array:
    """Return the birth date (date32) encoded in each normalised ID, null when invalid."""
    return _id_parts(clean_ids(ids)).birth


def id_sex(ids: ArrayLike) -> pa.Array:
    """Return ``"M"`` where the 17th digit is odd, ``"F"`` where even, null when malformed."""
    parts = _id_parts(clean_ids(ids))
    sex = pc.if_else(_eq(_mod(parts.sex_digit, 2), 1), pa.scalar("M"), pa.scalar("F"))
    return pc.if_else(parts.well_formed, sex, pa.scalar(None, pa.string()))


# --------------------------------------------------------------------------- dates


def _parse_date_values(raw: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Parse distinct date strings (see :func:`parse_dates`)."""
    values = _prepare(raw)
    parts = pc.extract_regex(values, _DATE_RE)
    compact = pc.extract_regex(values, _DATE_COMPACT_RE)

    def field(name: str) -> pa.Array:
        return _int(pc.coalesce(pc.struct_field(parts, name), pc.struct_field(compact, name)))

    dates, _valid = _ymd_to_date32(field("y"), field("m"), field("d"))

    is_serial = pc.fill_null(pc.match_substring_regex(values, _SERIAL_RE), False)
    safe = pc.if_else(is_serial, values, pa.scalar("0", values.type))
    serial = _int(pc.utf8_slice_codeunits(pc.replace_substring_regex(safe, r"\..*$", ""), 0, 5))
    serial_ok = pc.and_(
        is_serial,
        pc.and_(
            pc.and_(pc.greater_equal(serial, 1), pc.less_equal(serial, _EXCEL_SERIAL_MAX)),
            pc.not_equal(serial, 60),  # 1900-02-29: Excel's leap-year bug, no such day
        ),
    )
    # Serials before the phantom 1900-02-29 count from 1899-12-31, later ones from 1899-12-30.
    offset = pc.if_else(
        pc.less(serial, 60),
        pa.scalar(_EXCEL_EPOCH_OFFSET - 1, pa.int64()),
        pa.scalar(_EXCEL_EPOCH_OFFSET, pa.int64()),
    )
    serial_dates = pc.cast(pc.cast(pc.subtract(serial, offset), pa.int32()), pa.date32())
    dates = pc.if_else(serial_ok, serial_dates, dates)

    errors = _errors_where(pc.and_(pc.is_valid(values), pc.is_null(dates)), "date_format")
    return dates, errors


def parse_dates(values: ArrayLike) -> tuple[pa.Array, pa.Array]:
    """Parse dates; return ``(date32 or null, "date_format" or null)``.

    Accepted: ``2010-05-03``, ``2010/5/3``, ``2010.5.3``, ``2010年5月3日``, ``20100503``, any of
    these followed by a time (``2010-05-03 00:00:00``) and Excel serial numbers 1-80000 in the
    1900 date system (``40301`` is 2010-05-03; serial 60, Excel's phantom 1900-02-29, is an
    error). Impossible dates such as 2010-02-30 are errors.
    """
    return _by_dictionary(values, _parse_date_values)


# --------------------------------------------------------------------------- booleans, choices


def _fold_label(value: str) -> str:
    """Return *value* NFKC-folded, without any whitespace and case-folded."""
    return "".join(unicodedata.normalize("NFKC", value).split()).casefold()


def parse_booleans(values: ArrayLike) -> tuple[pa.Array, pa.Array]:
    """Parse yes/no cells; return ``(bool, "bool_format" or null)``.

    Accepted (case-insensitive): 是/否, Y/N, yes/no, 1/0, true/false, T/F, √/×, 有/无. Empty or
    null means false. Anything else gives a null value and ``bool_format``.
    """

    def parse(distinct: pa.Array) -> tuple[pa.Array, pa.Array]:
        parsed: list[bool | None] = []
        errors: list[str | None] = []
        for raw in distinct.to_pylist():
            word = _fold_label(raw) if raw is not None else ""
            if word == "" or word in _FALSE_WORDS:
                parsed.append(False)
                errors.append(None)
            elif word in _TRUE_WORDS:
                parsed.append(True)
                errors.append(None)
            else:
                parsed.append(None)
                errors.append("bool_format")
        return pa.array(parsed, pa.bool_()), pa.array(errors, pa.string())

    result, errors = _by_dictionary(values, parse)
    arr = _to_string_array(values)
    result = pc.if_else(pc.is_null(arr), pa.scalar(False), result)
    return result, errors


def parse_choice(values: ArrayLike, mapping: Mapping[str, str]) -> tuple[pa.Array, pa.Array]:
    """Map labels to codes; return ``(code or null, "choice" or null)``.

    Matching ignores case, whitespace and full-width forms. The codes themselves are accepted as
    labels too (so an English file may say ``M`` where the mapping is ``{"男": "M"}``), unless a
    label with the same spelling maps elsewhere.
    """
    lookup: dict[str, str] = {}
    for code in mapping.values():
        lookup[_fold_label(code)] = code
    for label, code in mapping.items():
        lookup[_fold_label(label)] = code

    def parse(distinct: pa.Array) -> tuple[pa.Array, pa.Array]:
        parsed: list[str | None] = []
        errors: list[str | None] = []
        for raw in distinct.to_pylist():
            word = _fold_label(raw) if raw is not None else ""
            if word == "":
                parsed.append(None)
                errors.append(None)
            elif word in lookup:
                parsed.append(lookup[word])
                errors.append(None)
            else:
                parsed.append(None)
                errors.append("choice")
        return pa.array(parsed, pa.string()), pa.array(errors, pa.string())

    return _by_dictionary(values, parse)


# --------------------------------------------------------------------------- school years


def _parse_school_year_values(raw: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Parse distinct school-year strings (see :func:`parse_school_years`)."""
    values = _prepare(raw)
    parts = pc.extract_regex(values, _SCHOOL_YEAR_RE)
    start = _int(pc.struct_field(parts, "a"))
    end_text = pc.struct_field(parts, "b")
    end_text = pc.if_else(pc.equal(end_text, ""), pa.scalar(None, end_text.type), end_text)
    end = _int(end_text)
    two_digit = pc.equal(pc.binary_length(end_text), 2)
    next_year = pc.add(start, 1)
    end_ok = pc.if_else(two_digit, pc.equal(end, _mod(next_year, 100)), pc.equal(end, next_year))
    ok = pc.and_(
        pc.and_(pc.greater_equal(start, 1900), pc.less_equal(start, 2100)),
        pc.fill_null(pc.or_kleene(pc.is_null(end), end_ok), False),
    )
    ok = pc.fill_null(ok, False)
    years = pc.if_else(ok, pc.cast(start, pa.int32()), pa.scalar(None, pa.int32()))
    errors = _errors_where(pc.and_(pc.is_valid(values), pc.invert(ok)), "school_year_format")
    return years, errors


def parse_school_years(values: ArrayLike) -> tuple[pa.Array, pa.Array]:
    """Parse school years to their starting year; return ``(int32, "school_year_format")``.

    Accepted: ``2018``, ``2018-2019``, ``2018-19``, ``2018～2019``, ``2018至2019``, each optionally
    followed by ``学年`` or ``学年度``. The second year must follow the first.
    """
    return _by_dictionary(values, _parse_school_year_values)


# --------------------------------------------------------------------------- numbers


def parse_int(
    values: ArrayLike, lo: int | None = None, hi: int | None = None
) -> tuple[pa.Array, pa.Array]:
    """Parse integers; return ``(int64, "int_format" / "int_range" or null)``.

    Accepts an optional sign and a ``.0`` tail (Excel floats). *lo* and *hi* are inclusive bounds.
    """
    arr = _prepare(values)
    good = pc.fill_null(pc.match_substring_regex(arr, r"^[+-]?\d{1,18}(?:\.0*)?$"), False)
    safe = pc.if_else(good, arr, pa.scalar("0", arr.type))
    safe = pc.replace_substring_regex(pc.replace_substring(safe, "+", ""), r"\.0*$", "")
    ints = _int(safe)
    in_range: pa.Array | pa.Scalar = pa.scalar(True)
    if lo is not None:
        in_range = pc.and_(in_range, pc.greater_equal(ints, pa.scalar(lo, pa.int64())))
    if hi is not None:
        in_range = pc.and_(in_range, pc.less_equal(ints, pa.scalar(hi, pa.int64())))
    in_range = pc.if_else(good, in_range, pa.scalar(False))
    present = pc.is_valid(arr)
    errors = pc.case_when(
        pc.make_struct(
            pc.and_(present, pc.invert(good)),
            pc.and_(present, pc.invert(in_range)),
            field_names=["format", "range"],
        ),
        pa.scalar("int_format"),
        pa.scalar("int_range"),
        pa.scalar(None, pa.string()),
    )
    result = pc.if_else(pc.and_(good, in_range), ints, pa.scalar(None, pa.int64()))
    return result, errors


def parse_decimal(
    values: ArrayLike, *, max_digits: int = 18, decimal_places: int = 6
) -> tuple[pa.Array, pa.Array]:
    """Parse decimals to ``decimal128(max_digits, decimal_places)``.

    Accepts an optional sign and thousands separators (``1,234.5``); values are rounded half-to-even to *decimal_places*. Return ``(decimal or null, error)``
    where the error is ``decimal_format`` (not a number) or ``decimal_range`` (too many integer
    digits for *max_digits*).
    """
    if not 0 <= decimal_places <= max_digits <= 38:
        raise ValueError("need 0 <= decimal_places <= max_digits <= 38")
    arr = _prepare(values)
    grouped = pc.fill_null(
        pc.match_substring_regex(arr, r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$"), False
    )
    arr = pc.if_else(grouped, pc.replace_substring(arr, ",", ""), arr)
    good = pc.fill_null(
        pc.match_substring_regex(arr, r"^[+-]?(?:\d{1,20}(?:\.\d*)?|\.\d+)$"),
        False,
    )
    safe = pc.if_else(good, arr, pa.scalar("0", arr.type))
    wide_type = pa.decimal128(38, 18)
    wide = pc.cast(safe, options=pc.CastOptions(target_type=wide_type, allow_decimal_truncate=True))
    wide = pc.round(wide, ndigits=decimal_places, round_mode="half_to_even")
    limit = pa.scalar(Decimal(10) ** (max_digits - decimal_places), wide_type)
    fits = pc.less(pc.abs(wide), limit)
    ok = pc.and_(good, fits)
    safe_wide = pc.if_else(ok, wide, pa.scalar(Decimal(0), wide_type))
    target = pa.decimal128(max_digits, decimal_places)
    result = pc.cast(
        safe_wide, options=pc.CastOptions(target_type=target, allow_decimal_truncate=True)
    )
    result = pc.if_else(ok, result, pa.scalar(None, target))
    present = pc.is_valid(arr)
    errors = pc.case_when(
        pc.make_struct(
            pc.and_(present, pc.invert(good)),
            pc.and_(present, pc.invert(fits)),
            field_names=["format", "range"],
        ),
        pa.scalar("decimal_format"),
        pa.scalar("decimal_range"),
        pa.scalar(None, pa.string()),
    )
    return result, errors
