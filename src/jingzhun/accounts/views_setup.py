"""The first-run page (/setup/): the web twin of ``jingzhun county-setup``.

It exists only while the installation has no county administrator; afterwards it is a 404 for
everybody. Whoever reaches the server first must not be able to take it over, so the page asks
for a one-time setup token that only someone with access to the server's files can read: the
first visit writes it to ``<VAR_DIR>/setup-token`` (mode 600) and the page names that file.
Wrong tokens are counted per address in the audit log and throttled like failed logins
(django-axes' settings): the ``AXES_FAILURE_LIMIT``-th wrong token within ``AXES_COOLOFF_TIME``
locks the address out of the page until the cool-off time has passed.
"""

from __future__ import annotations

import datetime as dt
import hmac
import os
import secrets
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from unfold.widgets import UnfoldAdminPasswordWidget, UnfoldAdminTextInputWidget

from jingzhun.accounts.models import User
from jingzhun.accounts.provisioning import (
    COUNTY_CODE,
    READABLE_CHARACTERS,
    CountyPlan,
    Password,
    county_setup,
    county_setup_plan,
    messages_of,
)
from jingzhun.accounts.roles import Role
from jingzhun.core.audit import audit_record, client_ip
from jingzhun.core.models import AuditEvent, ImportBatch
from jingzhun.core.periods import SchoolYear
from jingzhun.core.working_year import parse_school_year, working_year

TOKEN_FILE_NAME = "setup-token"  # noqa: S105 (a file name, not a secret)
TOKEN_CHARACTERS = READABLE_CHARACTERS  # no 0/O, 1/l/I
TOKEN_LENGTH = 24
REFUSED = "setup.token_refused"


def setup_open() -> bool:
    """Whether the installation still has no county administrator (so /setup/ is open)."""
    return not User.objects.filter(role=Role.COUNTY_ADMIN).exists()


# --------------------------------------------------------------------------- the token


def token_path() -> Path:
    return Path(settings.VAR_DIR).resolve() / TOKEN_FILE_NAME


