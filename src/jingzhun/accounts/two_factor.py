"""Two-factor login with a TOTP app (django-otp): who must use it, enrolment, reset.

Holders of the county roles in ``TWO_FACTOR_ROLES`` (county administrator, aid centre officer,
bureau leader, inspector) and superusers must enrol an authenticator app before they can use the
platform; anyone else may enrol, and once enrolled is asked for a code at every login too.
The login itself stays the admin's (user name and password, throttled by django-axes); right
after it :class:`jingzhun.accounts.middleware.TwoFactorMiddleware` sends an unverified session to
the code page, or to the enrolment page when a required user has no device yet.

``JINGZHUN_DEMO=1`` (what ``make demo`` sets) relaxes the requirement, so a newcomer can log in
with the printed passwords alone; every admin page then carries a "demo" badge, and
``check --deploy`` refuses it. The test suite turns the whole check off
(``TWO_FACTOR_ENABLED``), except in the tests about it.

``jingzhun two-factor-reset USER`` removes a user's devices (a lost phone): the user enrols again
at the next login.
"""

from __future__ import annotations

from base64 import b32encode
from typing import Any

import segno
from django.conf import settings
from django.core import checks
from django.db import transaction
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from jingzhun.core.audit import audit_record

DEVICE_NAME = "authenticator"


def enabled() -> bool:
    """Whether logins are checked for a second factor at all (off only under test)."""
    return bool(getattr(settings, "TWO_FACTOR_ENABLED", True))


def required(user: Any) -> bool:
    """Whether this user must log in with a second factor (enrolling first if need be)."""
    if not enabled() or getattr(settings, "DEMO", False):
        return False
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or user.role in settings.TWO_FACTOR_ROLES)


def confirmed_device(user: Any) -> TOTPDevice | None:
    """Return the user's confirmed TOTP device, if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def pending_device(user: Any) -> TOTPDevice:
    """Return the device being enrolled (not yet confirmed), creating it if none.

    The same secret is shown until it is confirmed, so reloading the page does not invalidate
    what the app has already scanned.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def secret_text(device: TOTPDevice) -> str:
    """Return the device's secret in base32, in groups of four, for typing into an app."""
    text = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_svg(device: TOTPDevice) -> SafeString:
    """Return the enrolment QR code (the otpauth:// URL) as inline SVG."""
    svg = segno.make(device.config_url, error="m").svg_inline(scale=4, border=2)
    return mark_safe(svg)  # noqa: S308  # nosec B308 B703  # segno's own markup of a URL we made


@transaction.atomic
def device_confirm(*, user: Any, device_id: int, token: str, request: Any = None) -> bool:
    """Confirm a pending device with a code from the app; return whether the code was right."""
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(pk=device_id, user=user, confirmed=False)
        .first()
    )
    if device is None or not device.verify_token(token.strip()):
        audit_record(actor=user, action="auth.two_factor_failed", target=user, request=request)
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    # Only one device at a time: an older one (there is none unless reset failed) goes.
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    audit_record(actor=user, action="auth.two_factor_enrolled", target=user, request=request)
    return True


@transaction.atomic
def device_reset(*, actor: Any, user: Any) -> int:
    """Remove all of a user's devices; return how many. The user enrols again at next login."""
    count, _detail = TOTPDevice.objects.filter(user=user).delete()
    audit_record(
        actor=actor,
        action="auth.two_factor_reset",
        target=user,
        actor_name="" if actor else "cli",
        data={"devices": count},
    )
    return count


def demo_environment(request: Any) -> list[str]:
    """The header badge of every admin page while ``JINGZHUN_DEMO`` relaxes two-factor login."""
    return [_("Demo: two-factor login not required"), "warning"]


@checks.register(checks.Tags.security, deploy=True)
def check_demo_off(**kwargs: Any) -> list[checks.CheckMessage]:
    """A deployment must not run in demo mode, which does not require two-factor login."""
    if getattr(settings, "DEMO", False):
        return [
            checks.Error(
                "JINGZHUN_DEMO is set: county roles may log in without two-factor login.",
                hint="Unset JINGZHUN_DEMO outside a demonstration.",
                id="jingzhun.E201",
            )
        ]
    return []
