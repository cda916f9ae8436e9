"""The site's own refusal pages: one 403 for every app, and the CSRF failure page.

The 400, 404 and 500 pages are the templates ``400.html``, ``404.html`` and ``500.html`` that
Django's default handlers render (with ``DEBUG`` off, as the demo runs): in the site's style,
in the user's language, with no URL list, server path or trace.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.template import loader

from jingzhun.core.audit import audit_record


def forbidden(request: HttpRequest, capability: str, **data: Any) -> HttpResponse:
    """Log a refused request (audit log) and answer with the site's 403 page."""
    audit_record(
        actor=request.user,
        action="access.denied",
        request=request,
        data={"path": request.path, "capability": capability, **data},
    )
    return HttpResponseForbidden(loader.render_to_string("403.html", {}, request))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Answer a failed CSRF check with the site's page (the reason goes to no one)."""
    return HttpResponseForbidden(loader.render_to_string("403_csrf.html", {}, request))
