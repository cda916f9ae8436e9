"""The county's working period: the school year and semester the platform works in.

By default both follow today's date (a school year starts on 1 September; see
:class:`jingzhun.core.periods.Semester` for the semester boundary). While last year still
closes, the county may hold the working year (and semester) back with
``jingzhun county-setup --school-year/--semester`` or in the back office; every page, report
and default that does not name a period follows :func:`working_year` and
:func:`working_semester`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.core.audit import audit_record
from jingzhun.core.models import CountyProfile
from jingzhun.core.periods import Semester, SemesterKind
from jingzhun.core.scoping import scope_of


def _profile(county_code: str) -> CountyProfile | None:
    """Return the county's profile (without a code: the only one there is), else None."""
    profiles = CountyProfile.objects.all()
    if county_code:
        profiles = profiles.filter(county_code=county_code[:6])
    found = list(profiles[:2])
    return found[0] if len(found) == 1 else None


@dataclass(frozen=True)
class WorkingPeriod:
    """The semester the platform works in, and whether the county set it by hand."""

    semester: Semester
    overridden: bool = False
    behind: bool = False  # the county holds a past school year (last year still closing)

    @property
    def school_year(self) -> int:
        return self.semester.school_year.start

    @property
    def label(self) -> str:
        """Return e.g. "2026-2027 Autumn semester" in the user's language."""
        return f"{self.semester.school_year} {SemesterKind(self.semester.kind).label}"

    @property
    def note(self) -> str:
        """Return why the period is not today's ("" when it follows today)."""
        if not self.overridden:
            return ""
        if self.behind:
            return _("(set by the county: last year still closing)")
        return _("(set by the county)")


def working_period(
    county_code: str = "", *, today: dt.date | None = None, profile: Any = None
) -> WorkingPeriod:
    """Return the county's working period: its override if it set one, else today's semester."""
    today = today or timezone.localdate()
    current = Semester.of(today)
    if profile is None:
        profile = _profile(county_code)
    year = getattr(profile, "working_year", None)
    kind = getattr(profile, "working_semester", "") or ""
    if not year and not kind:
        return WorkingPeriod(current)
    start = int(year) if year else current.school_year.start
    if not kind:
        # A held-back year works in its last semester; a year ahead in its first.
        if start == current.school_year.start:
            kind = current.kind
        else:
            kind = SemesterKind.SPRING if start < current.school_year.start else SemesterKind.AUTUMN
    semester = Semester.named(start, str(kind))
    return WorkingPeriod(semester, overridden=semester != current, behind=semester < current)


def working_year(county_code: str = "", *, today: dt.date | None = None) -> int:
    """Return the first calendar year of the county's working school year (2018 for 2018-2019).

    With a county code, that county's profile is used; without one, the only profile there is
    (an installation for one county). With no such profile, or one that follows today: the
    school year of ``today`` (default: today's local date).
    """
    return working_period(county_code, today=today).school_year


def school_year_asked(data: Any, user: Any) -> int:
    """Return the school year a page is asked for (``?year=2018``), else the working year of
    the user's county."""
    text = str(data.get("year", ""))
    if text.isdigit() and 2000 <= int(text) <= 2100:
        return int(text)
    return working_year(scope_of(user).county_code)


def working_semester(county_code: str = "", *, today: dt.date | None = None) -> Semester:
    """Return the county's working semester (today's, unless the county set one)."""
    return working_period(county_code, today=today).semester


@transaction.atomic
def county_working_period_set(
    *,
    actor: Any,
    profile: CountyProfile,
    school_year: int | None,
    semester: str = "",
    request: Any = None,
) -> bool:
    """Set (or, with None and "", clear) a county's working period; return whether it changed."""
    if semester and semester not in SemesterKind.values:
        raise ValidationError(_("Not a semester: %(value)s.") % {"value": semester})
    if school_year is not None and not 2000 <= school_year <= 2100:
        raise ValidationError(
            _("The school year %(value)s is out of range (2000 to 2100).") % {"value": school_year}
        )
    changes: dict[str, list[Any]] = {}
    if profile.working_year != school_year:
        changes["working_year"] = [profile.working_year, school_year]
        profile.working_year = school_year
    if (profile.working_semester or "") != semester:
        changes["working_semester"] = [profile.working_semester, semester]
        profile.working_semester = semester
    if not changes:
        return False
    profile.full_clean()
    profile.save(update_fields=["working_year", "working_semester", "updated_at"])
    audit_record(
        actor=actor,
        action="county.working_period",
        target=profile,
        data={"changes": changes},
        request=request,
    )
    return True


def parse_school_year(text: str) -> int:
    """Return the first year of a school year written 2018 or 2018-2019 (ValueError if not)."""
    value = str(text).strip()
    match = re.fullmatch(r"(\d{4})(?:-(\d{4}))?", value)
    if match is None or (match.group(2) and int(match.group(2)) != int(match.group(1)) + 1):
        raise ValueError(
            _("Not a school year: %(value)s; write it like 2018 or 2018-2019.") % {"value": value}
        )
    year = int(match.group(1))
    if not 2000 <= year <= 2100:
        raise ValueError(
            _("The school year %(value)s is out of range (2000 to 2100).") % {"value": value}
        )
    return year
