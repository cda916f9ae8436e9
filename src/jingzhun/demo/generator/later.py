"""Dropouts later than the demo's first identification run, for the early warning's back-test.

The demo's rolls are one school year's export; a first identification run some weeks back and
a second today see the same file. Between the two, some poor pupils leave school: this module
draws which, more often for a child who carries the early warning's signals (over-age for the
grade, left-behind, disabled, boarding, in a transition year), so that a back-test of the
first run's day has real later dropouts to find. Deterministic for a seed; no database.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# The chance that a pupil with no signal leaves school in the weeks between the runs, and how
# much each signal multiplies it (capped).
BASE = 0.003
PER_SIGNAL = 2.6
CAP = 0.4


@dataclass(frozen=True)
class LaterChild:
    """A poor pupil enrolled at the first run: a key and how many risk signals they carry."""

    key: int
    signals: int


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
