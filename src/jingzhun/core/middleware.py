"""Request middleware: the client's real address behind a trusted proxy, and session time limits.

Client address. Behind nginx every request comes from the proxy (127.0.0.1), so the address
django-axes throttles by and the audit log records would be the proxy's: one client could lock
everybody out, and the log would not say who did what. When ``TRUSTED_PROXY_HEADER``
(``JINGZHUN_TRUSTED_PROXY_HEADER``, e.g. ``X-Real-IP``) is set and a request comes from one of
``TRUSTED_PROXIES`` (``JINGZHUN_TRUSTED_PROXIES``, default the loopback addresses), the client
address is taken from that header (the right-most valid address of a list, the one the proxy
added) and put in ``REMOTE_ADDR``, where every consumer reads it. Otherwise forwarding headers
are ignored: a client cannot choose its own address by sending ``X-Forwarded-For``; and
``X-Forwarded-Proto`` (``SECURE_PROXY_SSL_HEADER``) is dropped unless a trusted proxy sent it.

Session time limits. A session ends after ``SESSION_IDLE_TIMEOUT`` seconds without a request
(``JINGZHUN_SESSION_IDLE_MINUTES``, default 30) and ``SESSION_COOKIE_AGE`` seconds after the
login whatever the activity (8 hours). The request then continues as an anonymous one (a page
asks for the login again, the API answers 401), and the audit log says why the session ended.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from jingzhun.core.audit import audit_record

ORIGINAL_ADDRESS_KEY = "JINGZHUN_PROXY_ADDR"  # request.META: the address the request came from
LOGIN_AT_KEY = "_jz_login_at"
SEEN_AT_KEY = "_jz_seen_at"
# The idle clock is written back to the session at most this often (seconds), so that reading
# pages does not write the session on every request.
SEEN_RESOLUTION = 60


def _meta_name(header: str) -> str:
    """Return the request.META key of an HTTP header name (X-Real-IP -> HTTP_X_REAL_IP)."""
    return "HTTP_" + header.strip().upper().replace("-", "_")


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def forwarded_address(value: str) -> str | None:
    """Return the right-most valid address of a forwarding header's list, else None.

    nginx appends the address it saw to ``X-Forwarded-For``; what comes before it is what the
    client claimed, so only the right-most entry is the proxy's word.
    """
    for part in reversed(value.split(",")):
        found = _address(part)
        if found is not None:
            return found
    return None


def from_trusted_proxy(remote_addr: str) -> bool:
    """Whether a request's peer address is one of the configured trusted proxies."""
    peer = _address(remote_addr)
    if peer is None:
        return False
    for entry in getattr(settings, "TRUSTED_PROXIES", ()):
        try:
            if ipaddress.ip_address(peer) in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


class TrustedProxyMiddleware:
    """Put the client's address in REMOTE_ADDR, from the trusted proxy's header only."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        peer = str(meta.get("REMOTE_ADDR", ""))
        header = getattr(settings, "TRUSTED_PROXY_HEADER", "")
        trusted = bool(header) and from_trusted_proxy(peer)
        if trusted:
            client = forwarded_address(str(meta.get(_meta_name(header), "")))
            if client is not None:
                meta[ORIGINAL_ADDRESS_KEY] = peer
                meta["REMOTE_ADDR"] = client
        else:
            ssl_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
            if ssl_header:
                meta.pop(ssl_header[0], None)
        return self.get_response(request)


class SessionTimeoutMiddleware:
    """End a session after the idle timeout, or after the absolute one since the login."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self._check(request, user)
        return self.get_response(request)

    def _check(self, request: HttpRequest, user: object) -> None:
        session = request.session
        now = int(time.time())
        login_at = session.get(LOGIN_AT_KEY)
        seen_at = session.get(SEEN_AT_KEY)
        if not isinstance(login_at, int) or not isinstance(seen_at, int):
            session[LOGIN_AT_KEY] = login_at if isinstance(login_at, int) else now
            session[SEEN_AT_KEY] = now
            return
        why = ""
        if now - seen_at > int(settings.SESSION_IDLE_TIMEOUT):
            why = "idle"
        elif now - login_at > int(settings.SESSION_COOKIE_AGE):
            why = "absolute"
        if why:
            logout(request)  # flushes the session; request.user becomes anonymous
            audit_record(
                actor=user,
                action="auth.session_expired",
                target=user,
                request=request,
                data={"why": why, "idle_seconds": now - seen_at},
            )
            return
        if now - seen_at >= SEEN_RESOLUTION:
            session[SEEN_AT_KEY] = now
