"""What every app's own pages share: the back office's layout with the app's tabs, and the
date a page was asked for."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone


def tabs_shown(entries: list[tuple[str, str, str, bool]]) -> list[tuple[str, str, str]]:
    """Return the tabs (key, label, URL) of ``(key, label, URL name, shown)`` entries that are
    shown and routed (a part a deployment leaves out has no tab)."""
    out = []
    for key, label, name, shown in entries:
        if not shown:
            continue
        try:
            out.append((key, label, reverse(name)))
        except NoReverseMatch:
            continue
    return out


def back_office_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    tabs: list[tuple[str, str, str]],
    status: int = 200,
) -> HttpResponse:
    """Render a page inside the back office's layout (sidebar, language switcher) with its
    app's tabs (``jz_nav``: key, label, URL)."""
    return render(
        request,
        template,
        {**admin.site.each_context(request), "jz_nav": tabs, **context},
        status=status,
    )


def date_asked(data: QueryDict, name: str = "on") -> dt.date:
    """Return the date asked for (``?on=2018-10-01``), else today; a bad date (or one outside
    2000-2100) is ignored."""
    text = str(data.get(name, ""))[:10]
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return timezone.localdate()
    return day if 2000 <= day.year <= 2100 else timezone.localdate()
