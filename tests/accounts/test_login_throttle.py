"""Login throttling (django-axes, jingzhun.accounts.throttle): per account and per address,
each with its own limit; the address is the client's, from a trusted proxy's header only."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from tests.conftest import PASSWORD, Personas

from jingzhun.core.middleware import forwarded_address
from jingzhun.core.models import AuditEvent


def _login(client: Client, username: str, password: str, ip: str, **headers: str) -> int:
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
        **headers,
    )
    return response.status_code


def test_an_account_is_locked_by_failures_from_many_addresses(personas: Personas) -> None:
    # given an attacker guessing town_a's password 4 times from each of 20 addresses
    limit = settings.AXES_FAILURE_LIMIT
    statuses = [
        _login(Client(), "town_a", f"guess-{address}-{n}", f"10.0.{address}.1")
        for address in range(20)
        for n in range(4)
    ]
    # then the account's limit-th failure, whatever the address, locks the account
    assert statuses[: limit - 1] == [200] * (limit - 1)  # the form again, with an error
    assert set(statuses[limit - 1 :]) == {429}
    # and even the right password, from an address never seen, is refused
    assert _login(Client(), "town_a", PASSWORD, "10.1.0.1") == 429
    # while another account logs in from one of the guessing addresses (4 failures there)
    assert _login(Client(), "town_b", PASSWORD, "10.0.3.1") == 302
    failures = AuditEvent.objects.filter(action="auth.login_failed")
    assert failures.count() >= limit
    assert all("guess-" not in str(e.data) for e in failures)


def test_one_address_spraying_many_accounts_is_locked(personas: Personas) -> None:
    # given one address trying one password on many accounts (existing or not)
    limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    statuses = [_login(Client(), f"user{n}", "Spring2019!", "10.2.0.1") for n in range(limit)]
    # then the address's limit-th failure locks the address
    assert statuses == [200] * (limit - 1) + [429]
    # for every account, even with the right password
    assert _login(Client(), "town_a", PASSWORD, "10.2.0.1") == 429
    # while the same account logs in from elsewhere
    assert _login(Client(), "town_a", PASSWORD, "10.2.0.2") == 302


def test_a_login_to_the_attackers_own_account_does_not_clear_the_address(
    personas: Personas,
) -> None:
    limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    for n in range(limit - 1):
        assert _login(Client(), f"user{n}", "Spring2019!", "10.3.0.1") == 200
    # when the sprayer logs in to an account they hold, from the same address
    assert _login(Client(), "town_b", PASSWORD, "10.3.0.1") == 302
    # then the address's failures still count: the next one locks it
    assert _login(Client(), "user-last", "Spring2019!", "10.3.0.1") == 429


def test_a_successful_login_clears_the_accounts_own_failures(personas: Personas) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert _login(Client(), "town_a", "wrong-password", "10.4.0.1") == 200
    assert _login(Client(), "town_a", PASSWORD, "10.4.0.2") == 302
    for _ in range(limit - 1):
        assert _login(Client(), "town_a", "wrong-password", "10.4.0.1") == 200


def test_without_a_trusted_proxy_a_forged_forwarded_header_is_ignored(
    personas: Personas,
) -> None:
    # given no trusted proxy configured, an address sending a new X-Forwarded-For each time
    assert not settings.TRUSTED_PROXY_HEADER
    limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    statuses = [
        _login(
            Client(),
            f"user{n}",
            "Spring2019!",
            "10.5.0.1",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
            HTTP_X_REAL_IP=f"198.51.100.{n}",
        )
        for n in range(limit)
    ]
    # then it is still one address, locked at its limit, and the log names the real one
    assert statuses[-1] == 429
    ips = set(AuditEvent.objects.filter(action="auth.login_failed").values_list("ip", flat=True))
    assert ips == {"10.5.0.1"}


@pytest.fixture
def behind_proxy(settings: Any) -> None:
    settings.TRUSTED_PROXY_HEADER = "X-Real-IP"
    settings.TRUSTED_PROXIES = ["127.0.0.1", "::1"]


def test_behind_the_trusted_proxy_each_client_is_counted_by_its_own_address(
    personas: Personas, behind_proxy: None
) -> None:
    # given every request coming from nginx on 127.0.0.1, which names the client in X-Real-IP
    limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    sprayer = {"HTTP_X_REAL_IP": "203.0.113.5"}
    statuses = [
        _login(Client(), f"user{n}", "Spring2019!", "127.0.0.1", **sprayer) for n in range(limit)
    ]
    # then the sprayer's address is locked
    assert statuses[-1] == 429
    assert _login(Client(), "town_a", PASSWORD, "127.0.0.1", **sprayer) == 429
    # and not everybody else behind the same proxy
    assert _login(Client(), "town_a", PASSWORD, "127.0.0.1", HTTP_X_REAL_IP="203.0.113.6") == 302
    logged = AuditEvent.objects.filter(action__startswith="auth.login").values_list("ip", flat=True)
    assert set(logged) == {"203.0.113.5", "203.0.113.6"}


def test_the_proxy_header_is_believed_only_from_a_trusted_proxy(
    personas: Personas, behind_proxy: None
) -> None:
    # when a client that is not the proxy sends the header itself
    assert _login(Client(), "nobody-here", "x", "10.6.0.1", HTTP_X_REAL_IP="203.0.113.7") == 200
    # then its own address is the one counted and logged
    [event] = AuditEvent.objects.filter(action="auth.login_failed")
    assert event.ip == "10.6.0.1"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("10.0.0.1, 203.0.113.9", "203.0.113.9"),  # the right-most is the proxy's own entry
        ("203.0.113.9, not-an-address", "203.0.113.9"),
        ("2001:db8::1", "2001:db8::1"),
        ("", None),
        ("garbage", None),
    ],
)
def test_the_forwarded_address_is_the_right_most_valid_one(
    header: str, expected: str | None
) -> None:
    assert forwarded_address(header) == expected


@pytest.mark.parametrize("who", ["county_officer", "teacher_a"])
def test_successful_login_is_audited(personas: Personas, who: str) -> None:
    user = getattr(personas, who)
    assert _login(Client(), user.username, PASSWORD, "10.0.0.9") == 302
    assert AuditEvent.objects.filter(action="auth.login", actor=user).count() == 1
