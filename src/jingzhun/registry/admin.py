"""Back office for the poverty registry: areas, households, persons (read-only; data comes by import)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import action, display

from jingzhun.core import permissions
from jingzhun.core.admin_base import (
    ReadOnlyTabularInline,
    ScopedAdmin,
    reveal_redirect,
    user_can,
)
from jingzhun.registry.models import Area, Household, HouseholdStatusChange, Person


@admin.register(Area)
class AreaAdmin(ScopedAdmin):
    list_display = ("code", "name", "level", "parent", "is_poor")
    list_filter = (("level", ChoicesDropdownFilter), "is_poor")
    search_fields = ("name", "^code")
    list_select_related = ("parent",)
    fields = ("code", "name", "level", "parent", "is_poor", "longitude", "latitude")
    readonly_fields = fields


class HouseholdStatusInline(ReadOnlyTabularInline):
    model = HouseholdStatusChange
    fields = ("status", "year", "recorded_on")
    readonly_fields = fields
    verbose_name_plural = _("status history")


class HouseholdMemberInline(ReadOnlyTabularInline):
    model = Person
    fields = ("name", "id_masked", "sex", "birth_month", "relation")
    readonly_fields = fields
    show_change_link = True
    verbose_name_plural = _("members")


@admin.register(Household)
class HouseholdAdmin(ScopedAdmin):
    list_display = (
        "household_no",
        "village_name",
        "registration_year",
        "status",
        "exit_year",
        "minimum_income",
        "bank_masked",
    )
    list_filter = (
        ("status", ChoicesDropdownFilter),
        "minimum_income",
        "registration_year",
        "village",
    )
    search_fields = ("^household_no",)
    list_select_related = ("village",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "household_no",
                    "village",
                    "registration_year",
                    "status",
                    "exit_year",
                    "poverty_cause",
                    "minimum_income",
                )
            },
        ),
        (_("Benefits card"), {"fields": ("bank_name", "bank_masked")}),
    )
    readonly_fields = (
        "household_no",
        "village",
        "registration_year",
        "status",
        "exit_year",
        "poverty_cause",
        "minimum_income",
        "bank_name",
        "bank_masked",
    )
    inlines = (HouseholdMemberInline, HouseholdStatusInline)
    actions_detail = ("reveal_bank",)

    @display(description=_("village"), ordering="village__code")
    def village_name(self, obj: Household) -> str:
        return obj.village.name

    @action(
        description=_("Show whole account number"),
        url_path="reveal-bank",
        permissions=["reveal"],
        icon="visibility",
    )
    def reveal_bank(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return reveal_redirect("household", object_id, "bank")

    def has_reveal_permission(self, request: HttpRequest, object_id: str | None = None) -> bool:
        return user_can(request.user, permissions.VIEW_FULL_ID)


@admin.register(Person)
class PersonAdmin(ScopedAdmin):
    list_display = ("name", "id_masked", "sex", "birth_month", "household", "village")
    list_filter = ("sex", "left_behind", "household__village")
    # Names by text; an ID number is searched on the child search page, by POST.
    search_fields = ("name",)
    list_select_related = ("household__village",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "id_masked",
                    "sex",
                    "birth_month",
                    "household",
                    "relation",
                    "ethnicity",
                )
            },
        ),
        (_("Disability"), {"fields": ("disability_kind", "disability_grade")}),
        (
            _("Guardian and contact"),
            {"fields": ("left_behind", "guardian_name", "guardian_id_masked", "phone")},
        ),
    )
    readonly_fields = (
        "name",
        "id_masked",
        "sex",
        "birth_month",
        "household",
        "relation",
        "ethnicity",
        "disability_kind",
        "disability_grade",
        "left_behind",
        "guardian_name",
        "guardian_id_masked",
        "phone",
    )
    actions_detail = ("reveal_id", "reveal_guardian_id")

    @display(description=_("village"), ordering="household__village__name")
    def village(self, obj: Person) -> str:
        return obj.household.village.name

    @action(
        description=_("Show whole ID number"),
        url_path="reveal-id",
        permissions=["reveal"],
        icon="visibility",
    )
    def reveal_id(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return reveal_redirect("person", object_id, "id")

    @action(
        description=_("Show guardian's whole ID number"),
        url_path="reveal-guardian-id",
        permissions=["reveal_guardian"],
        icon="visibility",
    )
    def reveal_guardian_id(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return reveal_redirect("person", object_id, "guardian_id")

    def has_reveal_permission(self, request: HttpRequest, object_id: str | None = None) -> bool:
        return user_can(request.user, permissions.VIEW_FULL_ID)

    def has_reveal_guardian_permission(
        self, request: HttpRequest, object_id: str | None = None
    ) -> bool:
        if not self.has_reveal_permission(request, object_id) or object_id is None:
            return False
        obj = self.get_object(request, object_id)
        return obj is not None and obj.guardian_id_cipher is not None
