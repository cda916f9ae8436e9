"""Student aid pages: rule book, entitlements, review and notice, payment, coverage.

Every page renders inside the back office's layout; every read goes through
:mod:`jingzhun.aid.selectors` or :mod:`jingzhun.aid.selectors_ui` (scoped to the acting
user), every write through :mod:`jingzhun.aid.services`, :mod:`jingzhun.funds.services` or
the ``compute`` task that calls them. A service's refusal (PermissionDenied) is a 403 page,
a ValidationError a message on the page with nothing changed, and a record outside the
user's jurisdiction a 404, like a missing one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from jingzhun.aid import services, wording
from jingzhun.core import permissions as P
from jingzhun.core.errors import forbidden
from jingzhun.core.periods import SemesterKind
from jingzhun.core.working_year import working_semester

PAGE_SIZE = 50
# The largest bank return file accepted (bytes); a county's batch is a few thousand rows.
MAX_RETURN_FILE = 20 * 1024 * 1024

View = Callable[..., HttpResponseBase]


# --------------------------------------------------------------------------- helpers


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def _nav(user: Any) -> list[tuple[str, str, str]]:
    nav = [
        ("overview", _("Overview"), reverse("aid:overview")),
        ("rulebook", _("Rule book"), reverse("aid:rulebook")),
        ("entitlements", _("Entitlements"), reverse("aid:entitlements")),
        ("review", _("Review"), reverse("aid:review")),
        ("notices", _("Notices"), reverse("aid:notices")),
        ("adjustments", _("Adjustments"), reverse("aid:adjustments")),
        ("coverage", _("Aid coverage"), reverse("aid:coverage")),
        ("loans", _("Loans"), reverse("aid:loans")),
    ]
    if user.scope.level == "county":
        nav += [
            ("batches", _("Payment batches"), reverse("aid:batches")),
            ("allocations", _("Allocations"), reverse("aid:allocations")),
        ]
    return nav


def _book_banner(user: Any, school_year: int | None) -> dict[str, Any]:
    """Return the "rule book to confirm" banner of a page about *school_year* (else nothing)."""
    county = getattr(getattr(user, "scope", None), "county_code", "")
    if school_year is None or not county:
        return {}
    if services.rulebook_is_confirmed(county, school_year) is not False:
        return {}
    return {
        "jz_book_to_confirm": {
            "year": f"{school_year}–{school_year + 1}",
            "url": f"{reverse('aid:rulebook')}?{urlencode({'year': school_year})}",
        }
    }


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render a page inside the back office's layout (sidebar, language switcher).

    A page about a school year whose rule book is still "to confirm" carries a banner that
    says so, with a link to the rule book page (where the confirm button is).
    """
    period = context.get("period")
    year = context.get("book_year", period.school_year if isinstance(period, Period) else None)
    return render(
        request,
        template,
        {
            **admin.site.each_context(request),
            "jz_nav": _nav(request.user),
            **_book_banner(request.user, year),
            **context,
        },
        status=status,
    )


def _forbidden(request: HttpRequest, capability: str) -> HttpResponse:
    """Log a refused request and answer with the site's 403 page."""
    return forbidden(request, capability)


def aid_view(*methods: str) -> Callable[[View], View]:
    """Require a login, the given HTTP methods and the VIEW capability (else the 403 page)."""

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.can(P.VIEW):  # type: ignore[union-attr]
                return _forbidden(request, P.VIEW)
            return view(request, *args, **kwargs)

        return login_required(require_http_methods(list(methods))(inner))

    return wrap


def _paginate(request: HttpRequest, items: Any, param: str = "page") -> Page[Any]:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get(param))


def _errors(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@dataclass(frozen=True)
class Period:
    """The school year and semester a page shows (query parameters ``year`` and ``semester``)."""

    school_year: int
    semester: str

    @property
    def label(self) -> str:
        return wording.period_label(self.school_year, self.semester)

    @property
    def year_label(self) -> str:
        return f"{self.school_year}–{self.school_year + 1}"

    @property
    def query(self) -> str:
        return urlencode({"year": str(self.school_year), "semester": self.semester})


def working_period(user: Any = None) -> Period:
    """Return the county's working school year and semester: what a page shows by default
    (``core.working_year.working_semester``: today's, unless the county set another)."""
    county = getattr(getattr(user, "scope", None), "county_code", "") or ""
    semester = working_semester(county)
    return Period(semester.school_year.start, str(semester.kind))


def _period(data: QueryDict, user: Any = None) -> Period:
    """Return the period asked for, else the county's working school year and semester."""
    year = data.get("year", "")
    semester = data.get("semester", "")
    asked_year = int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else None
    asked_semester = semester if semester in SemesterKind.values else None
    if asked_year is not None and asked_semester is not None:
        return Period(asked_year, asked_semester)
    default = working_period(user)
    return Period(asked_year or default.school_year, asked_semester or default.semester)


def _period_context(period: Period) -> dict[str, Any]:
    return {
        "period": period,
        "semesters": SemesterKind.choices,
    }


def _back(name: str, period: Period | None = None, **kwargs: Any) -> HttpResponse:
    url = reverse(name, kwargs=kwargs or None)
    return redirect(f"{url}?{period.query}" if period is not None else url)


def _choices(pairs: Any) -> list[tuple[str, str]]:
    """Return (value, label) pairs with their labels as text (for the filter bar)."""
    return [(str(value), str(label)) for value, label in pairs]


def _int(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() else None
