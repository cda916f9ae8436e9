"""Values every page's template may use."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest

from jingzhun.core.scoping import scope_of
from jingzhun.core.working_year import WorkingPeriod
from jingzhun.core.working_year import working_period as _working_period


def working_period(request: HttpRequest) -> dict[str, Any]:
    """Offer ``working_period``: the semester the platform works in, for the header badge."""
    period: WorkingPeriod | None = getattr(request, "_working_period", None)
    if period is None:
        try:
            period = _working_period(scope_of(getattr(request, "user", None)).county_code)
        except DatabaseError:  # a page must render even when the store is not there
            return {}
        request._working_period = period  # type: ignore[attr-defined]
    return {"working_period": period}
