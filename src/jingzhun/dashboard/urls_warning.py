"""Routes of the command centre's warning pages (see urls_centre)."""

from __future__ import annotations

from django.urls import URLPattern, path

from jingzhun.dashboard import views_warning as v

urlpatterns: list[URLPattern] = [
    path("warning/", v.warning_list, name="warning"),
    path("warning.xlsx", v.warning_xlsx, name="warning-xlsx"),
    path("warning/backtest/", v.warning_backtest, name="warning-backtest"),
    path("warning/check-on/", v.check_on, name="check-on"),
]
