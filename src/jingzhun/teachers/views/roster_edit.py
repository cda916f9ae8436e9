"""Keeping a school's roster by hand between imports: a teacher added, a departure, a stretch
of service at a village school or teaching point (what the 20-years list counts).

Principals keep their own school's roster; county users any school's. Every write goes
through :mod:`jingzhun.teachers.services`; a refusal is the 403 page, a ValidationError shown
on the form with nothing saved. An ID number travels in the form's body only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from jingzhun.core import permissions as P
from jingzhun.core.errors import forbidden
from jingzhun.core.scoping import scope_of
from jingzhun.teachers import selectors, services
from jingzhun.teachers.forms import LeaveForm, ServicePeriodForm, TeacherForm
from jingzhun.teachers.views.common import may_record, page, teachers_view
from jingzhun.teachers.views.records import _form_errors, _school_of_form, _teacher_choices


def _form_page(
    request: HttpRequest, title: str, form: Any, school_id: int | None, form_id: str
) -> HttpResponse:
    user: Any = request.user
    return page(
        request,
        "teachers/record_form.html",
        {
            "title": title,
            "active": "roster",
            "form": form,
            "school_id": school_id,
            "schools": (
                selectors.school_choices(user=user) if scope_of(user).level != "school" else []
            ),
            "back": reverse("teachers:roster"),
            "form_id": form_id,
        },
    )


@teachers_view("GET", "POST")
def teacher_new(request: HttpRequest) -> HttpResponse:
    """Add a teacher to a school's roster."""
    user: Any = request.user
    if not may_record(user):
        return forbidden(request, P.EDIT_SCHOOLS)
    data = request.POST if request.method == "POST" else request.GET
    school_id = _school_of_form(request, data=data)
    form = TeacherForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and school_id is not None and form.is_valid():
        values = form.cleaned_data
        school = selectors.get_school(user=user, school_id=school_id)
        try:
            teacher = services.teacher_create(
                actor=user,
                name=values["name"],
                id_number=values["id_number"],
                school=school,
                post=values["post"],
                subject=values["subject"],
                title=values["title"],
                staffing=values["staffing"] or "",
                started_on=values["started_on"],
                backbone=values["backbone"],
            )
        except PermissionDenied:
            return forbidden(request, P.EDIT_SCHOOLS)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s (%(id)s) is on the roster of %(school)s.")
                % {"name": teacher.name, "id": teacher.id_masked, "school": school.name},
            )
            return redirect(f"{reverse('teachers:roster')}?school={school.pk}")
    return _form_page(request, _("Add a teacher"), form, school_id, "jz-teacher-form")


@teachers_view("GET", "POST")
def teacher_leave(request: HttpRequest) -> HttpResponse:
    """Record that a teacher left the school on a date."""
    user: Any = request.user
    if not may_record(user):
        return forbidden(request, P.EDIT_SCHOOLS)
    data = request.POST if request.method == "POST" else request.GET
    school_id = _school_of_form(request, data=data)
    form = LeaveForm(
        request.POST if request.method == "POST" else None,
        teachers=_teacher_choices(request, school_id),
        initial={"teacher": request.GET.get("teacher", "")},
    )
    if request.method == "POST" and form.is_valid():
        teacher = selectors.get_teacher(user=user, teacher_id=form.cleaned_data["teacher"])
        try:
            services.teacher_leave(
                actor=user, teacher=teacher, left_on=form.cleaned_data["left_on"]
            )
        except PermissionDenied:
            return forbidden(request, P.EDIT_SCHOOLS)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s left on %(date)s.")
                % {"name": teacher.name, "date": form.cleaned_data["left_on"].isoformat()},
            )
            return redirect(f"{reverse('teachers:roster')}?school={teacher.school_id}")
    return _form_page(request, _("Record a departure"), form, school_id, "jz-leave-form")


@teachers_view("GET", "POST")
def service_new(request: HttpRequest) -> HttpResponse:
    """Record a stretch of a teacher's service (what the 20-years list counts)."""
    user: Any = request.user
    if not may_record(user):
        return forbidden(request, P.EDIT_SCHOOLS)
    data = request.POST if request.method == "POST" else request.GET
    school_id = _school_of_form(request, data=data)
    form = ServicePeriodForm(
        request.POST if request.method == "POST" else None,
        teachers=_teacher_choices(request, school_id),
        schools=selectors.school_choices(user=user),
        initial={"teacher": request.GET.get("teacher", "")},
    )
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        teacher = selectors.get_teacher(user=user, teacher_id=values["teacher"])
        school = (
            selectors.get_school(user=user, school_id=values["school"])
            if values["school"]
            else None
        )
        try:
            services.service_period_create(
                actor=user,
                teacher=teacher,
                kind=values["kind"],
                started_on=values["started_on"],
                ended_on=values["ended_on"],
                school=school,
                place=values["place"] or "",
            )
        except PermissionDenied:
            return forbidden(request, P.EDIT_SCHOOLS)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request, _("The service of %(name)s is recorded.") % {"name": teacher.name}
            )
            return redirect(reverse("teachers:titles"))
    return _form_page(request, _("Record a period of service"), form, school_id, "jz-service-form")
