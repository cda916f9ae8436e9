"""Routes of the command centre's coverage pages (see urls_centre)."""

from __future__ import annotations

from django.urls import URLPattern, path

from jingzhun.dashboard import views_coverage as v

urlpatterns: list[URLPattern] = [
    path("coverage/", v.coverage, name="coverage"),
    path("coverage.xlsx", v.coverage_export, name="coverage-export"),
    path("coverage/trends/", v.trends, name="trends"),
]
