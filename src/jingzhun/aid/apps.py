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
        # Name the aid programmes on the fund ledger's pages (funds imports no app).
        from jingzhun.aid.selectors_ui import programme_labels_for
        from jingzhun.funds.ledger import register_programme_labels

        register_programme_labels(programme_labels_for)
