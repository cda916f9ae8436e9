"""Pages outside the model admin: the home page, revealing a whole number, and login auditing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from unfold.widgets import UnfoldAdminTextareaWidget

from jingzhun.core import permissions
from jingzhun.core.audit import audit_record
from jingzhun.core.permissions import user_can
from jingzhun.core.reveal import (
    REASON_MAX_LENGTH,
    REASON_MIN_LENGTH,
    RevealLimitReached,
    revealable_by_name,
    sensitive_reveal,
)
from jingzhun.core.scoping import get_object_for_user


def home(request: HttpRequest) -> HttpResponse:
    """Render the home dashboard: the back-office index, with its login check, at the root."""
    return admin.site.admin_view(admin.site.index)(request)


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        min_length=REASON_MIN_LENGTH,
        max_length=REASON_MAX_LENGTH,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}),
        help_text=gettext_lazy("Why you need the whole number. It is kept in the audit log."),
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def reveal(request: HttpRequest, model: str, pk: int, field: str) -> HttpResponse:
    """Ask for a reason, then show one whole ID or bank number once (and log that it was shown)."""
    spec = revealable_by_name(model, field)
    if spec is None:
        raise Http404
    obj = get_object_for_user(spec.model._default_manager.all(), request.user, pk=pk)
    allowed = user_can(request.user, permissions.VIEW_FULL_ID)
    if request.method != "POST" and not allowed:
        raise PermissionDenied
    form = RevealForm(request.POST if request.method == "POST" else None)
    value = ""
    status = 200
    # A user without the permission who posts anyway is refused by the service, which logs it.
    if request.method == "POST" and (form.is_valid() or not allowed):
        try:
            value = sensitive_reveal(
                user=request.user,
                obj=obj,
                field=field,
                reason=form.cleaned_data.get("reason", ""),
                request=request,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        except RevealLimitReached as exc:  # the service wrote the alert
            form.add_error(None, str(exc))
            status = 429
    opts = obj._meta
    context = {
        **admin.site.each_context(request),
        "title": _("Show whole number"),
        "object": obj,
        # The header's breadcrumbs then name the app by its (translated) verbose name.
        "opts": opts,
        "what": spec.label,
        "masked": getattr(obj, f"{spec.prefix}_masked"),
        "form": form,
        "value": value,
        "back_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]),
    }
    return TemplateResponse(request, "core/reveal.html", context, status=status)


def audit_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Record a successful login (connected to ``user_logged_in``)."""
    audit_record(actor=user, action="auth.login", target=user, request=request)


def audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """Record a failed login with the user name tried (connected to ``user_login_failed``)."""
    username = str(credentials.get("username", ""))[:150]
    audit_record(
        actor=None, action="auth.login_failed", request=request, data={"username": username}
    )
