from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "jingzhun.core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed
        from django.db.backends.signals import connection_created

        from jingzhun.core.db import check_sqlite_pragmas
        from jingzhun.core.views import audit_login, audit_login_failed

        connection_created.connect(check_sqlite_pragmas, dispatch_uid="jingzhun-sqlite-pragmas")
        # Framework integration, not a model side effect: logins happen in Django's own view.
        user_logged_in.connect(audit_login, dispatch_uid="jingzhun-audit-login")
        user_login_failed.connect(audit_login_failed, dispatch_uid="jingzhun-audit-login-failed")