def _read_token(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def ensure_token(request: HttpRequest) -> str:
    """Return the setup token, writing a new one (readable by the server's user only) if none."""
    path = token_path()
    token = _read_token(path)
    if token:
        return token
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # an empty or unreadable file: replace it
    token = "".join(secrets.choice(TOKEN_CHARACTERS) for _i in range(TOKEN_LENGTH))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another request wrote it a moment ago
        return _read_token(path)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    os.chmod(path, 0o600)  # whatever the umask
    audit_record(
        actor=None,
        actor_name="setup",
        action="setup.token_created",
        request=request,
        data={"file": str(path)},
    )
    return token


def token_matches(given: str, token: str) -> bool:
    """Compare in constant time; an empty token never matches."""
    return bool(token) and hmac.compare_digest(given.strip().encode(), token.encode())


# --------------------------------------------------------------------------- the throttle


def _cooloff() -> dt.timedelta:
    value = getattr(settings, "AXES_COOLOFF_TIME", 0.5)
    return value if isinstance(value, dt.timedelta) else dt.timedelta(hours=float(value))


def _failure_limit() -> int:
    return int(getattr(settings, "AXES_FAILURE_LIMIT", 5))


def refused_recently(request: HttpRequest) -> int:
    """How many wrong tokens this address gave within the cool-off time."""
    since = timezone.now() - _cooloff()
    return AuditEvent.objects.filter(action=REFUSED, ip=client_ip(request), at__gte=since).count()


def _locked_message() -> str:
    minutes = int(_cooloff().total_seconds() // 60)
    return _("Too many wrong setup tokens from your address. Try again in %(minutes)d minutes.") % {
        "minutes": minutes
    }


# --------------------------------------------------------------------------- the form


def _text(**attrs: str) -> UnfoldAdminTextInputWidget:
    return UnfoldAdminTextInputWidget(attrs=attrs)


def _password() -> UnfoldAdminPasswordWidget:
    return UnfoldAdminPasswordWidget(attrs={"autocomplete": "new-password"})


class SetupForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Setup token"),
        max_length=200,
        widget=_text(autocomplete="off", spellcheck="false", autofocus=""),
    )
    county_code = forms.RegexField(
        label=gettext_lazy("County code"),
        regex=COUNTY_CODE,
        max_length=6,
        error_messages={"invalid": gettext_lazy("A county code has 6 digits, like 420101.")},
        help_text=gettext_lazy("The county's 6-digit administrative area code."),
        widget=_text(inputmode="numeric", autocomplete="off"),
    )
    county_name = forms.CharField(
        label=gettext_lazy("County name"), max_length=100, widget=_text(autocomplete="off")
    )
    school_year = forms.CharField(
        label=gettext_lazy("Working school year"),
        max_length=9,
        help_text=gettext_lazy(
            "Assumed when a file or a request does not say, e.g. 2018-2019 (or 2018)."
        ),
        widget=_text(autocomplete="off"),
    )
    username = forms.CharField(
        label=gettext_lazy("Administrator's username"),
        max_length=150,
        validators=User._meta.get_field("username").validators,
        widget=_text(autocomplete="username"),
    )
    full_name = forms.CharField(
        label=gettext_lazy("Administrator's full name"),
        max_length=150,
        widget=_text(autocomplete="name"),
    )
    password1 = forms.CharField(
        label=gettext_lazy("Password"), strip=False, max_length=128, widget=_password()
    )
    password2 = forms.CharField(
        label=gettext_lazy("Password (again)"), strip=False, max_length=128, widget=_password()
    )

    def clean_school_year(self) -> int:
        try:
            return parse_school_year(self.cleaned_data["school_year"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            candidate = User(
                username=data.get("username", ""), first_name=data.get("full_name", "")
            )
            try:
                validate_password(first, candidate)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


# --------------------------------------------------------------------------- the page


def _done_message(plan: CountyPlan) -> str:
    """Say what was set up and what to import next, in order."""
    kind = ImportBatch.Kind
    year = SchoolYear(plan.year)
    return _(
        "County %(code)s %(name)s is set up (working school year %(year)s) and you are logged "
        "in as %(user)s. Import next, in this order: (1) %(registry)s: the export of the "
        "poverty registration system; (2) %(rolls)s: the export of the student roll system, "
        "for the school year %(year)s (its school-year column, 学年, is read; where it is "
        "blank, %(year)s is assumed); (3) %(university)s; (4) %(outside)s; (5) %(villages)s."
    ) % {
        "code": plan.code,
        "name": plan.name,
        "year": year,
        "user": plan.username,
        "registry": kind.REGISTRY.label,
        "rolls": kind.ROLLS.label,
        "university": kind.UNIVERSITY.label,
        "outside": kind.OUTSIDE.label,
        "villages": kind.POOR_VILLAGES.label,
    }


def _render(
    request: HttpRequest, form: SetupForm, *, error: str = "", status: int = 200
) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": _("First run: set up the county"),
        "form": form,
        "token_file": str(token_path()),
        "error": error,
    }
    return TemplateResponse(request, "accounts/setup.html", context, status=status)


@never_cache
@sensitive_post_parameters("token", "password1", "password2")
@csrf_protect
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Set up the county, its working year and its first administrator, once."""
    if not setup_open():
        token_path().unlink(missing_ok=True)  # a token left behind opens nothing any more
        raise Http404
    if request.method != "POST":
        ensure_token(request)
        form = SetupForm(initial={"school_year": str(SchoolYear(working_year()))})
        locked = refused_recently(request) >= _failure_limit()
        return _render(request, form, error=_locked_message() if locked else "")

    form = SetupForm(request.POST)
    if refused_recently(request) >= _failure_limit():
        audit_record(actor=None, actor_name="setup", action="setup.token_locked", request=request)
        return _render(request, form, error=_locked_message(), status=429)
    if not token_matches(request.POST.get("token", ""), ensure_token(request)):
        audit_record(actor=None, actor_name="setup", action=REFUSED, request=request)
        form.is_valid()  # show the other fields' errors too
        form.add_error("token", _("This is not the setup token."))
        if refused_recently(request) >= _failure_limit():  # like a login: the limit-th locks
            return _render(request, form, error=_locked_message(), status=429)
        return _render(request, form, status=403)
    if not form.is_valid():
        return _render(request, form)

    data = form.cleaned_data
    try:
        plan = county_setup_plan(
            code=data["county_code"],
            name=data["county_name"],
            school_year=str(data["school_year"]),
            username=data["username"],
        )
        with transaction.atomic():
            if not setup_open():  # someone else finished first
                raise Http404
            result = county_setup(
                plan,
                full_name=data["full_name"],
                password=Password(data["password1"], generated=False),
                actor_name="setup",
                request=request,
            )
            audit_record(
                actor=result.admin,
                action="setup.done",
                target=result.county,
                request=request,
                data={"county": plan.code, "working_year": plan.year, "admin": plan.username},
            )
    except CommandError as exc:
        form.add_error(None, str(exc))
        return _render(request, form)
    except ValidationError as exc:
        form.add_error(None, messages_of(exc))
        return _render(request, form)

    token_path().unlink(missing_ok=True)
    login(request, result.admin, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, _done_message(plan))
    return redirect("imports:list")
