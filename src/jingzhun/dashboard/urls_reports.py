"""Routes of the command centre's reports pages (see urls_centre)."""

from __future__ import annotations

from django.urls import URLPattern, path

from jingzhun.dashboard import views_reports as v

urlpatterns: list[URLPattern] = [
    path("reports/", v.report_index, name="reports"),
    path("reports/<str:report_kind>.xlsx", v.report_xlsx, name="report-xlsx"),
    path("reports/<str:report_kind>.pdf", v.report_pdf, name="report-pdf"),
    path("reports/<str:report_kind>/", v.report, name="report"),
]
