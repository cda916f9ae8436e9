"""Back office for identification: runs and their rows (read-only), and two kinds of records.

Runs, statuses, changes, discrepancies and candidates are written by runs and reviews only
(the review itself happens on /identification/candidates/). Home teaching (送教上门) and
proofs of study outside the county are recorded here by county staff who edit the registry
and by township officers, through :mod:`jingzhun.identification.services`; a recorded one is
kept as it is (a correction is a new record).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import display

from jingzhun.core import permissions
from jingzhun.core.admin_base import ScopedAdmin
from jingzhun.identification import selectors
from jingzhun.identification.models import (
    ChildStatus,
    Discrepancy,
    HomeTeaching,
    IdentificationRun,
    OutOfCountyProof,
    ReviewCandidate,
    RunChange,
)
from jingzhun.identification.services import home_teaching_record, out_of_county_proof_record


def _all_readonly(admin_class: type[ScopedAdmin]) -> type[ScopedAdmin]:
    admin_class.readonly_fields = tuple(admin_class.fields or ())
    return admin_class


@admin.register(IdentificationRun)
@_all_readonly
class IdentificationRunAdmin(ScopedAdmin):
    list_display = (
        "id",
        "as_of",
        "school_year",
        "status",
        "started_by",
        "started_at",
        "finished_at",
        "page_link",
    )
    list_filter = (("status", ChoicesDropdownFilter), "school_year")
    list_select_related = ("started_by",)
    fields = (
        "county_code",
        "as_of",
        "school_year",
        "status",
        "started_by",
        "started_at",
        "finished_at",
        "previous",
        "counts",
        "settings",
        "inputs",
        "message",
    )

    @display(description=_("page"))
    def page_link(self, obj: IdentificationRun) -> str:
        url = reverse("identification:run", kwargs={"run_id": obj.pk})
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, _("Open"))


@admin.register(ChildStatus)
@_all_readonly
class ChildStatusAdmin(ScopedAdmin):
    list_display = (
        "person",
        "category",
        "age",
        "village_code",
        "school",
        "stage",
        "grade",
        "link_method",
        "known",
        "run",
    )
    list_filter = (("category", ChoicesDropdownFilter), "known", "run", "school")
    search_fields = ("person__name",)
    list_select_related = ("person", "school", "run")
    fields = (
        "run",
        "person",
        "category",
        "age",
        "household_status",
        "village_code",
        "student",
        "school",
        "stage",
        "grade",
        "boarding",
        "enrolment_status",
        "returned",
        "link_method",
        "known",
    )


@admin.register(RunChange)
@_all_readonly
class RunChangeAdmin(ScopedAdmin):
    list_display = ("kind", "person", "village_code", "school", "before", "after", "run")
    list_filter = (("kind", ChoicesDropdownFilter), "run")
    search_fields = ("person__name",)
    list_select_related = ("person", "school", "run")
    fields = ("run", "kind", "person", "village_code", "school", "before", "after")


@admin.register(Discrepancy)
@_all_readonly
class DiscrepancyAdmin(ScopedAdmin):
    list_display = ("kind", "student", "person", "school", "village_code", "run")
    list_filter = (("kind", ChoicesDropdownFilter), "run")
    search_fields = ("student__name", "person__name")
    list_select_related = ("student", "person", "school", "run")
    fields = ("run", "kind", "student", "person", "school", "village_code")


@admin.register(ReviewCandidate)
@_all_readonly
class ReviewCandidateAdmin(ScopedAdmin):
    list_display = (
        "person",
        "student",
        "probability",
        "decision",
        "decided_by",
        "decided_at",
        "review_link",
    )
    list_filter = (("decision", ChoicesDropdownFilter),)
    search_fields = ("person__name", "student__name")
    list_select_related = ("person", "student", "decided_by")
    fields = (
        "run",
        "person",
        "student",
        "probability",
        "village_code",
        "school",
        "evidence",
        "decision",
        "decided_by",
        "decided_at",
        "reason",
    )

    @display(description=_("review"))
    def review_link(self, obj: ReviewCandidate) -> str:
        url = reverse("identification:candidate", kwargs={"candidate_id": obj.pk})
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, _("Open"))


class RecordAdmin(ScopedAdmin):
    """Records a user adds through a service and nobody changes afterwards."""

    allow_add = True
    edit_capability = permissions.VIEW  # narrowed to the roles in may_record_cases
    add_fields: tuple[str, ...] = ()
    autocomplete_fields = ("person",)

    def can_edit(self, request: HttpRequest) -> bool:
        return super().can_edit(request) and selectors.may_record_cases(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return list(self.add_fields) if obj is None else super().get_fields(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else tuple(self.fields or ())

    def record(self, request: HttpRequest, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change or not self.has_add_permission(request):
            raise PermissionDenied
        saved = self.record(request, {name: form.cleaned_data[name] for name in self.add_fields})
        obj.pk = saved.pk  # the admin goes on (log entry, redirect) with the recorded row
        obj.recorded_by = saved.recorded_by


@admin.register(HomeTeaching)
class HomeTeachingAdmin(RecordAdmin):
    list_display = ("person", "teacher_name", "schedule", "since", "until", "recorded_by")
    search_fields = ("person__name", "teacher_name")
    list_select_related = ("person", "recorded_by")
    add_fields = ("person", "teacher_name", "schedule", "since")
    fields = ("person", "teacher_name", "schedule", "since", "until", "recorded_by")

    def record(self, request: HttpRequest, data: dict[str, Any]) -> Any:
        return home_teaching_record(actor=request.user, **data)


@admin.register(OutOfCountyProof)
class OutOfCountyProofAdmin(RecordAdmin):
    list_display = ("person", "school_year", "school_name", "place", "proof", "recorded_by")
    list_filter = ("school_year",)
    search_fields = ("person__name", "school_name")
    list_select_related = ("person", "recorded_by")
    add_fields = ("person", "school_year", "school_name", "place", "proof")
    fields = ("person", "school_year", "school_name", "place", "proof", "recorded_by")

    def record(self, request: HttpRequest, data: dict[str, Any]) -> Any:
        return out_of_county_proof_record(actor=request.user, **data)
