"""Writes on users: creation with a validated jurisdiction."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from jingzhun.accounts.models import User
from jingzhun.accounts.roles import ROLE_LEVELS
from jingzhun.core.audit import audit_record


def jurisdiction_county_code(*, area: Any = None, school: Any = None, school_class: Any = None) -> str:
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
    audit_record(actor=actor, action="user.create", target=user,
                 actor_name="" if actor else "system",
                 data={"role": role, "county": user.county_code})
    return user
