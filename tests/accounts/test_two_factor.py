"""Two-factor login (TOTP, django-otp): required for county roles, optional for others; the
enrolment page shows a QR code, every later login asks for a code; an admin command resets it;
the demo relaxes the requirement with a badge."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.contrib import admin
from django.core.checks import run_checks
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.conftest import PASSWORD, Personas

from jingzhun.accounts.models import User
from jingzhun.accounts.services import api_token_create
from jingzhun.core.models import AuditEvent

REQUIRED = ["county_officer", "aid_officer", "bureau_leader", "inspector"]
OPTIONAL = ["township_a", "principal_a", "teacher_a"]


@pytest.fixture(autouse=True)
def two_factor_on(settings: Any) -> None:
    """The suite runs with the check off (most tests use force_login); these tests turn it on."""
    settings.TWO_FACTOR_ENABLED = True
    settings.DEMO = False


def login(user: User, ip: str = "10.9.0.1") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(
        "/admin/login/?next=/", {"username": user.username, "password": PASSWORD}, REMOTE_ADDR=ip
    )
    assert response.status_code == 302, "the password step"
    return client


def code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def next_step(device: TOTPDevice) -> None:
    """Let the device accept a code again, as when the next 30-second step comes."""
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    device.refresh_from_db()


def enrol(client: Client, user: User) -> TOTPDevice:
    page = client.get("/account/two-factor/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/account/two-factor/", {"code": code(device), "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    device.refresh_from_db()
    assert device.confirmed
    return device


@pytest.mark.parametrize("who", REQUIRED)
def test_a_county_role_must_enrol_before_anything_else(personas: Personas, who: str) -> None:
    user = getattr(personas, who)
    client = login(user)
    # every page sends the user to the enrolment page first
    for path in ("/", "/admin/registry/person/", "/identification/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/account/two-factor/?next=")
    # which shows a QR code (inline SVG) and the key to type in
    page = client.get("/account/two-factor/?next=/")
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert "<svg" in html and 'id="two-factor-qr"' in html
    secret = re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', html)
    assert secret is not None and len(secret.group(1).replace(" ", "")) == 32
    # a wrong code does not enrol
    wrong = client.post("/account/two-factor/", {"code": "000000"})
    assert wrong.status_code == 200 and "That code is not right." in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert client.get("/").status_code == 302
    # the app's code confirms it (once the second the wrong code costs has passed)
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    enrol(client, user)
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.two_factor_enrolled", actor=user).count() == 1


@pytest.mark.parametrize("who", ["county_officer", "township_a"])
def test_once_enrolled_every_login_asks_for_the_code(personas: Personas, who: str) -> None:
    user = getattr(personas, who)
    device = enrol(login(user), user)
    # at the next login, the password alone does not open the pages
    client = login(user)
    response = client.get("/admin/registry/person/")
    assert response.status_code == 302
    assert (
        response["Location"] == "/account/two-factor/verify/?next=%2Fadmin%2Fregistry%2Fperson%2F"
    )
    assert client.get("/account/two-factor/").status_code == 302  # no second enrolment
    # a wrong code is refused and logged
    wrong = client.post("/account/two-factor/verify/", {"code": "123456"})
    assert wrong.status_code == 200 and "That code is not right." in wrong.content.decode()
    assert AuditEvent.objects.filter(action="auth.two_factor_failed", actor=user).count() == 1
    assert client.get("/").status_code == 302
    # the right code opens the page asked for, under a new session key
    next_step(device)
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    before = client.session.session_key
    ok = client.post(
        "/account/two-factor/verify/", {"code": code(device), "next": "/admin/registry/person/"}
    )
    assert ok.status_code == 302 and ok["Location"] == "/admin/registry/person/"
    assert client.session.session_key != before
    assert client.get("/admin/registry/person/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.two_factor_verified", actor=user).count() == 1


def test_a_code_is_not_accepted_twice(personas: Personas) -> None:
    user = personas.county_officer
    device = enrol(login(user), user)
    used = code(device)  # the code that confirmed the device, in the same 30 seconds
    client = login(user)
    response = client.post("/account/two-factor/verify/", {"code": used})
    assert response.status_code == 200
    assert client.get("/").status_code == 302


def test_guessing_codes_is_slowed_down(personas: Personas) -> None:
    user = personas.county_officer
    device = enrol(login(user), user)
    next_step(device)
    client = login(user)
    client.post("/account/two-factor/verify/", {"code": "111111"})
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    # after five wrong codes in a row, the next try waits 2**4 = 16 s (and doubles after that)
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=5, throttling_failure_timestamp=timezone.now()
    )
    response = client.post("/account/two-factor/verify/", {"code": code(device)})
    assert response.status_code == 200
    assert "Too many wrong codes" in response.content.decode()
    assert client.get("/").status_code == 302
    assert AuditEvent.objects.filter(action="auth.two_factor_failed", data__throttled=True).exists()


@pytest.mark.parametrize("who", OPTIONAL)
def test_other_roles_may_log_in_without_it_and_may_enrol(personas: Personas, who: str) -> None:
    user = getattr(personas, who)
    client = login(user)
    assert client.get("/").status_code in (200, 302)
    assert not client.get("/").get("Location", "").startswith("/account/")
    page = client.get("/account/two-factor/")
    assert page.status_code == 200 and "<svg" in page.content.decode()


def test_the_api_refuses_an_unverified_session_but_takes_a_token(personas: Personas) -> None:
    user = personas.county_officer
    client = login(user)
    assert client.get("/api/persons").status_code == 401
    _row, token = api_token_create(actor=None, user=user, name="script")
    response = client.get("/api/persons", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_the_reset_command_makes_the_user_enrol_again(personas: Personas) -> None:
    user = personas.county_officer
    client = login(user)
    enrol(client, user)
    assert client.get("/").status_code == 200
    out = StringIO()
    call_command("two_factor_reset", "county", stdout=out)
    assert "Removed 1 two-factor device(s) of county" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=user).exists()
    # the session verified by the removed device is not verified any more
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/account/two-factor/")
    [event] = AuditEvent.objects.filter(action="auth.two_factor_reset")
    assert (event.object_id, event.actor_name, event.data) == (
        str(user.pk),
        "cli",
        {"devices": 1},
    )


def test_devices_and_their_secrets_are_not_in_the_admin() -> None:
    assert TOTPDevice not in admin.site._registry


def test_the_demo_relaxes_the_requirement_with_a_badge(personas: Personas, settings: Any) -> None:
    settings.DEMO = True
    settings.UNFOLD = {
        **settings.UNFOLD,
        "ENVIRONMENT": "jingzhun.accounts.two_factor.demo_environment",
    }
    client = login(personas.county_officer)
    page = client.get("/")
    assert page.status_code == 200
    assert "Demo: two-factor login not required" in page.content.decode()
    # and a deployment check refuses demo mode
    errors = [m.id for m in run_checks(include_deployment_checks=True)]
    assert "jingzhun.E201" in errors
