"""Writes on users: creation with a validated jurisdiction."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.accounts.models import ApiToken, User
from jingzhun.accounts.roles import ROLE_LEVELS
from jingzhun.core.audit import audit_record


def jurisdiction_county_code(
    *, area: Any = None, school: Any = None, school_class: Any = None
) -> str:
    """Return the county a jurisdiction lies in ('' if none or out of county)."""
    if school_class is not None:
        school = school_class.school
    if school is not None:
        return school.township.code[:6] if school.township_id else ""
    if area is not None:
        return str(area.code[:6])
    return ""


def validate_jurisdiction(*, role: str, area: Any, school: Any, school_class: Any) -> None:
    """Raise ValidationError unless the jurisdiction fits the role."""
    if not role:
        return
    levels = ROLE_LEVELS[role]
    if "class" in levels and school_class is None:
        raise ValidationError({"school_class": _("A class teacher needs a class.")})
    if "school" in levels and school is None:
        raise ValidationError({"school": _("A principal needs a school.")})
    if {"county", "township"} & set(levels):
        if area is None:
            raise ValidationError({"area": _("This role needs a county or township.")})
        if area.level not in levels:
            raise ValidationError({"area": _("This role cannot work at that level.")})


@transaction.atomic
def user_create(
    *,
    actor: Any,
    username: str,
    password: str,
    role: str = "",
    area: Any = None,
    school: Any = None,
    school_class: Any = None,
    full_name: str = "",
    is_staff: bool = True,
    is_superuser: bool = False,
) -> User:
    """Create a staff user with one jurisdiction and record it in the audit log."""
    validate_jurisdiction(role=role, area=area, school=school, school_class=school_class)
    user = User(
        username=username,
        first_name=full_name,
        role=role,
        area=area,
        school=school,
        school_class=school_class,
        county_code=jurisdiction_county_code(area=area, school=school, school_class=school_class),
        is_staff=is_staff,
        is_superuser=is_superuser,
    )
    user.set_password(password)
    user.full_clean()
    user.save()
    audit_record(
        actor=actor,
        action="user.create",
        target=user,
        actor_name="" if actor else "system",
        data={"role": role, "county": user.county_code},
    )
    return user


# --------------------------------------------------------------------------- API tokens

API_TOKEN_PREFIX = "jz_"  # noqa: S105 (a visible prefix, not a secret)
# last_used_at is refreshed at most this often, so reads do not write on every request.
API_TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)


def api_token_hash(token: str) -> str:
    """Return the SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, actor: Any, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a bearer token for `user`; return the row and the token, which is shown only now."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name.")})
    if ApiToken.objects.filter(user=user, name=name, revoked=False).exists():
        raise ValidationError({"name": _("This user already has an active token of that name.")})
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user=user, name=name, token_hash=api_token_hash(token))
    row.full_clean()
    row.save()
    audit_record(
        actor=actor,
        action="api_token.create",
        target=row,
        actor_name="" if actor else "system",
        data={"user": user.get_username(), "name": name},
    )
    return row, token


@transaction.atomic
def api_token_revoke(*, actor: Any, user: User, name: str) -> int:
    """Revoke the user's active tokens of that name; return how many were revoked."""
    rows = list(ApiToken.objects.filter(user=user, name=name, revoked=False))
    for row in rows:
        ApiToken.objects.filter(pk=row.pk, revoked=False).update(revoked=True)
        audit_record(
            actor=actor,
            action="api_token.revoke",
            target=row,
            actor_name="" if actor else "system",
            data={"user": user.get_username(), "name": name},
        )
    return len(rows)


def api_token_authenticate(*, token: str) -> User | None:
    """Return the active user a live token belongs to, else None; note when it was used."""
    if not token.startswith(API_TOKEN_PREFIX):
        return None
    row = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=api_token_hash(token), revoked=False)
        .first()
    )
    if row is None or not row.user.is_active:
        return None
    now = timezone.now()
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - API_TOKEN_TOUCH_INTERVAL)
    ApiToken.objects.filter(stale, pk=row.pk).update(last_used_at=now)
    return row.user
