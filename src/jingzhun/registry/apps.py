from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "jingzhun.registry"
    verbose_name = _("Poverty registry")

    def ready(self) -> None:
        from jingzhun.core.importing import register
        from jingzhun.registry.importers import AREA_IMPORTER, REGISTRY_IMPORTER

        register(AREA_IMPORTER)
        register(REGISTRY_IMPORTER)
