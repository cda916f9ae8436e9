"""The two-factor pages: enrol an authenticator app, and give its code after the password."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import verify_token
from unfold.widgets import UnfoldAdminTextInputWidget

from jingzhun.accounts import two_factor
from jingzhun.core.audit import audit_record


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=gettext_lazy("Code from your authenticator app"),
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        error_messages={"invalid": gettext_lazy("The code has 6 digits.")},
        widget=UnfoldAdminTextInputWidget(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": "",
                "spellcheck": "false",
            }
        ),
    )


def _next_url(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return "/"


def _verified(request: HttpRequest, device: Any) -> HttpResponse:
    """Mark the session verified by `device` under a new session key, then go on."""
    otp_login(request, device)
    request.session.cycle_key()
    return HttpResponseRedirect(_next_url(request))


def _render(request: HttpRequest, template: str, **context: Any) -> HttpResponse:
    base = {**admin.site.each_context(request), "next": _next_url(request)}
    return TemplateResponse(request, template, {**base, **context})


@never_cache
@sensitive_post_parameters("code")
@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Ask for the authenticator's code after the password."""
    user = request.user
    if user.is_verified():  # type: ignore[union-attr]
        return HttpResponseRedirect(_next_url(request))
    device = two_factor.confirmed_device(user)
    if device is None:
        return redirect("two_factor:enrol")
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        # Each wrong code doubles the wait before the next one is even tried (django-otp).
        allowed, _why = device.verify_is_allowed()
        code = form.cleaned_data["code"].strip()
        accepted = verify_token(user, device.persistent_id, code) if allowed else None
        if accepted is not None:
            audit_record(
                actor=user, action="auth.two_factor_verified", target=user, request=request
            )
            return _verified(request, accepted)
        audit_record(
            actor=user,
            action="auth.two_factor_failed",
            target=user,
            request=request,
            data={"throttled": not allowed},
        )
        form.add_error(
            "code",
            _("That code is not right.")
            if allowed
            else _("Too many wrong codes: wait a little, then try the newest code."),
        )
    return _render(
        request, "accounts/two_factor_verify.html", title=_("Two-factor login"), form=form
    )


@never_cache
@sensitive_post_parameters("code")
@login_required
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: scan the QR code (or type the key), then confirm a code."""
    user = request.user
    if two_factor.confirmed_device(user) is not None:
        if not user.is_verified():  # type: ignore[union-attr]
            return redirect("two_factor:verify")
        return _render(
            request,
            "accounts/two_factor_enrol.html",
            title=_("Two-factor login"),
            enrolled=True,
        )
    device = two_factor.pending_device(user)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"].strip()
        if two_factor.device_confirm(user=user, device_id=device.pk, token=code, request=request):
            device.refresh_from_db()
            return _verified(request, device)
        form.add_error("code", _("That code is not right."))
    return _render(
        request,
        "accounts/two_factor_enrol.html",
        title=_("Set up two-factor login"),
        form=form,
        qr=two_factor.qr_svg(device),
        secret=two_factor.secret_text(device),
        required=two_factor.required(user),
        enrolled=False,
    )
