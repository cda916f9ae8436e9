from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TeachersConfig(AppConfig):
    name = "jingzhun.teachers"
    verbose_name = _("Teachers")

    def ready(self) -> None:
        from jingzhun.core.importing import register
        from jingzhun.core.sensitive import register_sealed
        from jingzhun.teachers import models
        from jingzhun.teachers.importers import TEACHERS_IMPORTER

        register(TEACHERS_IMPORTER)
        register_sealed(models.Teacher, "id", "id")
