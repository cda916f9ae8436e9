"""Find a child (by name or roll number, or privately by ID number) and read their whole story.

An ID number is only ever sent by POST: it is looked up by its blind index and appears in no
address, no log line and no audit record. Every section of a child's page is read through
the owning app's selectors, scoped to the user; a child outside their jurisdiction is a 404.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.errors import forbidden
from jingzhun.core.listing import ListParams, paginate
from jingzhun.core.scoping import scope_of
from jingzhun.core.working_year import working_year
from jingzhun.dashboard import selectors
from jingzhun.schools.selectors import list_choices


class NumberForm(forms.Form):
    number = forms.CharField(
        label=gettext_lazy("Resident ID or roll number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, template, {**admin.site.each_context(request), **context})


def _allowed(request: HttpRequest) -> bool:
    return request.user.can(P.VIEW) and selectors.may_search(request.user)  # type: ignore[union-attr]


@sensitive_post_parameters("number")  # kept out of error reports
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def children(request: HttpRequest) -> HttpResponse:
    """Search children by name or roll number (GET), or by ID or roll number (POST)."""
    if not _allowed(request):
        return forbidden(request, P.VIEW)
    user: Any = request.user
    params = ListParams.read(request.GET)
    number_form = NumberForm(request.POST if request.method == "POST" else None)
    by_number = False
    if request.method == "POST":
        by_number = True
        rows: list[selectors.ChildRow] = []
        if number_form.is_valid():
            rows = selectors.child_by_number(user=user, number=number_form.cleaned_data["number"])
            # The search is recorded, never the number searched.
            audit_record(
                actor=user,
                action="child.search_by_number",
                request=request,
                data={"found": len(rows)},
            )
            if len(rows) == 1:
                return redirect(rows[0].url)
        number_form = NumberForm()  # the number is not sent back into the page
        result = selectors.SearchResult(rows, len(rows))
    else:
        result = selectors.child_search(user=user, params=params)
    county = scope_of(user).county_code
    choices = list_choices(user=user, params=params, school_year=working_year(county))
    page = paginate(request.GET, result.rows)
    return _page(
        request,
        "dashboard/children.html",
        {
            "title": _("Find a child"),
            "lp": params,
            "choices": choices,
            "page": page,
            "result": result,
            "total": result.total if (params.active or by_number) else None,
            "searched": params.active or by_number,
            "by_number": by_number,
            "number_form": number_form,
            "query": params.query(),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET"])
def child(request: HttpRequest, person_id: int) -> HttpResponse:
    """Show a registry child's whole story, each part as far as the user may see it."""
    if not _allowed(request):
        return forbidden(request, P.VIEW)
    found = selectors.get_child(user=request.user, person_id=person_id)
    return _page(request, "dashboard/child.html", {"title": found.name, "child": found})


@never_cache
@login_required
@require_http_methods(["GET"])
def student(request: HttpRequest, student_id: int) -> HttpResponse:
    """Show the story of a student on the rolls who is not (or not visibly) in the registry."""
    if not _allowed(request):
        return forbidden(request, P.VIEW)
    found = selectors.get_student_child(user=request.user, student_id=student_id)
    person_id = selectors.registry_person_of(found.students[0])
    if person_id is not None:
        # A student whose registry person the user sees: their whole page.
        if selectors.person_visible(user=request.user, person_id=person_id):
            return redirect("dashboard:child", person_id=person_id)
    return _page(request, "dashboard/child.html", {"title": found.name, "child": found})
