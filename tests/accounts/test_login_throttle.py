"""Login throttling (django-axes) by user and IP, and the audit of failures."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from tests.conftest import PASSWORD, Personas

from jingzhun.core.models import AuditEvent


def _login(client: Client, username: str, password: str, ip: str) -> int:
    response = client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )
    return response.status_code


def test_locked_after_the_failure_limit_for_that_user_and_ip(personas: Personas) -> None:
    client = Client()
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert (
            _login(client, "town_a", "wrong-password", "10.0.0.5") == 200
        )  # form again, with an error
    assert (
        _login(client, "town_a", "wrong-password", "10.0.0.5") == 429
    )  # the limit-th failure locks
    # then even the right password is refused from that address
    assert _login(client, "town_a", PASSWORD, "10.0.0.5") == 429
    # while the same user from another address, and another user from this one, may log in
    assert _login(Client(), "town_a", PASSWORD, "10.0.0.6") == 302
    assert _login(Client(), "town_b", PASSWORD, "10.0.0.5") == 302
    failures = AuditEvent.objects.filter(action="auth.login_failed")
    assert failures.count() >= limit
    assert all("wrong-password" not in str(e.data) for e in failures)


@pytest.mark.parametrize("who", ["county_officer", "teacher_a"])
def test_successful_login_is_audited(personas: Personas, who: str) -> None:
    user = getattr(personas, who)
    assert _login(Client(), user.username, PASSWORD, "10.0.0.9") == 302
    assert AuditEvent.objects.filter(action="auth.login", actor=user).count() == 1
