"""Value types of the shared kernel: money, periods, resident IDs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jingzhun.core.money import format_yuan, to_yuan
from jingzhun.core.periods import SchoolYear, Semester
from jingzhun.core.resident_id import ResidentId


def test_money_is_decimal_rounded_half_up_and_never_float() -> None:
    assert to_yuan("1250") == Decimal("1250.00")
    assert to_yuan(Decimal("0.125")) == Decimal("0.13")
    assert format_yuan(Decimal("1250")) == "1,250.00"
    with pytest.raises(TypeError):
        to_yuan(0.1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("day", "year", "kind"),
    [
        (dt.date(2018, 9, 1), 2018, "autumn"),
        (dt.date(2019, 2, 28), 2018, "autumn"),
        (dt.date(2019, 3, 1), 2018, "spring"),
        (dt.date(2019, 8, 31), 2018, "spring"),
    ],
)
def test_school_year_and_semester_of_a_day(day: dt.date, year: int, kind: str) -> None:
    semester = Semester.of(day)
    assert (semester.school_year.start, semester.kind) == (year, kind)
    assert semester.first_day <= day <= semester.last_day


def test_school_year_bounds() -> None:
    year = SchoolYear(2018)
    assert (year.first_day, year.last_day, str(year)) == (
        dt.date(2018, 9, 1),
        dt.date(2019, 8, 31),
        "2018-2019",
    )
    assert Semester(year, "autumn").last_day == dt.date(2019, 2, 28)


def test_resident_id_parse_normalises_and_derives() -> None:
    rid = ResidentId.parse(" １１０１０５ 19491231002x ")
    assert rid.value == "11010519491231002X"
    assert (rid.area_code, rid.birth_date, rid.sex) == ("110105", dt.date(1949, 12, 31), "F")
    assert str(rid) == "110105************"
    assert "19491231" not in repr(rid)


@pytest.mark.parametrize("bad", ["110105194912310021", "11010519491331002X", "4.20101E+17", "1234"])
def test_resident_id_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        ResidentId.parse(bad)


def test_semester_named_by_school_year_and_kind() -> None:
    autumn = Semester.named(2018, "autumn")
    spring = Semester.named(2018, "spring")
    assert (autumn.first_day, autumn.last_day) == (dt.date(2018, 9, 1), dt.date(2019, 2, 28))
    assert (spring.first_day, spring.last_day) == (dt.date(2019, 3, 1), dt.date(2019, 8, 31))
