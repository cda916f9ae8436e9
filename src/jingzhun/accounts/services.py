"""Writes on users: creation with a validated jurisdiction."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.accounts.models import ApiToken, StaffMember, User
from jingzhun.accounts.roles import ROLE_LEVELS
from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.scoping import get_object_for_user


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
    staff_id: int | None = None,
) -> User:
    """Create a staff user with one jurisdiction and record it in the audit log.

    `staff_id` gives the login to a person already in the staff directory (what they answer
    for stays theirs). Without it, a user whose role puts them on the responsibility chain
    (class teacher, principal, township officer) gets a directory entry of their own.
    """
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
    if staff_id is not None:
        staff_link_user(actor=actor, staff_id=staff_id, user_id=user.pk)
    elif role in ACCOUNT_POSTS:
        _staff_for_account(user)
    return user


# --------------------------------------------------------------------------- staff directory

# The directory post of a user whose role puts them on the chain.
ACCOUNT_POSTS = {
    "class_teacher": StaffMember.Post.CLASS_TEACHER,
    "principal": StaffMember.Post.PRINCIPAL,
    "township_officer": StaffMember.Post.TOWNSHIP_OFFICER,
}


def staff_area_code(*, school: Any = None, township: Any = None, village: Any = None) -> str:
    """Return the area code a staff member is scoped by: village, else township, else the
    school's township."""
    if village is not None:
        return str(village.code)
    if township is not None:
        return str(township.code)
    if school is not None and school.township_id:
        return str(school.township.code)
    return ""


def _staff_for_account(user: User) -> StaffMember:
    school_class = user.school_class
    school = user.school or (school_class.school if school_class is not None else None)
    township = user.area if user.area is not None and user.area.level == "township" else None
    if township is None and school is not None and school.township_id:
        township = school.township
    staff = StaffMember(
        name=(user.get_full_name() or user.username)[:50],
        post=ACCOUNT_POSTS.get(user.role, StaffMember.Post.OTHER),
        school=school,
        school_class=school_class,
        township=township,
        area_code=staff_area_code(school=school, township=township)
        or (user.area.code if user.area is not None else user.county_code),
        source=StaffMember.Source.ACCOUNT,
        user=user,
    )
    staff.full_clean()
    staff.save()
    return staff


@transaction.atomic
def staff_link_user(*, actor: Any, staff_id: int, user_id: int) -> StaffMember:
    """Give a person of the staff directory a login, keeping everything they answer for.

    A login already linked to someone else, or a person who already has another login, is
    refused. The assignments and cases point at the person, so nothing else changes.
    """
    if actor is not None and (
        not getattr(actor, "is_authenticated", False) or not actor.can(P.MANAGE_USERS)
    ):
        raise PermissionDenied
    staffs = StaffMember.objects.select_related("user")
    staff = (
        staffs.get(pk=staff_id)
        if actor is None
        else get_object_for_user(staffs, actor, pk=staff_id)
    )
    user = (
        User.objects.get(pk=user_id)
        if actor is None
        else get_object_for_user(User.objects.all(), actor, pk=user_id)
    )
    if staff.user_id == user.pk:
        return staff
    if staff.user_id is not None:
        raise ValidationError(_("This person already has a login."))
    other = StaffMember.objects.filter(user=user).exclude(pk=staff.pk).first()
    if other is not None:
        if other.duty_assignments.exists() or other.duty_cases.exists():
            raise ValidationError(
                _("This login already belongs to another person of the directory.")
            )
        # An entry made for the account alone, answering for nothing: the directory's own
        # entry takes the login.
        StaffMember.objects.filter(pk=other.pk).update(user=None, active=False)
    if StaffMember.objects.filter(pk=staff.pk, user__isnull=True).update(user=user) != 1:
        raise ValidationError(_("This person already has a login."))
    staff.refresh_from_db()
    audit_record(
        actor=actor,
        action="staff.link_user",
        target=staff,
        actor_name="" if actor else "cli",
        data={"user": user.pk},
    )
    return staff


# --------------------------------------------------------------------------- API tokens

API_TOKEN_PREFIX = "jz_"  # noqa: S105 (a visible prefix, not a secret)
# last_used_at is refreshed at most this often, so reads do not write on every request.
API_TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)


