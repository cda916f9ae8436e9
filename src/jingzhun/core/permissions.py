"""Named capabilities; roles grant them (accounts.roles)."""

from __future__ import annotations

from typing import Any

VIEW = "view"  # see records in one's jurisdiction
VIEW_FULL_ID = "view_full_id"  # see a whole ID or bank number (with a reason, logged)
EXPORT_SENSITIVE = "export_sensitive"  # export lists with whole numbers
IMPORT_DATA = "import_data"  # import registry, rolls, areas, schools
EDIT_REGISTRY = "edit_registry"
EDIT_SCHOOLS = "edit_schools"
MANAGE_USERS = "manage_users"
VIEW_AUDIT = "view_audit"
AID_CLASS_REVIEW = "aid_class_review"  # check a class's aid list
AID_SCHOOL_REVIEW = "aid_school_review"  # confirm or exclude, post the school's notice
AID_MANAGE = "aid_manage"  # rule books, computing aid, approving notices, loans (aid centre)
PAY = "pay"  # payment batches, bank files, reconciliation (aid centre only)
DUTY_ASSIGN = "duty_assign"  # name responsible persons and contact persons along the chain
CASEWORK = "casework"  # record steps and outcomes of dropout cases, report absences
CASE_VERIFY = "case_verify"  # verify and close a dropout case (township officers only)
INSPECT = "inspect"  # plan inspections, record findings, verify rectifications (III.3)

ALL = [
    VIEW,
    VIEW_FULL_ID,
    EXPORT_SENSITIVE,
    IMPORT_DATA,
    EDIT_REGISTRY,
    EDIT_SCHOOLS,
    MANAGE_USERS,
    VIEW_AUDIT,
    AID_CLASS_REVIEW,
    AID_SCHOOL_REVIEW,
    AID_MANAGE,
    PAY,
    DUTY_ASSIGN,
    CASEWORK,
    CASE_VERIFY,
    INSPECT,
]


def user_can(user: Any, capability: str | None) -> bool:
    """Return whether the user's role grants a capability (anonymous users have none)."""
    if not capability:
        return False
    can = getattr(user, "can", None)
    return bool(callable(can) and can(capability))
