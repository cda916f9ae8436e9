"""School years (starting 1 September) and semesters (autumn, spring)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class SemesterKind(models.TextChoices):
    AUTUMN = "autumn", _("Autumn semester")
    SPRING = "spring", _("Spring semester")


@dataclass(frozen=True, order=True)
class SchoolYear:
    """The school year that starts on 1 September of `start`."""

    start: int

    @classmethod
    def of(cls, day: dt.date) -> SchoolYear:
        """Return the school year a date falls in."""
        return cls(day.year if day.month >= 9 else day.year - 1)

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.start, 9, 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.start + 1, 8, 31)

    def __str__(self) -> str:
        return f"{self.start}-{self.start + 1}"


@dataclass(frozen=True, order=True)
class Semester:
    """Autumn runs 1 Sep - last day of Feb; spring runs 1 Mar - 31 Aug of the next year."""

    school_year: SchoolYear
    kind: str

    @classmethod
    def named(cls, school_year: int, kind: str) -> Semester:
        """Return the autumn or spring semester of the school year starting in `school_year`."""
        return cls(SchoolYear(school_year), kind)

    @classmethod
    def of(cls, day: dt.date) -> Semester:
        """Return the semester a date falls in."""
        year = SchoolYear.of(day)
        kind = SemesterKind.AUTUMN if day.month >= 9 or day.month <= 2 else SemesterKind.SPRING
        return cls(year, str(kind))

    @property
    def first_day(self) -> dt.date:
        if self.kind == SemesterKind.AUTUMN:
            return self.school_year.first_day
        return dt.date(self.school_year.start + 1, 3, 1)

    @property
    def last_day(self) -> dt.date:
        if self.kind == SemesterKind.AUTUMN:
            return dt.date(self.school_year.start + 1, 3, 1) - dt.timedelta(days=1)
        return self.school_year.last_day

    def __str__(self) -> str:
        return f"{self.school_year} {self.kind}"
