"""The inspector's phone page (mounted at /oversight/m/): a school visit's sample of poor
students, and recording in a few taps, student by student, whether the family received the
aid, in full (received in full, in part, not at all, could not reach; the amount said).

For the county's users who may view (the inspection team); the forms for inspectors. A
student's ID is only ever shown masked.
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from jingzhun.core import permissions as P
from jingzhun.core.errors import forbidden
from jingzhun.core.money import format_yuan
from jingzhun.oversight import selectors, services
from jingzhun.oversight.forms import SampleCheckForm
from jingzhun.oversight.models import SampleCheck
from jingzhun.oversight.views.common import form_errors


def _view(*methods: str) -> Any:
    """Require a login, the given HTTP methods and a user of the county (else the 403 page)."""

    def wrap(view: Any) -> Any:
        @functools.wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if not selectors.may_see_plans(request.user):
                return forbidden(request, P.VIEW)
            return view(request, *args, **kwargs)

        return login_required(require_http_methods(list(methods))(inner))

    return wrap


def _line(s: SampleCheck) -> dict[str, Any]:
    return {
        "s": s,
        "due": format_yuan(s.amount_due),
        "said": "" if s.amount_said is None else format_yuan(s.amount_said),
    }


@_view("GET", "HEAD")
def sample(request: HttpRequest, visit_id: int) -> HttpResponse:
    """List a visit's sampled students, each with the aid approved and what was recorded."""
    user: Any = request.user
    visit = selectors.get_visit(user=user, visit_id=visit_id)
    rows = [_line(s) for s in selectors.sample_list(user=user, visit=visit)]
    return render(
        request,
        "oversight/inspection_mobile_sample.html",
        {
            "visit": visit,
            "rows": rows,
            "checked": sum(1 for r in rows if r["s"].outcome != SampleCheck.Outcome.PENDING),
            "may_inspect": selectors.may_inspect(user),
        },
    )


@_view("GET", "POST")
def check(request: HttpRequest, check_id: int) -> HttpResponse:
    """Show one sampled student; an inspector records what the family says, once."""
    user: Any = request.user
    row = selectors.get_check(user=user, check_id=check_id)
    posted = request.method == "POST"
    if posted and not selectors.may_inspect(user):
        return forbidden(request, P.INSPECT)
    form = SampleCheckForm(request.POST if posted else None)
    if posted and form.is_valid():
        values = form.cleaned_data
        try:
            services.sample_check_record(
                actor=user,
                check=row,
                outcome=values["outcome"],
                amount_said=values["amount_said"],
                note=values["note"],
            )
        except PermissionDenied:
            return forbidden(request, P.INSPECT)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Recorded for %(name)s.") % {"name": row.student.name})
            return redirect("oversight:m-sample", visit_id=row.visit_id)
    pending = row.outcome == SampleCheck.Outcome.PENDING
    return render(
        request,
        "oversight/inspection_mobile_check.html",
        {
            "row": _line(row),
            "visit": row.visit,
            "form": form if pending and selectors.may_inspect(user) else None,
        },
    )


urlpatterns: list[URLPattern] = [
    path("m/visits/<int:visit_id>/", sample, name="m-sample"),
    path("m/checks/<int:check_id>/", check, name="m-check"),
]
