"""The JSON API under /api/ (django-ninja; OpenAPI docs at /api/docs).

Two ways in: ``Authorization: Bearer <token>`` with a token made by
``jingzhun api-token create``, or the browser session of a logged-in user
(CSRF stays on for it). A wrong or revoked token is a 401 even when a session
exists. Every refused request (401/403) is written to the audit log.

No whole ID or bank number travels in an address (it would stay in access logs and
browser history): a request whose path or query string holds one is a 400, before
anything else is done; the ID search is ``POST /api/persons/search``, the number in the body.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer, SessionAuth

from jingzhun.accounts.services import api_token_authenticate
from jingzhun.aid.api import router as aid_router
from jingzhun.core.audit import audit_record
from jingzhun.core.redact import holds_whole_number
from jingzhun.duty.api import router as duty_router
from jingzhun.funds.api import router as funds_router
from jingzhun.identification.api import router as identification_router
from jingzhun.registry.api import router as registry_router
from jingzhun.schools.api import router as schools_router


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>``; only the token's SHA-256 is stored."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(token=token.strip())
        if user is None:
            # Raise rather than return None, so a bad token never falls back to the session.
            raise AuthenticationError()
        return user


api = NinjaAPI(
    title="Jingzhun API",
    version="1",
    description=(
        "Read access to the poverty registry and the student rolls, limited to the caller's "
        "jurisdiction. ID and bank numbers are shown masked only."
    ),
    urls_namespace="api",
    auth=[BearerToken(), SessionAuth(csrf=True)],
    docs_url="/docs",
    docs_decorator=staff_member_required,
)


def address_holds_number(request: HttpRequest) -> bool:
    """Return whether the request's path, or a name or value of its query string, holds a
    whole ID or bank number (``jingzhun.core.redact.holds_whole_number``)."""
    if holds_whole_number(request.path):
        return True
    return any(
        holds_whole_number(name) or any(holds_whole_number(value) for value in values)
        for name, values in request.GET.lists()
    )


def refuse_numbers_in_address(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap an operation: an address holding a whole number is a 400 that does not echo it."""

    @wraps(run)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if address_holds_number(request):
            message = _(
                "An ID or bank number is never sent in an address (it would stay in logs and "
                "browser history). Search by ID number with POST /api/persons/search, the "
                "number in the JSON body."
            )
            return api.create_response(request, {"detail": message}, status=400)
        return run(request, *args, **kwargs)

    return guarded


# "view": around the whole operation, before authentication and validation.
api.add_decorator(refuse_numbers_in_address, mode="view")
api.add_router("/", registry_router)
api.add_router("/", schools_router)
api.add_router("/", identification_router)
api.add_router("/", aid_router)
api.add_router("/", duty_router)
api.add_router("/", funds_router)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """Answer an HTTP error as JSON; log refused access (401, 403) to the audit trail."""
    if exc.status_code in (401, 403):
        actor = getattr(request, "auth", None) or getattr(request, "user", None)
        audit_record(
            actor=actor,
            action="access.denied",
            object_type="api",
            object_id=request.path[:64],
            data={
                "method": request.method,
                "path": request.path,
                "status": exc.status_code,
                "reason": str(exc),
            },
            request=request,
        )
    response = api.create_response(request, {"detail": str(exc)}, status=exc.status_code)
    if exc.status_code == 401:
        response["WWW-Authenticate"] = 'Bearer realm="jingzhun"'
    return response
