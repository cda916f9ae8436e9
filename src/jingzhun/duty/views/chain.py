"""Duty pages of the responsibility chain: assignments, letters of responsibility, coverage."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from jingzhun.core import permissions as P
from jingzhun.duty import documents, selectors, selectors_ui, services
from jingzhun.duty.forms import (
    AssignmentCreateForm,
    ReassignForm,
    SignForm,
)
from jingzhun.duty.models import Assignment
from jingzhun.duty.views.common import (
    CN_POSTS,
    _download,
    _errors,
    _forbidden,
    _page,
    _paginate,
    class_label,
    cn_class,
    duty_view,
)

# --------------------------------------------------------------------------- the chain


def _allowed_kinds(user: Any) -> list[tuple[str, Any]]:
    level = user.scope.level
    return [(k, label) for k, label in Assignment.Kind.choices if level in services.ASSIGNERS[k]]


def _target_label(a: Assignment) -> str:
    if a.kind == Assignment.Kind.CLASS and a.school_class is not None:
        school = a.school.name if a.school else ""
        return f"{school} {class_label(a.school_class)}".strip()
    if a.kind == Assignment.Kind.STUDENT and a.person is not None:
        return f"{a.person.name} · {a.school.name}" if a.school else a.person.name
    if a.kind == Assignment.Kind.VILLAGE and a.village is not None:
        return f"{a.village.name} · {a.school.name}" if a.school else a.village.name
    target = a.target
    return str(getattr(target, "name", "") or "—")


def _may_manage(user: Any, a: Assignment) -> bool:
    return selectors.may_assign(user) and user.scope.level in services.ASSIGNERS[a.kind]


@duty_view("GET", "POST")
def assignments(request: HttpRequest) -> HttpResponse:
    """Show the chain the user may see (current, or with its history); name a new holder."""
    user: Any = request.user
    may = selectors.may_assign(user)
    history = request.GET.get("history") == "1"
    form = None
    if may:
        form = AssignmentCreateForm(
            request.POST if request.method == "POST" else None,
            targets=selectors_ui.assignment_targets(user=user, class_label=class_label),
            holders=selectors_ui.holder_choices(user=user),
        )
        kind_field: Any = form.fields["kind"]
        kind_field.choices = _allowed_kinds(user)
    if request.method == "POST":
        if not may or form is None:
            return _forbidden(request, P.DUTY_ASSIGN)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.assignment_create(
                    actor=user,
                    kind=data["kind"],
                    target_id=data["target_id"],
                    holder_id=data["holder"],
                    starts_on=data["starts_on"],
                    school_id=data["contact_school"],
                    note=data["note"],
                )
            except PermissionDenied:
                return _forbidden(request, P.DUTY_ASSIGN)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.success(request, _("The responsible person is named."))
                return redirect("duty:assignments")
    rows = _paginate(
        request,
        selectors.assignment_list(user=user, current_only=not history).select_related(
            "assigned_by"
        ),
    )
    return _page(
        request,
        "duty/assignments.html",
        {
            "title": _("Responsibility chain"),
            "active": "assignments",
            "rows": rows,
            "lines": [{"a": a, "target": _target_label(a)} for a in rows.object_list],
            "history": history,
            "form": form,
        },
    )


def _issuer(a: Assignment) -> str:
    """Return the assigning unit as a letter names it."""
    by: Any = a.assigned_by
    if by is None:
        return ""
    if by.school_id:
        return str(by.school.name)
    if by.area_id:
        area = by.area
        return f"{area.name}教育局" if area.level == "county" else f"{area.name}人民政府"
    return ""


def _letter_target(a: Assignment) -> str:
    if a.kind == Assignment.Kind.CLASS and a.school_class is not None:
        return f"{a.school.name if a.school else ''}{cn_class(a.school_class)}"
    if a.kind == Assignment.Kind.STUDENT and a.person is not None:
        return f"{a.person.name}（{a.school.name}）" if a.school else a.person.name
    if a.kind == Assignment.Kind.VILLAGE and a.village is not None:
        return f"{a.village.name}（联系学校：{a.school.name}）" if a.school else a.village.name
    return str(getattr(a.target, "name", ""))


def letter_of(a: Assignment) -> documents.Letter:
    return documents.Letter(
        kind=a.kind,
        issuer=_issuer(a),
        holder_name=str(a.holder),
        holder_post=CN_POSTS.get(getattr(a.holder, "role", ""), ""),
        target=_letter_target(a),
        starts_on=a.starts_on,
        signed_on=a.signed_on,
    )


@duty_view("GET", "POST")
def assignment_detail(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """Show one link of the chain with its history; reassign it or record the signed letter."""
    user: Any = request.user
    a = selectors.get_assignment(user=user, assignment_id=assignment_id)
    may = _may_manage(user, a)
    holders = selectors_ui.holder_choices(user=user) if may else []
    reassign_form = ReassignForm(holders=holders)
    sign_form = SignForm()
    if request.method == "POST":
        action = request.POST.get("action", "")
        if not may or action not in ("reassign", "sign"):
            return _forbidden(request, P.DUTY_ASSIGN)
        try:
            if action == "reassign":
                reassign_form = ReassignForm(request.POST, holders=holders)
                if reassign_form.is_valid():
                    data = reassign_form.cleaned_data
                    new = services.assignment_reassign(
                        actor=user,
                        assignment_id=a.pk,
                        holder_id=data["holder"],
                        on=data["on"],
                        note=data["note"],
                    )
                    messages.success(request, _("The assignment is handed over."))
                    return redirect("duty:assignment", assignment_id=new.pk)
            else:
                sign_form = SignForm(request.POST)
                if sign_form.is_valid():
                    services.assignment_sign(
                        actor=user,
                        assignment_id=a.pk,
                        signed_on=sign_form.cleaned_data["signed_on"],
                    )
                    messages.success(request, _("The signed date is recorded."))
                    return redirect("duty:assignment", assignment_id=a.pk)
        except PermissionDenied:
            return _forbidden(request, P.DUTY_ASSIGN)
        except ValidationError as exc:
            _errors(request, exc)
    field = services.TARGETS[a.kind][1]
    history = (
        selectors.assignment_list(user=user, current_only=False)
        .filter(kind=a.kind, **{f"{field}_id": getattr(a, f"{field}_id")})
        .select_related("assigned_by")
        .order_by("-starts_on", "-id")
    )
    return _page(
        request,
        "duty/assignment.html",
        {
            "title": _("Assignment: %(target)s") % {"target": _target_label(a)},
            "active": "assignments",
            "a": a,
            "target": _target_label(a),
            "history": history,
            "may": may and a.ends_on is None,
            "reassign_form": reassign_form,
            "sign_form": sign_form,
        },
    )


@duty_view("GET")
def assignment_letter(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """Download the letter of responsibility of one assignment (PDF)."""
    a = selectors.get_assignment(user=request.user, assignment_id=assignment_id)
    content = documents.letters_pdf([letter_of(a)])
    return _download(content, f"letter-{a.pk}.pdf", "application/pdf", inline=True)


@duty_view("GET")
def assignment_letters(request: HttpRequest) -> HttpResponse:
    """Download the letters of every current assignment the user may see, one per page."""
    rows = list(
        selectors.assignment_list(user=request.user).select_related(
            "assigned_by__area", "assigned_by__school"
        )
    )
    if not rows:
        messages.warning(request, _("There is no current assignment to print."))
        return redirect("duty:assignments")
    content = documents.letters_pdf([letter_of(a) for a in rows])
    return _download(content, "letters-of-responsibility.pdf", "application/pdf", inline=True)


# --------------------------------------------------------------------------- coverage


@duty_view("GET")
def coverage(request: HttpRequest) -> HttpResponse:
    """Show the share of poor students with a responsible person and of poor villages with a
    contact person, per school, township and in total, with the gaps."""
    return _page(
        request,
        "duty/coverage.html",
        {
            "title": _("Coverage of the responsibility chain"),
            "active": "coverage",
            "coverage": selectors.coverage(user=request.user),
        },
    )
