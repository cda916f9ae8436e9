"""Working days: weekends and public holidays off, make-up working days (调休) on.

The State Council publishes the holiday calendar each year; the table below holds the
years the demo uses. A county adds or overrides days with the settings
JINGZHUN_HOLIDAYS and JINGZHUN_MAKEUP_WORKDAYS (comma-separated ISO dates).
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from django.conf import settings


def _span(first: str, last: str) -> set[dt.date]:
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return {start + dt.timedelta(days=i) for i in range((end - start).days + 1)}


# 2018-2019 (国办发明电〔2017〕12号, 国办发明电〔2018〕15号).
PUBLIC_HOLIDAYS: set[dt.date] = (
    _span("2018-09-24", "2018-09-24")  # Mid-Autumn
    | _span("2018-10-01", "2018-10-07")  # National Day
    | _span("2018-12-30", "2019-01-01")  # New Year
    | _span("2019-02-04", "2019-02-10")  # Spring Festival
    | _span("2019-04-05", "2019-04-07")  # Qingming
    | _span("2019-05-01", "2019-05-04")  # Labour Day
    | _span("2019-06-07", "2019-06-09")  # Dragon Boat
    | _span("2019-09-13", "2019-09-15")  # Mid-Autumn
    | _span("2019-10-01", "2019-10-07")  # National Day
)
MAKEUP_WORKDAYS: set[dt.date] = {
    dt.date.fromisoformat(d)
    for d in (
        "2018-09-29",
        "2018-09-30",
        "2018-12-29",
        "2019-02-02",
        "2019-02-03",
        "2019-04-28",
        "2019-05-05",
        "2019-09-29",
        "2019-10-12",
    )
}


@cache
def _configured() -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    extra_off = {dt.date.fromisoformat(d) for d in getattr(settings, "HOLIDAYS", ())}
    extra_on = {dt.date.fromisoformat(d) for d in getattr(settings, "MAKEUP_WORKDAYS", ())}
    return frozenset(PUBLIC_HOLIDAYS | extra_off), frozenset(MAKEUP_WORKDAYS | extra_on)


def is_working_day(day: dt.date) -> bool:
    """Return whether government offices and schools work on this day."""
    off, on = _configured()
    if day in on:
        return True
    if day in off:
        return False
    return day.weekday() < 5


def add_working_days(start: dt.date, count: int) -> dt.date:
    """Return the day on which a period of `count` working days that starts on `start` ends.

    The start day counts when it is a working day; count must be at least 1.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    day = start
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    left = count - 1
    while left:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day
