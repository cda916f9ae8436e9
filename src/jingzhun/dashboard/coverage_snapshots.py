"""Monthly snapshots of the coverages (for the trend charts), and what the trends page reads.

A month's snapshot is the as-of computation (jingzhun.dashboard.coverage) on the month's last
day, or today for the current month, for the county and each township, village and school.
Taking it again replaces it (upsert): the command can run every night or once a month.
A measure with no data yet that month (no run, no rule book...) stores no row, so that its
line has a gap rather than a 0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from jingzhun.accounts.readers import CountyReader
from jingzhun.core.audit import audit_record
from jingzhun.core.scoping import scope_of, scope_queryset
from jingzhun.dashboard.coverage import (
    LEVELS,
    MEASURES,
    coverage_at,
)
from jingzhun.dashboard.models import CoverageSnapshot


def first_of(month: dt.date) -> dt.date:
    return month.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def snapshot_day(month: dt.date, today: dt.date | None = None) -> dt.date:
    """Return the day a month's snapshot is taken on: its last day, or today in the month."""
    today = today or timezone.localdate()
    last = next_month(month) - dt.timedelta(days=1)
    return min(last, today)


def months_between(since: dt.date, until: dt.date) -> list[dt.date]:
    """Return the first days of the months from `since`'s to `until`'s, both included."""
    out, month = [], first_of(since)
    while month <= until:
        out.append(month)
        month = next_month(month)
    return out


@transaction.atomic
def snapshot_month(county_code: str, month: dt.date, *, today: dt.date | None = None) -> int:
    """Compute a month's coverages of a county for every unit and store them (upsert).

    Return the number of rows stored. A month that has not begun stores nothing.
    """
    today = today or timezone.localdate()
    month = first_of(month)
    if month > today:
        return 0
    on = snapshot_day(month, today)
    reader = CountyReader(county_code)
    now = timezone.now()
    rows: list[CoverageSnapshot] = []
    for level in LEVELS:
        for unit in coverage_at(user=reader, on=on, level=level):
            for measure in MEASURES:
                figure = unit.figures[measure]
                if figure.state != "ok":
                    continue
                rows.append(
                    CoverageSnapshot(
                        county_code=county_code,
                        month=month,
                        measure=measure,
                        level=level,
                        unit_code=unit.code,
                        unit_name=unit.name[:100],
                        township_code="" if level == "county" else unit.township_code,
                        school_id=unit.school_id,
                        covered=figure.covered,
                        total=figure.total,
                        computed_at=now,
                    )
                )
    kept = {(r.measure, r.level, r.unit_code) for r in rows}
    stale = [
        pk
        for pk, measure, level, code in CoverageSnapshot.objects.filter(
            county_code=county_code, month=month
        ).values_list("pk", "measure", "level", "unit_code")
        if (measure, level, code) not in kept
    ]
    CoverageSnapshot.objects.filter(pk__in=stale).delete()
    CoverageSnapshot.objects.bulk_create(
        rows,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["county_code", "month", "measure", "level", "unit_code"],
        update_fields=["unit_name", "township_code", "school", "covered", "total", "computed_at"],
    )
    audit_record(
        actor=None,
        action="dashboard.snapshot",
        object_type="dashboard.coveragesnapshot",
        data={
            "county": county_code,
            "month": f"{month:%Y-%m}",
            "on": on.isoformat(),
            "rows": len(rows),
        },
    )
    return len(rows)


# --------------------------------------------------------------------------- trends


@dataclass
class Series:
    """One line of a chart: a unit's share (per cent) each month, None where no figure."""

    code: str
    name: str
    points: list[Decimal | None]
    counts: list[tuple[int, int] | None]


@dataclass
class Trend:
    measure: str
    months: list[dt.date]
    series: list[Series] = field(default_factory=list)


def _share(covered: int, total: int) -> Decimal | None:
    if not total:
        return None
    return (Decimal(covered) * 100 / Decimal(total)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def trend_level(user: Any) -> str:
    """Return the level whose lines a user's chart draws: townships for the county, their
    township for a township officer, their school for a principal."""
    return "school" if scope_of(user).level == "school" else "township"


def trends(*, user: Any, since: dt.date, until: dt.date) -> list[Trend]:
    """Return each measure's monthly lines for the units the user may see (one query)."""
    months = months_between(since, until)
    level = trend_level(user)
    levels = ["county", level] if scope_of(user).level == "county" else [level]
    rows = (
        scope_queryset(CoverageSnapshot.objects.all(), user)
        .filter(level__in=levels, month__gte=months[0] if months else since, month__lte=until)
        .order_by("measure", "unit_code", "month")
        .values_list("measure", "unit_code", "unit_name", "month", "covered", "total")
    )
    index = {m: i for i, m in enumerate(months)}
    by_measure: dict[str, dict[str, Series]] = {m: {} for m in MEASURES}
    for measure, code, name, month, covered, total in rows:
        if measure not in by_measure or month not in index:
            continue
        series = by_measure[measure].setdefault(
            code, Series(code, name, [None] * len(months), [None] * len(months))
        )
        series.name = name or series.name
        series.points[index[month]] = _share(covered, total)
        series.counts[index[month]] = (covered, total)
    return [
        Trend(
            measure,
            months,
            sorted(by_measure[measure].values(), key=lambda s: (len(s.code), s.code)),
        )
        for measure in MEASURES
    ]
