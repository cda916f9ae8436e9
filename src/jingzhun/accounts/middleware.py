"""Hold a logged-in but unverified session at the two-factor pages (see two_factor.py)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from jingzhun.accounts import two_factor


class TwoFactorMiddleware:
    """Send a session that has not given its second factor to the code or enrolment page.

    Install after django-otp's ``OTPMiddleware``. A user with a confirmed device must give a
    code; a user whose role requires two-factor login and who has no device must enrol. Until
    then every page redirects there (the two-factor pages, logging out, switching the language
    and static files excepted), and the API sees the session as anonymous (401). A request with
    an ``Authorization`` header is left to the API's token check.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if two_factor.enabled():
            held = self._hold(request)
            if held is not None:
                return held
        return self.get_response(request)

    def _exempt(self, path: str) -> bool:
        free = (
            reverse("two_factor:verify"),
            reverse("two_factor:enrol"),
            reverse("admin:logout"),
            reverse("set_language"),
            reverse("setup"),
            "/" + settings.STATIC_URL.lstrip("/"),
        )
        return path.startswith(free)

    def _hold(self, request: HttpRequest) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or user.is_verified():  # type: ignore[union-attr,attr-defined]
            return None
        if self._exempt(request.path):
            return None
        has_device = two_factor.confirmed_device(user) is not None
        if not has_device and not two_factor.required(user):
            return None
        if request.path.startswith("/api/"):
            if "HTTP_AUTHORIZATION" not in request.META:
                request.user = AnonymousUser()
            return None
        target = reverse("two_factor:verify" if has_device else "two_factor:enrol")
        if request.method in ("GET", "HEAD"):
            target += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(target)
