"""Whole pages kept for their user while the data does not change (settings.PAGE_CACHE_PATHS).

The county's home page and the coverage pages are opened again and again between changes of
the data. Their figures are already cached per scope (jingzhun.core.cache), but rendering the
page around them (the back-office layout, the sidebar, the tables) still costs tens of
milliseconds of CPU a request. This middleware keeps the rendered HTML of those pages, per
user, under a key that names everything the page depends on (as jingzhun.core.cache does):

- the data version (the latest audit event that records a change),
- the user (their name is on the page) and their scope, and whether their second factor is
  verified,
- the language, the day, the path and the whole query string (filters, page number).

A stored page holds what its user may see (children's names among it), so it is sealed as
figures are (jingzhun.core.cache.seal_value: AES-GCM under the field keys, the cache key bound
as associated data) before it reaches the cache: the cache files or rows hold no readable page, and a page stored under one key cannot
be served under another. A page that no longer opens (a rotated key) is rendered again.

Nothing is invalidated by hand: a change makes a new key. A stored page is also dropped after
PAGE_TIMEOUT seconds, which bounds how long anything that changes without an audit event
could stay on screen.

Everything outside the view still runs on every request: the session and its time limits,
the login and second-factor checks, throttling, the security headers. Two values are
different in every response and are never served from the cache: the CSRF token (each form's
hidden field) and the Content-Security-Policy nonce (each inline script). They are replaced by
markers when a page is stored and filled in for the request that reads it.

Never cached: anything but a GET of a listed path by a signed-in user, a request with
messages waiting to be shown, an export (``export=`` in the query: every export is audited),
and any response that is not a plain 200 HTML page.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone, translation

from jingzhun.core.cache import data_version, open_value, scope_parts, seal_value

# Seconds a stored page is kept at most, whatever happens.
PAGE_TIMEOUT = 10 * 60
# Markers for the per-request values (private-use characters never found in a page).
CSRF_MARK = "\ue000jz-csrf\ue000"
NONCE_MARK = "\ue000jz-nonce\ue000"
# A masked CSRF token as Django writes it into a page: 64 letters and digits.
_TOKEN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")
# Headers a stored page keeps (the rest belong to the response that first rendered it).
_KEPT_HEADERS = ("Content-Type", "Cache-Control", "Expires", "Content-Language", "Vary")
HIT_HEADER = "X-Jingzhun-Page"


def _messages_waiting(request: HttpRequest) -> bool:
    """Whether the user has messages to be shown (the page that shows them is not shared)."""
    if "messages" in request.COOKIES:
        return True
    session = getattr(request, "session", None)
    return bool(session is not None and session.get("_messages"))


def eligible(request: HttpRequest) -> bool:
    """Whether the page answering *request* may be read from or written to the cache."""
    if request.method != "GET" or request.path_info not in settings.PAGE_CACHE_PATHS:
        return False
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    if "export" in request.GET or _messages_waiting(request):
        return False
    return True


def page_key(request: HttpRequest) -> str:
    """Return the key of the page *request* asks for, as its user sees it now."""
    user: Any = request.user
    verified = getattr(user, "is_verified", None)
    described = repr(
        (
            data_version(),
            user.pk,
            scope_parts(user),
            bool(verified()) if callable(verified) else None,
            translation.get_language() or "",
            timezone.localdate().isoformat(),
            request.path_info,
            sorted(request.GET.lists()),
        )
    )
    return "jz:page:" + hashlib.sha256(described.encode()).hexdigest()


def _is_token_for(token: str, secret: str) -> bool:
    # Django's own unmasking (private, stable since 4.1): a token is one of this user's if it
    # unmasks to their secret; any other 64 letters are page text and stay.
    from django.middleware.csrf import _unmask_cipher_token  # type: ignore[attr-defined]

    try:
        return bool(secret) and _unmask_cipher_token(token) == secret
    except Exception:  # noqa: BLE001 - not a token: leave the text as it is
        return False


def freeze(request: HttpRequest, response: HttpResponse) -> dict[str, Any] | None:
    """Return what to store of *response*, its per-request values replaced by markers."""
    content = response.content.decode(response.charset or "utf-8")
    if CSRF_MARK in content or NONCE_MARK in content:
        return None
    secret = str(request.META.get("CSRF_COOKIE") or "")
    content = _TOKEN.sub(
        lambda m: CSRF_MARK if _is_token_for(m.group(0), secret) else m.group(0), content
    )
    nonce = getattr(request, "_csp_nonce", None)
    if nonce:
        content = content.replace(str(nonce), NONCE_MARK)
    headers = {name: response[name] for name in _KEPT_HEADERS if response.has_header(name)}
    return {"content": content, "headers": headers, "charset": response.charset}


def thaw(request: HttpRequest, stored: dict[str, Any]) -> HttpResponse:
    """Return the stored page with this request's CSRF token and nonce filled in."""
    content: str = stored["content"]
    if CSRF_MARK in content:
        content = content.replace(CSRF_MARK, get_token(request))
    if NONCE_MARK in content:
        content = content.replace(NONCE_MARK, str(request.csp_nonce))  # type: ignore[attr-defined]
    response = HttpResponse(content.encode(stored["charset"] or "utf-8"))
    for name, value in stored["headers"].items():
        response[name] = value
    response[HIT_HEADER] = "cached"
    return response


class PageCacheMiddleware:
    """Serve the listed pages from the cache, per user and data version (module docstring).

    Placed last in MIDDLEWARE, so that every check before the view runs on every request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not eligible(request):
            return self.get_response(request)
        key = page_key(request)
        stored = open_value(key, cache.get(key))
        if isinstance(stored, dict):
            return thaw(request, stored)
        response = self.get_response(request)
        if (
            response.status_code == 200
            and not response.streaming
            and response.get("Content-Type", "").startswith("text/html")
            and not _messages_waiting(request)
            and not response.cookies.get("messages")
        ):
            frozen = freeze(request, response)
            if frozen is not None:
                cache.set(key, seal_value(key, frozen), PAGE_TIMEOUT)
        return response
