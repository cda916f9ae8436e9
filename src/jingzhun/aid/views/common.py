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
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from jingzhun.aid import wording
from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.periods import Semester, SemesterKind

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


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render a page inside the back office's layout (sidebar, language switcher)."""
    return render(
        request,
        template,
        {**admin.site.each_context(request), "jz_nav": _nav(request.user), **context},
        status=status,
    )


def _forbidden(request: HttpRequest, capability: str) -> HttpResponse:
    """Log a refused request and answer with the 403 page."""
    audit_record(
        actor=request.user,
        action="access.denied",
        request=request,
        data={"path": request.path, "capability": capability},
    )
    return _page(
        request,
        "aid/forbidden.html",
        {"title": _("Not allowed"), "active": ""},
        status=403,
    )


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


def _period(data: QueryDict) -> Period:
    """Return the period asked for, else the school year and semester of today."""
    today = Semester.of(timezone.localdate())
    year = data.get("year", "")
    semester = data.get("semester", "")
    return Period(
        int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else today.school_year.start,
        semester if semester in SemesterKind.values else today.kind,
    )


def _period_context(period: Period) -> dict[str, Any]:
    return {
        "period": period,
        "semesters": SemesterKind.choices,
    }


def _back(name: str, period: Period | None = None, **kwargs: Any) -> HttpResponse:
    url = reverse(name, kwargs=kwargs or None)
    return redirect(f"{url}?{period.query}" if period is not None else url)


def _int(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() else None
