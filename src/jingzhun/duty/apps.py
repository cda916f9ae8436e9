from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DutyConfig(AppConfig):
    name = "jingzhun.duty"
    verbose_name = _("Responsibility and dropout casework")

    def ready(self) -> None:
        from jingzhun.core.importing import register
        from jingzhun.duty.importers import STAFF_IMPORTER

        register(STAFF_IMPORTER)
