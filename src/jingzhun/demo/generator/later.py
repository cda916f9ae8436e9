"""Dropouts later than the demo's first identification run, for the early warning's back-test.

The demo's rolls are one school year's export; a first identification run some weeks back and
a second today see the same file. Between the two, some poor pupils leave school: this module
draws which, more often for a child who carries the early warning's signals that the demo's
files hold (over-age for the grade, disabled, in a transition year, left-behind), so that a
back-test of the first run's day has real later dropouts to find.

Before they leave, children are absent first: class teachers report long absences of most of
the pupils who will drop out, and of a few who will not (those come back to school). This
module draws those reports too; the demo records them through the duty services, as the
teacher's phone page does. Deterministic for a seed; no database.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# The chance that a pupil with no signal leaves school in the weeks between the runs, and how
# much each signal multiplies it (capped).
BASE = 0.004
PER_SIGNAL = 5.0
CAP = 0.5
# The share of the pupils who will drop out whose absence a class teacher reports in the four
# weeks before the first run, and the share of the others reported absent during the semester.
ABSENT_BEFORE_LEAVING = 0.5
ABSENT_AND_BACK = 0.03


@dataclass(frozen=True)
class LaterChild:
    """A poor pupil enrolled at the first run: a key and how many risk signals they carry."""

    key: int
    signals: int


@dataclass(frozen=True)
class Absence:
    """A class teacher's report: the pupil (key), the day, how many days absent; a pupil who
    comes back returns on ``back_on`` (None for one who later drops out)."""

    key: int
    on: date
    days: int
    back_on: date | None


def later_dropouts(
    children: Sequence[LaterChild], *, seed: int, first: date, last: date
) -> list[tuple[int, date]]:
    """Return (key, day) of the pupils who leave school after ``first``, on or before ``last``."""
    days = (last - first).days
    if days < 2:
        return []
    rng = random.Random(f"{seed}-later-dropouts")  # nosec B311 - synthetic demo data
    out: list[tuple[int, date]] = []
    for child in sorted(children, key=lambda c: c.key):
        chance = min(CAP, BASE * PER_SIGNAL**child.signals)
        if rng.random() < chance:
            out.append((child.key, first + timedelta(days=1 + rng.randrange(days - 1))))
    return out


def absences(
    children: Sequence[LaterChild], leaving: set[int], *, seed: int, start: date, first: date
) -> list[Absence]:
    """Return the absence reports made before ``first`` (from ``start``, the semester's first
    day): most pupils in ``leaving`` once or twice in the four weeks before, a few others once
    in the semester (back at school some days later, still before ``first``)."""
    if (first - start).days < 21:
        return []
    rng = random.Random(f"{seed}-absences")  # nosec B311 - synthetic demo data
    out: list[Absence] = []
    for child in sorted(children, key=lambda c: c.key):
        if child.key in leaving:
            if rng.random() >= ABSENT_BEFORE_LEAVING:
                continue
            on = first - timedelta(days=8 + rng.randrange(21))
            out.append(Absence(child.key, max(on, start), 11 + rng.randrange(10), None))
            if rng.random() < 0.4:
                out.append(Absence(child.key, max(on, start) + timedelta(days=7), 14, None))
        elif rng.random() < ABSENT_AND_BACK:
            on = start + timedelta(days=11 + rng.randrange((first - start).days - 20))
            back = on + timedelta(days=1 + rng.randrange(3))
            out.append(Absence(child.key, on, 11 + rng.randrange(5), back))
    return out
