"""Roles, the jurisdiction level each needs, and the capabilities each holds."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from jingzhun.core import permissions as P


class Role(models.TextChoices):
    COUNTY_ADMIN = "county_admin", _("County administrator")
    AID_OFFICER = "aid_officer", _("Aid centre officer")
    BUREAU_LEADER = "bureau_leader", _("Bureau leader")
    TOWNSHIP_OFFICER = "township_officer", _("Township officer")
    PRINCIPAL = "principal", _("Principal")
    CLASS_TEACHER = "class_teacher", _("Class teacher")
    INSPECTOR = "inspector", _("Inspector")


# The jurisdiction level each role works at ("county" roles may also be given a township).
ROLE_LEVELS: dict[str, tuple[str, ...]] = {
    Role.COUNTY_ADMIN: ("county",),
    Role.AID_OFFICER: ("county",),
    Role.BUREAU_LEADER: ("county", "township"),
    Role.TOWNSHIP_OFFICER: ("township",),
    Role.PRINCIPAL: ("school",),
    Role.CLASS_TEACHER: ("class",),
    Role.INSPECTOR: ("county",),
}

CAPABILITIES: dict[str, frozenset[str]] = {
    # Only the aid centre approves aid and pays (II.1), and only the township verifies a
    # dropout case's close-out (III.1); the administrator runs the system.
    Role.COUNTY_ADMIN: frozenset(P.ALL) - {P.AID_MANAGE, P.PAY, P.CASE_VERIFY},
    Role.AID_OFFICER: frozenset(
        {
            P.VIEW,
            P.VIEW_FULL_ID,
            P.EXPORT_SENSITIVE,
            P.IMPORT_DATA,
            P.EDIT_REGISTRY,
            P.EDIT_SCHOOLS,
            P.AID_MANAGE,
            P.PAY,
        }
    ),
    Role.BUREAU_LEADER: frozenset({P.VIEW}),
    Role.TOWNSHIP_OFFICER: frozenset(
        {P.VIEW, P.VIEW_FULL_ID, P.DUTY_ASSIGN, P.CASEWORK, P.CASE_VERIFY}
    ),
    Role.PRINCIPAL: frozenset(
        {
            P.VIEW,
            P.EDIT_SCHOOLS,
            P.AID_CLASS_REVIEW,
            P.AID_SCHOOL_REVIEW,
            P.DUTY_ASSIGN,
            P.CASEWORK,
        }
    ),
    Role.CLASS_TEACHER: frozenset({P.VIEW, P.AID_CLASS_REVIEW, P.CASEWORK}),
    Role.INSPECTOR: frozenset({P.VIEW, P.VIEW_AUDIT, P.INSPECT}),
}
