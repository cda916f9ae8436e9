"""Routes of the command centre (namespace ``centre``): each part keeps its own module."""

from __future__ import annotations

from django.urls import URLPattern

from jingzhun.dashboard import (
    urls_coverage,
    urls_map,
    urls_reports,
    urls_tasks,
    urls_warning,
    urls_whatif,
)

app_name = "centre"
urlpatterns: list[URLPattern] = [
    *urls_coverage.urlpatterns,
    *urls_tasks.urlpatterns,
    *urls_map.urlpatterns,
    *urls_whatif.urlpatterns,
    *urls_warning.urlpatterns,
    *urls_reports.urlpatterns,
]
