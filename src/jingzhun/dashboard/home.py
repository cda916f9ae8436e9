"""The home page's callback (UNFOLD["DASHBOARD_CALLBACK"]): the schools app's counts, then
the coverages of the user's unit today (jingzhun.dashboard.coverage) and what needs the user
(jingzhun.dashboard.needs)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from jingzhun.dashboard.coverage import home_coverage
from jingzhun.dashboard.needs import needs_me
from jingzhun.schools.admin import dashboard_callback as schools_callback


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    """Add the home counts, the coverage cards and "what needs me" to the admin index."""
    context = schools_callback(request, context)
    context.update(home_coverage(request.user))
    context["needs"] = needs_me(request.user, timezone.localdate())
    return context
