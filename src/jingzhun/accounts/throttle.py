"""Login throttling per account and per client address, each with its own limit.

django-axes counts failed logins by the parameters in ``AXES_LOCKOUT_PARAMETERS``; with
``["username", "ip_address"]`` an account and an address are counted separately, but axes holds
both to one limit. An address may serve a whole office (one NAT, one proxy), so it gets a
higher one:

- an account is locked after ``AXES_FAILURE_LIMIT`` failures (``JINGZHUN_LOGIN_FAILURE_LIMIT``,
  default 5) within ``AXES_COOLOFF_TIME``, from whatever addresses they came;
- an address is locked after ``LOGIN_ADDRESS_FAILURE_LIMIT`` failures
  (``JINGZHUN_LOGIN_ADDRESS_FAILURE_LIMIT``, default 20) within the same time, against
  whatever accounts (password spraying).

A successful login clears the account's own failures only, never the address's: an attacker
who holds one account cannot reset the count of an address that sprays others. The address is
``REMOTE_ADDR``, which ``jingzhun.core.middleware.TrustedProxyMiddleware`` sets from the trusted
proxy's header when the platform is configured to sit behind one.
"""

from __future__ import annotations

from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import QuerySet, Sum


def _total(attempts: QuerySet[AccessAttempt]) -> int:
    return int(attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0)


class AccountAndAddressHandler(AxesDatabaseHandler):
    """axes' database handler with one limit per account and another per address."""

    def failures_by(
        self, request: Any, credentials: dict[str, Any] | None = None
    ) -> dict[str, int]:
        """Return the recent failures of the request's account and of its address."""
        attempts = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
        username = get_client_username(request, credentials)
        return {
            "account": _total(attempts.filter(username=username)) if username else 0,
            "address": _total(attempts.filter(ip_address=request.axes_ip_address)),
        }

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        """Return the failures counted against ``AXES_FAILURE_LIMIT``.

        That is the account's own count, or the limit itself once the address has reached its
        own (higher) limit, so that axes' one comparison applies both.
        """
        counts = self.failures_by(request, credentials)
        if counts["address"] >= int(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
            return max(counts["account"], int(settings.AXES_FAILURE_LIMIT))
        return counts["account"]

    def reset_user_attempts(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        """After a successful login, clear the account's failures (not the address's)."""
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _detail = AccessAttempt.objects.filter(username=username).delete()
        return int(count)
