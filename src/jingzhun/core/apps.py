from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "jingzhun.core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from jingzhun.core.db import check_sqlite_pragmas

        connection_created.connect(check_sqlite_pragmas, dispatch_uid="jingzhun-sqlite-pragmas")
