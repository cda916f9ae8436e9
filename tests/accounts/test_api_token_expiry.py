"""API tokens expire after a set number of days (default 30) and can be rotated: the old token
stops working at once."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from tests.conftest import Personas

from jingzhun.accounts.models import ApiToken
from jingzhun.accounts.services import api_token_create, api_token_rotate
from jingzhun.core.models import AuditEvent


def _get(token: str) -> int:
    return Client().get("/api/persons", headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_token_expires_after_thirty_days_by_default(personas: Personas) -> None:
    assert settings.API_TOKEN_DAYS == 30
    before = timezone.now()
    row, token = api_token_create(actor=None, user=personas.township_a, name="script")
    assert before + timedelta(days=30) <= row.expires_at <= timezone.now() + timedelta(days=30)
    assert _get(token) == 200


def test_an_expired_token_is_refused(personas: Personas) -> None:
    row, token = api_token_create(actor=None, user=personas.township_a, name="script")
    # when its time has come
    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    # then it no longer opens the API (and the refusal is logged like any other)
    assert _get(token) == 401
    assert AuditEvent.objects.filter(action="access.denied", data__status=401).exists()


def test_the_lifetime_is_a_setting(personas: Personas, settings: Any) -> None:
    settings.API_TOKEN_DAYS = 7
    row, _token = api_token_create(actor=None, user=personas.township_a, name="script")
    assert timedelta(days=6) < row.expires_at - timezone.now() <= timedelta(days=7)


def test_rotation_replaces_the_token_and_the_old_one_stops_at_once(personas: Personas) -> None:
    _row, old = api_token_create(actor=None, user=personas.township_a, name="script")
    assert _get(old) == 200
    # when the token is rotated from the command line
    out, err = StringIO(), StringIO()
    call_command("api_token", "rotate", "town_a", "--name", "script", stdout=out, stderr=err)
    new = out.getvalue().strip()
    # then the new one works and the old one does not, with no wait
    assert new.startswith("jz_") and new != old
    assert _get(new) == 200
    assert _get(old) == 401
    assert "the old one no longer works" in err.getvalue()
    [event] = AuditEvent.objects.filter(action="api_token.rotate")
    assert event.data["user"] == "town_a" and event.data["name"] == "script"
    assert new not in str(event.data) and old not in str(event.data)
    live = ApiToken.objects.filter(user=personas.township_a, name="script", revoked=False)
    assert live.count() == 1


def test_an_expired_token_can_be_rotated(personas: Personas) -> None:
    row, old = api_token_create(actor=None, user=personas.township_a, name="script")
    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(days=1))
    _new_row, new = api_token_rotate(actor=None, user=personas.township_a, name="script")
    assert (_get(old), _get(new)) == (401, 200)


def test_rotating_a_token_that_does_not_exist_is_a_clear_error(personas: Personas) -> None:
    with pytest.raises(CommandError, match="no token of that name to rotate"):
        call_command("api_token", "rotate", "town_a", "--name", "nothing", stdout=StringIO())


def test_the_list_says_when_each_token_expires(personas: Personas) -> None:
    row, _token = api_token_create(actor=None, user=personas.township_a, name="old")
    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(days=1))
    api_token_create(actor=None, user=personas.township_a, name="new")
    out = StringIO()
    call_command("api_token", "list", "town_a", stdout=out)
    lines = out.getvalue().splitlines()
    assert any("\told\texpired\t" in line and "expires " in line for line in lines)
    assert any("\tnew\tactive\t" in line for line in lines)
