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
        # Name the allowance on the fund ledger's pages (funds imports no app).
        from django.utils.translation import gettext

        from jingzhun.funds.ledger import register_programme_labels
        from jingzhun.teachers.services import ALLOWANCE_PROGRAMME

        register_programme_labels(
            lambda county, year: {ALLOWANCE_PROGRAMME: gettext("Rural teacher living allowance")}
        )
