"""The JSON API under /api/ (django-ninja; OpenAPI docs at /api/docs).

Two ways in: ``Authorization: Bearer <token>`` with a token made by
``jingzhun api-token create``, or the browser session of a logged-in user
(CSRF stays on for it). A wrong or revoked token is a 401 even when a session
exists. Every refused request (401/403) is written to the audit log.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer, SessionAuth

from jingzhun.accounts.services import api_token_authenticate
from jingzhun.aid.api import router as aid_router
from jingzhun.core.audit import audit_record
from jingzhun.duty.api import router as duty_router
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
api.add_router("/", registry_router)
api.add_router("/", schools_router)
api.add_router("/", identification_router)
api.add_router("/", aid_router)
api.add_router("/", duty_router)


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
