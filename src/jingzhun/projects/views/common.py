"""School-condition pages: the task book, projects with their time nodes, each school against
the basic standard, and coverage I.2 (DOMAIN.md II.2, I.2).

Every page renders inside the back office's layout; every read goes through
:mod:`jingzhun.projects.selectors` (scoped to the acting user), every write through
:mod:`jingzhun.projects.services`. The pages are for users of a county, township or school: a
class teacher (whose jurisdiction is their pupils) and a user with no jurisdiction get the 403
page. A service's refusal (PermissionDenied) is the 403 page, a ValidationError a message on
the form with nothing changed, and a record outside the user's jurisdiction a 404, like a
missing one.

The basic standard is loaded by the operator with the command ``jingzhun load_basic_standard``
(idempotent: a second run changes nothing), once for a new county and by the demo set-up; a
post-migrate hook was not used, as it would write data on every migrate (and into every test
database). Pages only read: when no standard is loaded they say so and name the command.
The workbooks are official documents and always in Chinese.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from jingzhun.core import permissions as P
from jingzhun.core.errors import forbidden
from jingzhun.core.pages import back_office_page
from jingzhun.core.scoping import scope_of
from jingzhun.projects.selectors import STAFF_LEVELS

View = Callable[..., HttpResponseBase]


def _nav() -> list[tuple[str, str, str]]:
    return [
        ("task-book", _("Task book"), reverse("projects:task-book")),
        ("list", _("Projects"), reverse("projects:list")),
        ("schools", _("School conditions"), reverse("projects:schools")),
        ("coverage", _("Standard coverage"), reverse("projects:coverage")),
        ("quotas", _("High-school quotas"), reverse("projects:quotas")),
    ]


def page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render a page inside the back office's layout (sidebar, language switcher)."""
    return back_office_page(request, template, context, tabs=_nav(), status=status)


def may_see_projects(user: Any) -> bool:
    """Return whether the user may see the pages: VIEW, at a county, township or school."""
    return P.user_can(user, P.VIEW) and scope_of(user).level in STAFF_LEVELS


def may_record(user: Any) -> bool:
    """Return whether the user may record surveys and close nodes (the services decide too)."""
    return may_see_projects(user) and P.user_can(user, P.EDIT_SCHOOLS)


def may_create(user: Any) -> bool:
    """Return whether the user may set up projects: the county's editors of schools."""
    return may_record(user) and scope_of(user).level == "county"


def projects_view(*methods: str) -> Callable[[View], View]:
    """Require a login, the given HTTP methods and a user of a county, township or school."""

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not may_see_projects(request.user):
                return forbidden(request, P.VIEW)
            return view(request, *args, **kwargs)

        return login_required(require_http_methods(list(methods))(inner))

    return wrap


def percent(share: float | None) -> str:
    """Return a share as the pages show it ("12.5%"; "—" when there is nothing to divide)."""
    return "—" if share is None else f"{share * 100:.1f}%"


def form_errors(form: Any, exc: ValidationError) -> None:
    """Show a service's refusal on the form: by field where it names one of the form's."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)
