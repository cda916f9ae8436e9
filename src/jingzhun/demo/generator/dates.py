"""Dates and years of the demo generator, and resident ID number arithmetic.

The generator draws everything in the frame of school year 2018-2019 (``BASE_YEAR``): ages
on 31 August 2018, roll status dates from 10 September 2018, and so on. A county for another
school year is the same county moved by whole years: the date table maps every day of the
frame to the same day ``school_year - BASE_YEAR`` years on (29 February falls back to 28
February in a target year that is not a leap year), so a given seed draws the same people,
with the same random numbers, in every year, and school year 2018 is byte for byte what it
always was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

# The frame every date is drawn in; the output moves by (school year - BASE_YEAR) years.
BASE_YEAR = 2018

# --- resident ID numbers (GB 11643, ISO 7064 mod 11-2) -------------------------------

_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SEQ = tuple(f"{i:03d}" for i in range(1000))
_SEQ_SUM = tuple(int(s[0]) * _W[14] + int(s[1]) * _W[15] + int(s[2]) * _W[16] for s in _SEQ)


def _area_sum(area: str) -> int:
    return sum(int(c) * w for c, w in zip(area, _W[:6], strict=True))


_DATE_BASE = date(1925, 1, 1).toordinal()
_DATE_END = date(BASE_YEAR + 1, 12, 31).toordinal()  # the frame's last day


@dataclass(frozen=True)
class _DateTable:
    compact: tuple[str, ...]  # YYYYMMDD
    iso: tuple[str, ...]  # YYYY-MM-DD
    ymd: tuple[tuple[int, int, int], ...]
    wsum: tuple[int, ...]  # weighted digit sum of YYYYMMDD at ID positions 7-14


def shift_date(day: date, years: int) -> date:
    """Return the same day ``years`` years on; 29 February becomes 28 February if need be."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 2, 28)


@cache
def _dates(years: int = 0) -> _DateTable:
    """Return the date table of the frame, every day moved ``years`` years on."""
    compact: list[str] = []
    iso: list[str] = []
    ymd: list[tuple[int, int, int]] = []
    wsum: list[int] = []
    weights = _W[6:14]
    for ordinal in range(_DATE_BASE, _DATE_END + 1):
        d = shift_date(date.fromordinal(ordinal), years) if years else date.fromordinal(ordinal)
        c = f"{d.year:04d}{d.month:02d}{d.day:02d}"
        compact.append(c)
        iso.append(f"{d.year:04d}-{d.month:02d}-{d.day:02d}")
        ymd.append((d.year, d.month, d.day))
        wsum.append(sum(int(ch) * w for ch, w in zip(c, weights, strict=True)))
    return _DateTable(tuple(compact), tuple(iso), tuple(ymd), tuple(wsum))


def _day(y: int, m: int, d: int) -> int:
    """Return the index of a day of the frame in the date table."""
    return date(y, m, d).toordinal() - _DATE_BASE


def _age_range(age: int) -> tuple[int, int]:
    """Day indexes of the first and last birthday giving ``age`` on 31 August of the frame."""
    return _day(BASE_YEAR - 1 - age, 9, 1), _day(BASE_YEAR - age, 8, 31)


_AGE_RANGES = tuple(_age_range(a) for a in range(0, 94))
