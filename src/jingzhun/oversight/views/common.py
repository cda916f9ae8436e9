"""What every supervision page shares: the tabs, the back-office layout, downloads, and
showing a service's refusal on a form."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from jingzhun.core.pages import back_office_page, tabs_shown
from jingzhun.core.scoping import scope_of


def _nav(user: Any = None) -> list[tuple[str, str, str]]:
    """Return the supervision tabs (key, label, URL) the user may open: inspection plans and
    the year-end audit are the county's; findings and the assessment go down to the school."""
    county = scope_of(user).level == "county" if user is not None else True
    tabs = [
        ("plans", _("Inspections"), "oversight:plans", county),
        ("findings", _("Findings and rectifications"), "oversight:findings", True),
        ("assessment", _("Annual assessment"), "oversight:assessment", True),
        ("audit", _("Year-end audit"), "oversight:audit", county),
    ]
    return tabs_shown(tabs)


def page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render a page inside the back office's layout (sidebar, language switcher, tabs)."""
    return back_office_page(request, template, context, tabs=_nav(request.user), status=status)


def form_errors(form: Any, exc: ValidationError) -> None:
    """Show a service's refusal on the form: by field where it names one of the form's."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)
