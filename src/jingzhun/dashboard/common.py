"""What every command-centre page shares: the tabs and the back-office layout."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from jingzhun.core.pages import back_office_page, tabs_shown
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
    return tabs_shown(tabs)


def page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render a page inside the back office's layout with the command centre's tabs."""
    return back_office_page(request, template, context, tabs=_tabs(request.user), status=status)
