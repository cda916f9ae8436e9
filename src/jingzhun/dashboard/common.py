"""What every command-centre page shares: the tabs, the back-office layout, the date asked."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.core.scoping import scope_of


def _tabs(user: Any) -> list[tuple[str, str, str]]:
    """Return the command centre's tabs (key, label, URL) the user may open."""
    county = scope_of(user).level == "county"
    tabs = [
        ("coverage", _("Coverages"), "centre:coverage", True),
        ("wall-chart", _("Wall chart"), "centre:wall-chart", True),
        ("task-books", _("Task books"), "centre:task-books", True),
        ("map", _("Map"), "centre:map", True),
        ("warning", _("Early warning"), "centre:warning", True),
        ("what-if", _("Policy what-if"), "centre:what-if", county),
        ("reports", _("Reports"), "centre:reports", True),
    ]
    out = []
    for key, label, name, shown in tabs:
        if not shown:
            continue
        try:
            out.append((key, label, reverse(name)))
        except NoReverseMatch:  # a part not (yet) routed is left out
            continue
    return out


def page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render a page inside the back office's layout (sidebar, language switcher, tabs)."""
    return render(
        request,
        template,
        {**admin.site.each_context(request), "jz_nav": _tabs(request.user), **context},
        status=status,
    )


def date_asked(request: HttpRequest, name: str = "on") -> dt.date:
    """Return the date the page was asked for (``?on=YYYY-MM-DD``), else today."""
    raw = request.GET.get(name, "")
    try:
        return dt.date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        return timezone.localdate()
