"""The periods of the command centre's reports: a month, a quarter, a semester or a year.

Each report has one kind of period; a period is written in the query as ``2018-10`` (month),
``2018-Q4`` (quarter), ``2018-autumn`` / ``2018-spring`` (a semester of the school year that
starts in 2018) or ``2018`` (calendar year). The default is the last complete period of the
working school year (else the last complete one before today); a period that starts after
today is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jingzhun.core.periods import SchoolYear, Semester, SemesterKind
from jingzhun.duty import selectors as duty_selectors

MONTH, QUARTER, SEMESTER, YEAR = "month", "quarter", "semester", "year"

#: The report kinds (the URL's ``report_kind``) and the period each is asked for.
REPORT_PERIODS = {
    "dropout-monthly": MONTH,
    "dropout-quarterly": QUARTER,
    "aid-semester": SEMESTER,
    "annual": YEAR,
}


class PeriodError(ValueError):
    """A period that cannot be reported: malformed, out of range or in the future."""


@dataclass(frozen=True)
class Period:
    kind: str
    year: int  # calendar year; for a semester, the first year of its school year
    number: int  # month 1-12, quarter 1-4, semester 1 (autumn) or 2 (spring), year 0
    first: dt.date
    last: dt.date

    @property
    def param(self) -> str:
        if self.kind == MONTH:
            return f"{self.year}-{self.number:02d}"
        if self.kind == QUARTER:
            return f"{self.year}-Q{self.number}"
        if self.kind == SEMESTER:
            return f"{self.year}-{self.semester_kind}"
        return str(self.year)

    @property
    def semester_kind(self) -> str:
        return str(SemesterKind.AUTUMN if self.number == 1 else SemesterKind.SPRING)

    @property
    def label(self) -> str:
        if self.kind == MONTH:
            return _("%(year)d-%(month)02d") % {"year": self.year, "month": self.number}
        if self.kind == QUARTER:
            return _("%(year)d, quarter %(quarter)d") % {"year": self.year, "quarter": self.number}
        if self.kind == SEMESTER:
            return f"{SchoolYear(self.year)} {SemesterKind(self.semester_kind).label}"
        return str(self.year)

    @property
    def cn_label(self) -> str:
        if self.kind == MONTH:
            return f"{self.year}年{self.number}月"
        if self.kind == QUARTER:
            return f"{self.year}年第{self.number}季度"
        if self.kind == SEMESTER:
            season = "秋季学期" if self.number == 1 else "春季学期"
            return f"{self.year}-{self.year + 1}学年{season}"
        return f"{self.year}年度"

    def as_of(self, today: dt.date) -> dt.date | None:
        """Return today when the period is not over yet (it is counted as of today)."""
        return today if self.last > today else None

    def previous(self) -> Period:
        return make(self.kind, *_step_back(self.kind, self.year, self.number))


def _step_back(kind: str, year: int, number: int) -> tuple[int, int]:
    if kind == MONTH:
        return (year, number - 1) if number > 1 else (year - 1, 12)
    if kind == QUARTER:
        return (year, number - 1) if number > 1 else (year - 1, 4)
    if kind == SEMESTER:
        return (year, 1) if number == 2 else (year - 1, 2)
    return (year - 1, 0)


def make(kind: str, year: int, number: int) -> Period:
    """Return the period; PeriodError when it is out of range."""
    if not 2000 <= year <= 2100:
        raise PeriodError(_("The year %(value)s is out of range (2000 to 2100).") % {"value": year})
    if kind == MONTH:
        if not 1 <= number <= 12:
            raise PeriodError(_("There is no month %(value)s.") % {"value": number})
        first, last = duty_selectors.month_bounds(year, number)
    elif kind == QUARTER:
        if not 1 <= number <= 4:
            raise PeriodError(_("There is no quarter %(value)s.") % {"value": number})
        first, last = duty_selectors.quarter_bounds(year, number)
    elif kind == SEMESTER:
        semester = Semester.named(year, str(SemesterKind.AUTUMN if number == 1 else "spring"))
        first, last = semester.first_day, semester.last_day
    else:
        first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return Period(kind, year, number, first, last)


_FORMS = {
    MONTH: (re.compile(r"(\d{4})-(\d{1,2})"), gettext_lazy("Give the month as 2018-10.")),
    QUARTER: (re.compile(r"(\d{4})-[Qq]?(\d)"), gettext_lazy("Give the quarter as 2018-Q4.")),
    SEMESTER: (
        re.compile(r"(\d{4})-(autumn|spring)"),
        gettext_lazy(
            "Give the semester as 2018-autumn or 2018-spring (the school year's first year)."
        ),
    ),
    YEAR: (re.compile(r"(\d{4})"), gettext_lazy("Give the year as 2018.")),
}


def parse(kind: str, text: str, today: dt.date) -> Period:
    """Return the period written in ``text``; PeriodError naming the form or the reason."""
    pattern, hint = _FORMS[kind]
    match = pattern.fullmatch(text.strip())
    if match is None:
        raise PeriodError(str(hint))
    year = int(match.group(1))
    if kind == SEMESTER:
        number = 1 if match.group(2) == "autumn" else 2
    elif kind == YEAR:
        number = 0
    else:
        number = int(match.group(2))
    period = make(kind, year, number)
    if period.first > today:
        raise PeriodError(
            _("%(period)s has not begun yet: reports are made for past periods.")
            % {"period": period.label}
        )
    return period


def default(kind: str, today: dt.date, school_year: int) -> Period:
    """Return the last complete period that ends within the working school year, else the last
    complete one before today."""
    year_last = min(SchoolYear(school_year).last_day, today - dt.timedelta(days=1))
    if kind == YEAR:
        candidate = make(YEAR, min(year_last.year, today.year - 1), 0)
        return candidate
    if kind == MONTH:
        candidate = make(MONTH, year_last.year, year_last.month)
    elif kind == QUARTER:
        candidate = make(QUARTER, year_last.year, (year_last.month + 2) // 3)
    else:
        semester = Semester.of(year_last)
        candidate = make(
            SEMESTER, semester.school_year.start, 1 if semester.kind == "autumn" else 2
        )
    # Step back to a complete period (ending before today).
    while candidate.last >= today:
        candidate = candidate.previous()
    return candidate
