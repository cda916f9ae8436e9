"""Teacher pages: the roster, staffing gaps, training, exchanges, titles and commendation,
and teacher coverage (II.3, I.3).

Every page renders inside the back office's layout; every read goes through
:mod:`jingzhun.teachers.selectors` (scoped to the acting user), every write through
:mod:`jingzhun.teachers.services`. The roster and its figures are for users of a county,
township or school: a class teacher (whose jurisdiction is their pupils) and a user with no
jurisdiction get the 403 page. A service's refusal (PermissionDenied) is the 403 page, a
ValidationError a message on the form with nothing changed, and a record outside the user's
jurisdiction a 404, like a missing one.

The workbooks and the PDF are official documents and always in Chinese (see
:mod:`jingzhun.teachers.documents`). No page, URL or document shows a whole ID number.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from jingzhun.core import permissions as P
from jingzhun.core.errors import forbidden
from jingzhun.core.pages import back_office_page
from jingzhun.core.scoping import scope_of
from jingzhun.teachers.selectors import STAFF_LEVELS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"

View = Callable[..., HttpResponseBase]


def _nav(user: Any) -> list[tuple[str, str, str]]:
    return [
        ("roster", _("Roster"), reverse("teachers:roster")),
        ("staffing", _("Staffing gaps"), reverse("teachers:staffing")),
        ("training", _("Training"), reverse("teachers:training")),
        ("exchanges", _("Exchanges"), reverse("teachers:exchanges")),
        ("titles", _("Titles and commendation"), reverse("teachers:titles")),
        ("coverage", _("Teacher coverage"), reverse("teachers:coverage")),
        ("allowance", _("Living allowance"), reverse("teachers:allowance")),
    ]


def page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render a page inside the back office's layout (sidebar, language switcher)."""
    return back_office_page(request, template, context, tabs=_nav(request.user), status=status)


def may_see_teachers(user: Any) -> bool:
    """Return whether the user may see the roster: VIEW, at a county, township or school."""
    return P.user_can(user, P.VIEW) and scope_of(user).level in STAFF_LEVELS


def may_record(user: Any) -> bool:
    """Return whether the user may record trainings and exchanges (the services decide too)."""
    return may_see_teachers(user) and P.user_can(user, P.EDIT_SCHOOLS)


def teachers_view(*methods: str) -> Callable[[View], View]:
    """Require a login, the given HTTP methods and a roster-seeing user (else the 403 page)."""

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not may_see_teachers(request.user):
                return forbidden(request, P.VIEW)
            return view(request, *args, **kwargs)

        return login_required(require_http_methods(list(methods))(inner))

    return wrap


def calendar_year_of(data: QueryDict, default: int) -> int:
    """Return the calendar year asked for (``?year=2018``), else `default`."""
    text = str(data.get("year", ""))
    return int(text) if text.isdigit() and 2000 <= int(text) <= 2100 else default


def percent(share: float | None) -> str:
    """Return a share as the pages show it ("12.5%"; "—" when there is nothing to divide)."""
    return "—" if share is None else f"{share * 100:.1f}%"
