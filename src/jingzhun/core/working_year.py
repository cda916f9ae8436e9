"""The county's working school year: the year assumed when a file or a request does not say.

A county sets it with ``jingzhun county-setup --school-year``; until then it is the school year
of today's date (a school year starts on 1 September).
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.core.models import CountyProfile
from jingzhun.core.periods import SchoolYear


def working_year(county_code: str = "", *, today: dt.date | None = None) -> int:
    """Return the first calendar year of the county's working school year (2018 for 2018-2019).

    With a county code, that county's profile is used; without one, the only profile there is
    (an installation for one county). With no such profile: the school year of ``today``
    (default: today's local date).
    """
    profiles = CountyProfile.objects.all()
    if county_code:
        profiles = profiles.filter(county_code=county_code[:6])
    years = list(profiles.values_list("working_year", flat=True)[:2])
    if len(years) == 1:
        return int(years[0])
    return SchoolYear.of(today or timezone.localdate()).start


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
