from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AidConfig(AppConfig):
    name = "jingzhun.aid"
    verbose_name = _("Student aid")
