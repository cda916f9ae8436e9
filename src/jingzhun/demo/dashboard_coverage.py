"""The demo county's coverage history: a snapshot of each month of the school year so far.

Each month is computed from the demo's records as they stood at its end (the as-of
computation of jingzhun.dashboard.coverage), never made up. Taking them again replaces them.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from jingzhun.core.periods import SchoolYear
from jingzhun.dashboard.coverage_snapshots import months_between, snapshot_month


def coverage_demo(*, county_code: str, today: dt.date | None = None) -> dict[str, int]:
    """Take the snapshots of every month from the start of the school year to today; return
    the figures stored per month (YYYY-MM)."""
    today = today or timezone.localdate()
    start = SchoolYear.of(today).first_day
    return {
        f"{month:%Y-%m}": snapshot_month(county_code, month, today=today)
        for month in months_between(start, today)
    }
