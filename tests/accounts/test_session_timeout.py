"""Sessions end after 30 idle minutes (a setting) and 8 hours after the login, whatever happens."""

from __future__ import annotations

import time

from django.conf import settings
from django.test import Client
from tests.conftest import PASSWORD, Personas

from jingzhun.core.middleware import LOGIN_AT_KEY, SEEN_AT_KEY
from jingzhun.core.models import AuditEvent


def _age(client: Client, *, seen: int = 0, login: int = 0) -> None:
    """Move the session's clocks back by the given seconds."""
    session = client.session
    session[SEEN_AT_KEY] -= seen
    session[LOGIN_AT_KEY] -= login
    session.save()


def _logged_in(personas: Personas) -> Client:
    client = Client()
    response = client.post(
        "/admin/login/?next=/", {"username": "town_a", "password": PASSWORD}, REMOTE_ADDR="10.7.0.1"
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    return client


def test_the_idle_timeout_is_thirty_minutes_and_the_absolute_one_eight_hours() -> None:
    assert settings.SESSION_IDLE_TIMEOUT == 30 * 60
    assert settings.SESSION_COOKIE_AGE == 8 * 3600


def test_a_session_idle_for_longer_than_the_timeout_is_logged_out(personas: Personas) -> None:
    client = _logged_in(personas)
    _age(client, seen=settings.SESSION_IDLE_TIMEOUT + 5, login=settings.SESSION_IDLE_TIMEOUT + 5)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    # and stays logged out
    assert client.get("/").status_code == 302
    [event] = AuditEvent.objects.filter(action="auth.session_expired")
    assert event.actor == personas.township_a and event.data["why"] == "idle"


def test_activity_within_the_timeout_keeps_the_session(personas: Personas) -> None:
    client = _logged_in(personas)
    for _ in range(3):  # three requests, each 25 minutes after the one before
        _age(client, seen=25 * 60, login=25 * 60)
        assert client.get("/").status_code == 200
    assert not AuditEvent.objects.filter(action="auth.session_expired").exists()


def test_a_busy_session_still_ends_eight_hours_after_the_login(personas: Personas) -> None:
    client = _logged_in(personas)
    _age(client, seen=60, login=settings.SESSION_COOKIE_AGE + 60)
    assert client.get("/").status_code == 302
    [event] = AuditEvent.objects.filter(action="auth.session_expired")
    assert event.data["why"] == "absolute"


def test_the_api_refuses_an_idle_session(personas: Personas) -> None:
    client = _logged_in(personas)
    assert client.get("/api/persons").status_code == 200
    _age(client, seen=settings.SESSION_IDLE_TIMEOUT + 5)
    assert client.get("/api/persons").status_code == 401


def test_a_new_login_restarts_the_clocks(personas: Personas) -> None:
    client = _logged_in(personas)
    _age(client, seen=10, login=settings.SESSION_COOKIE_AGE - 10)
    # logging in again on the same browser starts a new 8 hours
    response = client.post(
        "/admin/login/?next=/", {"username": "town_a", "password": PASSWORD}, REMOTE_ADDR="10.7.0.1"
    )
    assert response.status_code == 302
    assert abs(client.session[LOGIN_AT_KEY] - int(time.time())) < 60
    _age(client, seen=30)
    assert client.get("/").status_code == 200
