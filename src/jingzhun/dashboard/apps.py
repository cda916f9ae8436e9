from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    """Pages that only read, through the other apps' selectors: finding a child and their story."""

    name = "jingzhun.dashboard"
    verbose_name = _("Dashboard")