def api_token_hash(token: str) -> str:
    """Return the SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_lifetime() -> timedelta:
    """How long a new token lasts (``API_TOKEN_DAYS``, ``JINGZHUN_API_TOKEN_DAYS``)."""
    return timedelta(days=int(settings.API_TOKEN_DAYS))


def _api_token_new(*, user: User, name: str) -> tuple[ApiToken, str]:
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user=user,
        name=name,
        token_hash=api_token_hash(token),
        expires_at=timezone.now() + api_token_lifetime(),
    )
    row.full_clean()
    row.save()
    return row, token


@transaction.atomic
def api_token_create(*, actor: Any, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a bearer token for `user`; return the row and the token, which is shown only now.

    The token expires after ``API_TOKEN_DAYS``; :func:`api_token_rotate` replaces it.
    """
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name.")})
    live = ApiToken.objects.filter(
        user=user, name=name, revoked=False, expires_at__gt=timezone.now()
    )
    if live.exists():
        raise ValidationError({"name": _("This user already has an active token of that name.")})
    row, token = _api_token_new(user=user, name=name)
    audit_record(
        actor=actor,
        action="api_token.create",
        target=row,
        actor_name="" if actor else "system",
        data={"user": user.get_username(), "name": name, "expires": row.expires_at.isoformat()},
    )
    return row, token


@transaction.atomic
def api_token_rotate(*, actor: Any, user: User, name: str) -> tuple[ApiToken, str]:
    """Replace the user's tokens of that name with a new one; the old ones stop working now.

    Return the new row and token (shown only now). An expired token may be rotated too;
    ValidationError when the user has no unrevoked token of that name.
    """
    name = name.strip()
    old = list(ApiToken.objects.select_for_update().filter(user=user, name=name, revoked=False))
    if not old:
        raise ValidationError({"name": _("This user has no token of that name to rotate.")})
    ApiToken.objects.filter(pk__in=[row.pk for row in old]).update(revoked=True)
    row, token = _api_token_new(user=user, name=name)
    audit_record(
        actor=actor,
        action="api_token.rotate",
        target=row,
        actor_name="" if actor else "system",
        data={
            "user": user.get_username(),
            "name": name,
            "replaced": [r.pk for r in old],
            "expires": row.expires_at.isoformat(),
        },
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
    """Return the active user a live (unrevoked, unexpired) token belongs to, else None; note
    when it was used."""
    if not token.startswith(API_TOKEN_PREFIX):
        return None
    now = timezone.now()
    row = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=api_token_hash(token), revoked=False, expires_at__gt=now)
        .first()
    )
    if row is None or not row.user.is_active:
        return None
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - API_TOKEN_TOUCH_INTERVAL)
    ApiToken.objects.filter(stale, pk=row.pk).update(last_used_at=now)
    return row.user


STAFF_FIELDS = ("name", "sex", "phone", "post", "school", "school_class", "township", "village")


def _staff_place_check(actor: Any, staff: StaffMember) -> None:
    """Refuse a person placed outside the actor's jurisdiction (or nowhere)."""
    scope = actor.scope
    if scope.level in ("county", "township"):
        inside = bool(staff.area_code) and staff.area_code.startswith(scope.area_code)
    elif scope.level == "school":
        inside = staff.school_id == scope.school_id
    else:
        inside = False
    if not inside:
        raise ValidationError(_("The person must work within your jurisdiction."))


@transaction.atomic
def staff_save(
    *, actor: Any, staff_id: int | None = None, active: bool = True, **values: Any
) -> StaffMember:
    """Add a person to the staff directory (`staff_id` None) or change one.

    `values` are the directory's fields (name, sex, phone, post, school, school_class,
    township, village). The class's school and the school's township fill themselves in;
    the person must work within the actor's jurisdiction. Audited, never with the phone.
    """
    if not getattr(actor, "is_authenticated", False) or not actor.can(P.DUTY_ASSIGN):
        raise PermissionDenied
    unknown = set(values) - set(STAFF_FIELDS)
    if unknown:
        raise ValueError(f"unknown staff fields: {sorted(unknown)}")
    if staff_id is None:
        staff = StaffMember(source=StaffMember.Source.MANUAL)
    else:
        staff = get_object_for_user(StaffMember.objects.all(), actor, pk=staff_id)
    before = {k: getattr(staff, f"{k}_id" if k in _FKS else k) for k in STAFF_FIELDS}
    for name, value in values.items():
        setattr(staff, name, value.strip() if isinstance(value, str) else value)
    if staff.school_class is not None:
        staff.school = staff.school_class.school
    if staff.village is not None and staff.township is None:
        staff.township = type(staff.village).objects.filter(code=staff.village.code[:9]).first()
    if staff.school is not None and staff.township is None and staff.school.township_id:
        staff.township = staff.school.township
    staff.area_code = staff_area_code(
        school=staff.school, township=staff.township, village=staff.village
    ) or (actor.scope.area_code if actor.scope.level == "county" else "")
    staff.active = active
    _staff_place_check(actor, staff)
    staff.full_clean()
    staff.save()
    after = {k: getattr(staff, f"{k}_id" if k in _FKS else k) for k in STAFF_FIELDS}
    changed = sorted(k for k in STAFF_FIELDS if before[k] != after[k])
    audit_record(
        actor=actor,
        action="staff.create" if staff_id is None else "staff.update",
        target=staff,
        data={"fields": changed, "active": active},
    )
    return staff


_FKS = {"school", "school_class", "township", "village"}
