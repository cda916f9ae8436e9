from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundsConfig(AppConfig):
    name = "jingzhun.funds"
    verbose_name = _("Funds and payments")

    def ready(self) -> None:
        from jingzhun.core.sensitive import register_sealed
        from jingzhun.funds import models

        register_sealed(models.Payment, "account", "bank")
