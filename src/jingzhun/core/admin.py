"""Back office for the shared kernel: imports and the audit log (both read-only), and the
county's working period (editable by the county's administrator, audited)."""

from __future__ import annotations

import json

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeDateTimeFilter
from unfold.decorators import display

from jingzhun.core import permissions
from jingzhun.core.admin_base import ScopedAdmin
from jingzhun.core.models import AuditEvent, CountyProfile, ImportBatch
from jingzhun.core.scoping import scope_of
from jingzhun.core.working_year import county_working_period_set, working_period

# Admin pages that other installed packages register but that bypass jurisdiction scoping
# (or grant rights by Django permission rather than by role): removed from the back office.
# Login lockouts are reset with `jingzhun axes_reset_username`, background tasks watched
# through the import pages.
_UNSCOPED_LABELS = (
    "auth.group",
    "axes.accessattempt",
    "axes.accesslog",
    "axes.accessfailurelog",
    "django_tasks_database.dbtaskresult",
)
for _model in list(admin.site._registry):
    if _model._meta.label_lower in _UNSCOPED_LABELS:
        admin.site.unregister(_model)


@admin.register(ImportBatch)
class ImportBatchAdmin(ScopedAdmin):
    list_display = (
        "created_at",
        "kind",
        "file_name",
        "status",
        "progress",
        "rows_total",
        "rows_created",
        "rows_updated",
        "rows_unchanged",
        "rows_rejected",
        "warnings",
        "created_by",
    )
    list_display_links = ("created_at", "file_name")
    list_filter = (("kind", ChoicesDropdownFilter), ("status", ChoicesDropdownFilter))
    search_fields = ("file_name", "source")
    list_select_related = ("created_by",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "kind",
                    "source",
                    "file_name",
                    "sha256",
                    "status",
                    "progress",
                    "message",
                    "error_report",
                    "created_by",
                    "created_at",
                    "finished_at",
                )
            },
        ),
        (
            _("Counts"),
            {
                "fields": (
                    "rows_total",
                    "rows_created",
                    "rows_updated",
                    "rows_unchanged",
                    "rows_rejected",
                    "warnings",
                )
            },
        ),
    )
    readonly_fields = (
        "kind",
        "source",
        "file_name",
        "sha256",
        "status",
        "progress",
        "message",
        "error_report",
        "created_by",
        "created_at",
        "finished_at",
        "rows_total",
        "rows_created",
        "rows_updated",
        "rows_unchanged",
        "rows_rejected",
        "warnings",
    )

    @display(description=_("progress"))
    def progress(self, obj: ImportBatch) -> str:
        if not obj.progress_total:
            return obj.progress_stage or "—"
        percent = 100 * obj.progress_done // obj.progress_total
        return f"{obj.progress_stage} {obj.progress_done}/{obj.progress_total} ({percent}%)".strip()

    @display(description=_("error report"))
    def error_report(self, obj: ImportBatch) -> str:
        if not obj.report_path:
            return "—"
        try:
            url = reverse("imports:report", args=[obj.pk])
        except NoReverseMatch:  # the import pages are not mounted in this URL configuration
            return str(_("stored with the import"))
        return format_html(
            '<a class="text-primary-600" href="{}">{}</a>', url, _("Download the error report")
        )


@admin.register(AuditEvent)
class AuditEventAdmin(ScopedAdmin):
    view_capability = permissions.VIEW_AUDIT
    list_display = ("id", "at", "action", "actor_name", "object_type", "object_id", "ip")
    list_display_links = ("id", "at")
    list_filter = ("action", ("at", RangeDateTimeFilter))
    search_fields = ("action", "actor_name", "object_type", "=object_id")
    fields = (
        "at",
        "actor_name",
        "action",
        "object_type",
        "object_id",
        "pretty_data",
        "ip",
        "prev_hash",
        "hash",
    )
    readonly_fields = fields

    @display(description=_("data"))
    def pretty_data(self, obj: AuditEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.data, ensure_ascii=False, indent=2))

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # append-only, whatever the role


@admin.register(CountyProfile)
class CountyProfileAdmin(ScopedAdmin):
    """The county's settings: its working school year and semester (empty: follow today)."""

    edit_capability = permissions.MANAGE_USERS
    list_display = ("name", "county_code", "working_year", "working_semester", "period_shown")
    fields = ("name", "county_code", "working_year", "working_semester", "period_shown")
    readonly_fields = ("name", "county_code", "period_shown")

    @display(description=_("working period shown"))
    def period_shown(self, obj: CountyProfile) -> str:
        period = working_period(obj.county_code, profile=obj)
        return f"{period.label} {period.note}".strip()

    def can_view(self, request: HttpRequest) -> bool:
        """The county's settings are the county's users' business."""
        return super().can_view(request) and scope_of(request.user).level == "county"

    def save_model(self, request: HttpRequest, obj: Model, form: object, change: bool) -> None:
        assert isinstance(obj, CountyProfile)
        current = CountyProfile.objects.get(pk=obj.pk)
        county_working_period_set(
            actor=request.user,
            profile=current,
            school_year=obj.working_year,
            semester=obj.working_semester or "",
            request=request,
        )
