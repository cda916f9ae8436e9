"""Tests for jingzhun.core.normalize (no database)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from jingzhun.core.normalize import (
    check_id_number,
    id_area_unknown,
    id_birth_dates,
    id_sex,
    normalize_id_numbers,
    parse_booleans,
    parse_choice,
    parse_dates,
    parse_decimal,
    parse_int,
    parse_school_years,
)

VALID_F = "11010519491231002X"  # the GB 11643 example: female, born 1949-12-31
VALID_M = "420101201001010018"  # male (17th digit 1), born 2010-01-01


def ids_and_errors(values: Sequence[str | None]) -> list[tuple[str | None, str | None]]:
    """Run normalize_id_numbers and pair up its two outputs."""
    ids, errors = normalize_id_numbers(pa.array(values, pa.string()))
    assert len(ids) == len(errors) == len(values)
    return list(zip(ids.to_pylist(), errors.to_pylist(), strict=True))


# --------------------------------------------------------------------------- ID numbers


@pytest.mark.parametrize(
    "raw",
    [
        VALID_F,
        "11010519491231002x",  # lower-case x
        " 110105 1949 1231 002X ",  # spaces
        "110105\u300019491231002X",  # full-width space
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits and X
        "１１０１０５１９４９１２３１００２ｘ",  # full-width lower-case x
        "\t11010519491231002X\n",
    ],
)
def test_id_normalisation(raw: str) -> None:
    assert ids_and_errors([raw]) == [(VALID_F, None)]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("110105194912310021", "id_checksum"),  # wrong check digit
        ("4.20101E+17", "id_excel_number"),  # Excel's display of a numeric cell
        ("4.20101e17", "id_excel_number"),
        ("4.2010120100101E+17", "id_excel_number"),  # what tabular produces for numeric cells
        ("420101201001010000", "id_excel_number"),  # last three digits zeroed by Excel
        ("420101000000000000", "id_excel_number"),
        ("110105194902300027", "id_birth_date"),  # 1949-02-30
        ("110105190002290027", "id_birth_date"),  # 1900 is not a leap year
        ("110105189912310023", "id_birth_date"),  # before 1900
        ("110105299912310023", "id_birth_date"),  # in the future
        ("11010519491231002", "id_length"),
        ("1101051949123100211", "id_length"),
        ("110105194912310", "id_length"),  # old 15-digit IDs are not accepted
        ("11010519491231002A", "id_chars"),
        ("1101051949X231002X", "id_chars"),
        ("张三", "id_chars"),
        ("11010519491231002XX", "id_chars"),
        ("420101-20100101-0018", "id_chars"),
    ],
)
def test_id_errors(raw: str, code: str) -> None:
    assert ids_and_errors([raw]) == [(None, code)]


def test_id_zeroed_but_valid_is_accepted() -> None:
    # A real ID may end in 000 by chance only if the check digit is 0 and it passes.
    valid_000 = next(
        f"{prefix}0"
        for prefix in (f"42010120100101{n:03d}" for n in range(0, 1000, 100))
        if ric.calc_check_digit(f"{prefix}0") == "0" and prefix.endswith("00")
    )
    assert ids_and_errors([valid_000]) == [(valid_000, None)]


def test_id_nulls_and_empty() -> None:
    assert ids_and_errors([None, "", "  ", "\u3000"]) == [(None, None)] * 4


def test_id_mixed_batch_keeps_row_order() -> None:
    values = [VALID_F, None, "bad", VALID_M, "4.20101E+17"]
    assert ids_and_errors(values) == [
        (VALID_F, None),
        (None, None),
        (None, "id_chars"),
        (VALID_M, None),
        (None, "id_excel_number"),
    ]


def test_id_accepts_chunked_and_large_string() -> None:
    chunked = pa.chunked_array([[VALID_F], [" 420101201001010018 "]], type=pa.large_string())
    ids, errors = normalize_id_numbers(chunked)
    assert ids.to_pylist() == [VALID_F, VALID_M]
    assert errors.null_count == 2


def test_check_id_number() -> None:
    assert check_id_number(" 11010519491231002x ") == VALID_F
    with pytest.raises(ValueError, match="id_checksum"):
        check_id_number("110105194912310021")
    with pytest.raises(ValueError, match="id_excel_number"):
        check_id_number("4.20101E+17")
    with pytest.raises(ValueError, match="id_length"):
        check_id_number("")


def test_id_derived_fields() -> None:
    ids = pa.array([VALID_F, VALID_M, None, "bad"])
    assert id_sex(ids).to_pylist() == ["F", "M", None, None]
    assert id_birth_dates(ids).to_pylist() == [
        dt.date(1949, 12, 31),
        dt.date(2010, 1, 1),
        None,
        None,
    ]
    assert id_area_unknown(ids, {"110105"}).to_pylist() == [False, True, False, True]
    assert id_area_unknown(ids, set()).to_pylist() == [True, True, False, True]


def _birth_ok(digits17: str) -> bool:
    try:
        born = dt.date(int(digits17[6:10]), int(digits17[10:12]), int(digits17[12:14]))
    except ValueError:
        return False
    return dt.date(1900, 1, 1) <= born <= dt.date.today()  # noqa: DTZ011


_random_prefix = st.text(alphabet="0123456789", min_size=17, max_size=17)
_realistic_prefix = st.builds(
    lambda area, born, seq: f"{area:06d}{born:%Y%m%d}{seq:03d}",
    st.integers(100000, 999999),
    st.dates(dt.date(1900, 1, 1), dt.date(2020, 12, 31)),
    st.integers(0, 999),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.one_of(_random_prefix, _realistic_prefix), st.sampled_from("0123456789X")),
        min_size=1,
        max_size=40,
    )
)
def test_id_checksum_agrees_with_stdnum(cases: list[tuple[str, str]]) -> None:
    values = [prefix + check for prefix, check in cases]
    results = ids_and_errors(values)
    for (prefix, check), value, (normalised, error) in zip(cases, values, results, strict=True):
        checksum_ok = ric.calc_check_digit(value) == check
        birth_ok = _birth_ok(prefix)
        if checksum_ok and birth_ok:
            # stdnum also rejects unknown birth places; Jingzhun only warns (id_area_unknown).
            assert (normalised, error) == (value, None)
            continue
        assert normalised is None
        if value.endswith("000"):
            assert error == "id_excel_number"
        elif not birth_ok:
            assert error == "id_birth_date"
        else:
            assert error == "id_checksum"
            assert not ric.is_valid(value)


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2010-05-03", dt.date(2010, 5, 3)),
        ("2010/5/3", dt.date(2010, 5, 3)),
        ("2010.5.3", dt.date(2010, 5, 3)),
        ("2010年5月3日", dt.date(2010, 5, 3)),
        ("2010年05月03日", dt.date(2010, 5, 3)),
        ("２０１０年５月３日", dt.date(2010, 5, 3)),
        ("20100503", dt.date(2010, 5, 3)),
        ("2010-05-03 00:00:00", dt.date(2010, 5, 3)),
        ("2010-05-03 13:45", dt.date(2010, 5, 3)),
        ("2010-05-03T08:00:00", dt.date(2010, 5, 3)),
        (" 2010-5-3 ", dt.date(2010, 5, 3)),
        ("2000-02-29", dt.date(2000, 2, 29)),
        # Excel serials, 1900 date system.
        ("40301", dt.date(2010, 5, 3)),
        ("40301.5", dt.date(2010, 5, 3)),
        ("1", dt.date(1900, 1, 1)),
        ("59", dt.date(1900, 2, 28)),
        ("61", dt.date(1900, 3, 1)),
        ("36526", dt.date(2000, 1, 1)),
        ("80000", dt.date(2119, 1, 11)),
    ],
)
def test_parse_dates_accepts(raw: str, expected: dt.date) -> None:
    dates, errors = parse_dates(pa.array([raw]))
    assert dates.type == pa.date32()
    assert dates.to_pylist() == [expected]
    assert errors.to_pylist() == [None]


@pytest.mark.parametrize(
    "raw",
    [
        "2010-02-30",
        "2010-13-01",
        "2010-00-10",
        "2010-05-00",
        "1900-02-29",
        "20100230",
        "60",  # Excel's phantom 1900-02-29
        "0",
        "80001",
        "-5",
        "2010年5月",
        "May 3, 2010",
        "03/05/2010",
        "2010-5-3x",
        "1799-12-31",
    ],
)
def test_parse_dates_rejects(raw: str) -> None:
    dates, errors = parse_dates(pa.array([raw]))
    assert dates.to_pylist() == [None]
    assert errors.to_pylist() == ["date_format"]


def test_parse_dates_nulls_and_order() -> None:
    dates, errors = parse_dates(pa.array(["2010-05-03", None, "", "bad", "2010-05-03", "40301"]))
    d = dt.date(2010, 5, 3)
    assert dates.to_pylist() == [d, None, None, None, d, d]
    assert errors.to_pylist() == [None, None, None, "date_format", None, None]


# --------------------------------------------------------------------------- booleans


def test_parse_booleans() -> None:
    true_forms = ["是", "Y", "y", "yes", "YES", "1", "true", "TRUE", "√", "有", "Ｙ"]
    false_forms = ["否", "N", "no", "0", "false", "False", "×", "无", "", None, "  "]
    values, errors = parse_booleans(pa.array([*true_forms, *false_forms, "maybe", "2"]))
    assert values.to_pylist() == [True] * len(true_forms) + [False] * len(false_forms) + [None] * 2
    assert errors.to_pylist() == [None] * (len(true_forms) + len(false_forms)) + ["bool_format"] * 2


# --------------------------------------------------------------------------- school years


def test_parse_school_years() -> None:
    good = ["2018", "2018-2019", "2018-2019学年", "2018学年", "2018～2019", "2018~2019", "2018-19"]
    bad = ["2018-2020", "18", "2018年秋", "abcd", "1800"]
    values, errors = parse_school_years(pa.array([*good, None, *bad]))
    assert values.type in (pa.int16(), pa.int32())
    assert values.to_pylist() == [2018] * len(good) + [None] * (1 + len(bad))
    assert errors.to_pylist() == [None] * (len(good) + 1) + ["school_year_format"] * len(bad)


# --------------------------------------------------------------------------- choices, numbers


def test_parse_choice() -> None:
    mapping = {"男": "M", "女": "F", "male": "M", "Female": "F"}
    values, errors = parse_choice(
        pa.array(["男", " 女 ", "MALE", "female", "m", "F", "x", None, ""]), mapping
    )
    assert values.to_pylist() == ["M", "F", "M", "F", "M", "F", None, None, None]
    assert errors.to_pylist() == [None] * 6 + ["choice", None, None]


def test_parse_choice_ignores_inner_spaces() -> None:
    values, errors = parse_choice(
        pa.array(["初 中", "Junior High"]), {"初中": "junior", "junior high": "junior"}
    )
    assert values.to_pylist() == ["junior", "junior"]
    assert errors.null_count == 2


def test_parse_int() -> None:
    values, errors = parse_int(
        pa.array(["1", " 4 ", "+2", "3.0", "0", "5", "x", "1.5", None]), 1, 4
    )
    assert values.to_pylist() == [1, 4, 2, 3, None, None, None, None, None]
    assert errors.to_pylist() == [None] * 4 + [
        "int_range",
        "int_range",
        "int_format",
        "int_format",
        None,
    ]
    unbounded, errors = parse_int(pa.array(["-7", "12345678901"]))
    assert unbounded.to_pylist() == [-7, 12345678901]
    assert errors.null_count == 2


def test_parse_decimal() -> None:
    values, errors = parse_decimal(
        pa.array(["114.305", "-30.5", "1,234.5", ".5", "12", "0.1234565", "abc", "1.2.3", None])
    )
    assert values.to_pylist() == [
        Decimal("114.305"),
        Decimal("-30.5"),
        Decimal("1234.5"),
        Decimal("0.5"),
        Decimal("12"),
        Decimal("0.123456"),  # rounded half to even
        None,
        None,
        None,
    ]
    assert errors.to_pylist() == [None] * 6 + ["decimal_format", "decimal_format", None]
    too_big, errors = parse_decimal(pa.array(["1000", "999.5"]), max_digits=4, decimal_places=1)
    assert too_big.to_pylist() == [None, Decimal("999.5")]
    assert errors.to_pylist() == ["decimal_range", None]
