from __future__ import annotations

import time
from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def start_session_clock(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Start a new login's idle and absolute clocks (jingzhun.core.middleware)."""
    from jingzhun.core.middleware import LOGIN_AT_KEY, SEEN_AT_KEY

    session = getattr(request, "session", None)
    if session is None:
        return
    now = int(time.time())
    session[LOGIN_AT_KEY] = now
    session[SEEN_AT_KEY] = now


class AccountsConfig(AppConfig):
    name = "jingzhun.accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from jingzhun.accounts import two_factor  # noqa: F401 (registers its deploy check)

        user_logged_in.connect(start_session_clock, dispatch_uid="jingzhun-session-clock")
