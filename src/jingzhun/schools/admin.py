"""Back office for schools, classes and the rolls, and the home dashboard.

Only a school's name, kind, boarding and township and a class's head teacher
are edited here (capability EDIT_SCHOOLS), through :mod:`jingzhun.schools.services`;
students and enrolments arrive by import and are read-only.

The dashboard lives here because it counts registry and rolls data alike and
``schools`` is the one app of the two allowed to read both (core reads no app).
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin
from django.db.models import ForeignKey, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import action

from jingzhun.core import permissions
from jingzhun.core.admin_base import (
    ReadOnlyTabularInline,
    ScopedAdmin,
    reveal_redirect,
    user_can,
)
from jingzhun.core.cache import cached
from jingzhun.core.periods import SchoolYear
from jingzhun.core.scoping import scope_of, scope_queryset
from jingzhun.registry.models import Area, Person
from jingzhun.schools.models import Enrolment, School, SchoolClass, Student
from jingzhun.schools.selectors import OUTSIDE_COUNTY, HomeCounts, home_counts
from jingzhun.schools.services import (
    SchoolChanges,
    SchoolClassChanges,
    school_class_update,
    school_update,
)


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    """Add the home counts to the admin index (UNFOLD["DASHBOARD_CALLBACK"]).

    The counts are computed once per change of the data and scope (jingzhun.core.cache).
    """
    user = request.user
    home = cached("home", user=user, compute=lambda: home_counts(user=user))
    context["title"] = _("Home")
    context["home"] = home
    context["home_table"] = _home_table(home)
    context["home_school_year"] = str(SchoolYear(home.school_year)) if home.school_year else ""
    return context


def _home_table(home: HomeCounts) -> dict[str, list[Any]]:
    """Return the per-township counts as unfold's table component wants them."""
    headers: list[Any] = [_("Township")]
    if home.shows_registry:
        headers += [_("Villages"), _("Poor villages"), _("Households"), _("Persons")]
    headers += [_("Schools"), _("Students"), _("Enrolments")]
    rows: list[list[Any]] = []
    for row in home.rows:
        name = row.name if row.code != OUTSIDE_COUNTY else _("Outside the county")
        cells: list[Any] = [name]
        if home.shows_registry:
            cells += [row.villages, row.poor_villages, row.households, row.persons]
        cells += [row.schools, row.students, row.enrolments]
        rows.append(cells)
    return {"headers": headers, "rows": rows}


def _changed(form: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in form.changed_data if name in names}


@admin.register(School)
class SchoolAdmin(ScopedAdmin):
    edit_capability = permissions.EDIT_SCHOOLS
    scope_distinct = True  # a class teacher sees their school through its classes
    editable = ("name", "kind", "boarding", "township")
    list_display = ("code", "name", "kind", "location", "township", "boarding", "in_poor_village")
    list_filter = (
        ("kind", ChoicesDropdownFilter),
        ("location", ChoicesDropdownFilter),
        "boarding",
        "in_poor_village",
        "township",
    )
    search_fields = ("name", "^code")
    list_select_related = ("township",)
    fields = (
        "code",
        "name",
        "kind",
        "location",
        "township",
        "village",
        "in_poor_village",
        "boarding",
    )
    readonly_fields = ("code", "location", "village", "in_poor_village")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        # Someone who sees no areas (a principal) keeps the township as it is.
        if Area.scope_q(scope_of(request.user)) is None and "township" not in readonly:
            readonly.append("township")
        return readonly

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.name == "township":
            townships = Area.objects.filter(level=Area.Level.TOWNSHIP)
            kwargs["queryset"] = scope_queryset(townships, request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: School, form: Any, change: bool) -> None:
        current = self.get_queryset(request).get(pk=obj.pk)
        changes = cast(SchoolChanges, _changed(form, self.editable))
        school_update(actor=request.user, instance=current, data=changes)


@admin.register(SchoolClass)
class SchoolClassAdmin(ScopedAdmin):
    edit_capability = permissions.EDIT_SCHOOLS
    list_display = ("school", "school_year", "stage", "grade", "name", "head_teacher_name")
    list_filter = ("school_year", ("stage", ChoicesDropdownFilter), "school")
    search_fields = ("name", "school__name", "head_teacher_name")
    list_select_related = ("school",)
    fields = ("school", "school_year", "stage", "grade", "name", "head_teacher_name")
    readonly_fields = ("school", "school_year", "stage", "grade", "name")

    def save_model(self, request: HttpRequest, obj: SchoolClass, form: Any, change: bool) -> None:
        current = self.get_queryset(request).get(pk=obj.pk)
        changes = cast(SchoolClassChanges, _changed(form, ("head_teacher_name",)))
        school_class_update(actor=request.user, instance=current, data=changes)


class EnrolmentInline(ReadOnlyTabularInline):
    model = Enrolment
    fields = ("school_year", "school", "school_class", "stage", "grade", "status", "status_date")
    readonly_fields = fields
    verbose_name_plural = _("enrolments")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("school", "school_class__school")


@admin.register(Student)
class StudentAdmin(ScopedAdmin):
    scope_distinct = True  # seen through enrolments, of which a student may have several
    list_display = (
        "name",
        "roll_masked",
        "id_masked",
        "id_status",
        "sex",
        "birth_month",
        "poor_flag",
    )
    list_filter = (("id_status", ChoicesDropdownFilter), "poor_flag", "sex")
    # A roll number is usually "G" + the ID number: sealed, shown masked, found only whole and
    # only when it holds no ID number (one that does is searched on the child search page).
    search_fields = ("name",)
    roll_index_fields = ("roll_index",)
    fields = (
        "roll_masked",
        "name",
        "id_masked",
        "id_status",
        "sex",
        "birth_month",
        "poor_flag",
        "person",
    )
    readonly_fields = fields
    inlines = (EnrolmentInline,)
    actions_detail = ("reveal_id",)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_fields(request, obj)
        # Schools and classes do not see the registry, so not the registry person either.
        if Person.scope_q(scope_of(request.user)) is None:
            fields = [name for name in fields if name != "person"]
        return fields

    @action(
        description=_("Show whole ID number"),
        url_path="reveal-id",
        permissions=["reveal"],
        icon="visibility",
    )
    def reveal_id(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return reveal_redirect("student", object_id, "id")

    def has_reveal_permission(self, request: HttpRequest, object_id: str | None = None) -> bool:
        return user_can(request.user, permissions.VIEW_FULL_ID)


@admin.register(Enrolment)
class EnrolmentAdmin(ScopedAdmin):
    list_display = (
        "student",
        "school",
        "school_class",
        "school_year",
        "stage",
        "grade",
        "status",
        "boarding",
    )
    list_filter = (
        "school_year",
        ("stage", ChoicesDropdownFilter),
        ("status", ChoicesDropdownFilter),
        "school",
    )
    search_fields = ("student__name",)
    roll_index_fields = ("student__roll_index",)
    list_select_related = ("student", "school", "school_class__school")
    fields = (
        "student",
        "school",
        "school_class",
        "school_year",
        "stage",
        "grade",
        "boarding",
        "status",
        "status_date",
        "enrolled_on",
    )
    readonly_fields = fields
