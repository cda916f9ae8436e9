"""Back office for users: role and one jurisdiction, managed by holders of MANAGE_USERS.

Users are scoped like everything else (a county administrator manages the
users of their county). Permissions come from the role, so the Django flags
``is_superuser``, ``is_staff``, groups and per-model permissions are not edited here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ForeignKey
from django.forms import ModelChoiceField
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_otp.plugins.otp_totp.models import TOTPDevice
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import display
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from jingzhun.accounts.models import User
from jingzhun.accounts.services import (
    jurisdiction_county_code,
    user_create,
    validate_jurisdiction,
)
from jingzhun.core import permissions
from jingzhun.core.admin_base import ScopedAdmin
from jingzhun.core.audit import audit_record
from jingzhun.core.scoping import scope_queryset

JURISDICTION_FIELDS = ("role", "area", "school", "school_class")
# Fields whose changes go to the audit log (never the password).
AUDITED_FIELDS = (
    "username",
    "first_name",
    "last_name",
    "email",
    "is_active",
    "preferred_language",
    "role",
    "area_id",
    "school_id",
    "school_class_id",
    "county_code",
)


class JurisdictionFormMixin(forms.ModelForm):
    """Check that the jurisdiction fits the role before anything is saved."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            validate_jurisdiction(
                role=cleaned.get("role") or "",
                area=cleaned.get("area"),
                school=cleaned.get("school"),
                school_class=cleaned.get("school_class"),
            )
        except ValidationError as exc:
            self.add_error(None, exc)
        return cleaned


class UserCreateForm(JurisdictionFormMixin, UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "first_name", *JURISDICTION_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every account gets a password and a role: a user without a role could never be found
        # again, since users are scoped by jurisdiction like everything else.
        self.fields.pop("usable_password", None)
        for name in ("password1", "password2", "role"):
            self.fields[name].required = True


class UserEditForm(JurisdictionFormMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = (
            "username",
            "first_name",
            "last_name",
            "email",
            "preferred_language",
            "is_active",
            *JURISDICTION_FIELDS,
        )


@admin.register(User)
class UserAdmin(ScopedAdmin, BaseUserAdmin):
    view_capability = permissions.MANAGE_USERS
    edit_capability = permissions.MANAGE_USERS
    allow_add = True
    show_add_link = True
    form = UserEditForm
    add_form = UserCreateForm
    change_password_form = AdminPasswordChangeForm
    list_display = ("username", "full_name", "role", "jurisdiction", "is_active", "last_login")
    list_filter = (("role", ChoicesDropdownFilter), "is_active")
    search_fields = ("username", "first_name", "last_name")
    list_select_related = ("area", "school", "school_class__school")
    ordering = ("username",)
    filter_horizontal = ()
    autocomplete_fields = ("school", "school_class")
    readonly_fields = ("county_code", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "password", "is_active")}),
        (_("Role and jurisdiction"), {"fields": (*JURISDICTION_FIELDS, "county_code")}),
        (
            _("Personal info"),
            {"fields": ("first_name", "last_name", "email", "preferred_language")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"fields": ("username", "password1", "password2", "first_name")}),
        (_("Role and jurisdiction"), {"fields": JURISDICTION_FIELDS}),
    )

    @display(description=pgettext_lazy("person", "name"))
    def full_name(self, obj: User) -> str:
        return obj.get_full_name()

    @display(description=_("jurisdiction"))
    def jurisdiction(self, obj: User) -> str:
        place = obj.school_class or obj.school or obj.area
        return str(place) if place is not None else "—"

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        # Related models by the field, not by import: accounts does not import the apps
        # downstream of it.
        related = db_field.remote_field.model._default_manager
        if db_field.name == "area":
            areas = related.filter(level__in=("county", "township"))
            kwargs["queryset"] = scope_queryset(areas, request.user)
        elif db_field.name == "school":
            # A principal works at a school of the county, which has a township.
            schools = related.filter(township__isnull=False)
            kwargs["queryset"] = scope_queryset(schools, request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        if change:
            return super().save_form(request, form, change)
        data = form.cleaned_data
        return user_create(
            actor=request.user,
            username=data["username"],
            password=data["password1"],
            role=data["role"],
            area=data.get("area"),
            school=data.get("school"),
            school_class=data.get("school_class"),
            full_name=data.get("first_name", ""),
        )

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if not change:
            return  # user_create saved it and wrote the audit event
        before = self.get_queryset(request).get(pk=obj.pk)
        validate_jurisdiction(
            role=obj.role, area=obj.area, school=obj.school, school_class=obj.school_class
        )
        obj.county_code = jurisdiction_county_code(
            area=obj.area, school=obj.school, school_class=obj.school_class
        )
        obj.full_clean()
        obj.save()
        changes = {
            name: [getattr(before, name), getattr(obj, name)]
            for name in AUDITED_FIELDS
            if getattr(before, name) != getattr(obj, name)
        }
        audit_record(
            actor=request.user,
            action="user.update",
            target=obj,
            request=request,
            data={"changes": changes},
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Save nothing more: users have no inlines, and groups and permissions are not used."""

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                target = self.object_or_404(request, id)
                audit_record(
                    actor=request.user, action="user.password_set", target=target, request=request
                )
        return response


# django-otp registers its devices in the admin, secrets included, unscoped: devices are managed
# on the two-factor pages and reset with `jingzhun two-factor-reset`, never edited here.
if TOTPDevice in admin.site._registry:
    admin.site.unregister(TOTPDevice)
