from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "jingzhun.registry"
    verbose_name = _("Poverty registry")

    def ready(self) -> None:
        from jingzhun.core.importing import register
        from jingzhun.core.sensitive import register_sealed
        from jingzhun.registry import models
        from jingzhun.registry.importers import (
            AREA_IMPORTER,
            POOR_VILLAGES_IMPORTER,
            REGISTRY_IMPORTER,
        )

        register(AREA_IMPORTER)
        register(REGISTRY_IMPORTER)
        register(POOR_VILLAGES_IMPORTER)
        register_sealed(models.Person, "id", "id")
        register_sealed(models.Person, "guardian_id", "id")
        register_sealed(models.Household, "bank", "bank")
