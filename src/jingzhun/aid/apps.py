from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AidConfig(AppConfig):
    name = "jingzhun.aid"
    verbose_name = _("Student aid")

    def ready(self) -> None:
        # Refuse to start with a setting the computation would not understand.
        from jingzhun.aid.compute import unknown_exit_year_mode

        unknown_exit_year_mode()
