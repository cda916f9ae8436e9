from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchoolsConfig(AppConfig):
    name = "jingzhun.schools"
    verbose_name = _("Schools and rolls")

    def ready(self) -> None:
        from jingzhun.core.importing import register
        from jingzhun.core.sensitive import register_sealed
        from jingzhun.schools import models
        from jingzhun.schools.elsewhere import OUTSIDE_IMPORTER, UNIVERSITY_IMPORTER
        from jingzhun.schools.importers import ROLLS_IMPORTER, SCHOOL_IMPORTER

        register(SCHOOL_IMPORTER)
        register(ROLLS_IMPORTER)
        register(UNIVERSITY_IMPORTER)
        register(OUTSIDE_IMPORTER)
        register_sealed(models.Student, "id", "id")
        register_sealed(models.Student, "roll", "roll")
