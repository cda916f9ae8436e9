"""Named capabilities; roles grant them (accounts.roles)."""

from __future__ import annotations

VIEW = "view"  # see records in one's jurisdiction
VIEW_FULL_ID = "view_full_id"  # see a whole ID or bank number (with a reason, logged)
EXPORT_SENSITIVE = "export_sensitive"  # export lists with whole numbers
IMPORT_DATA = "import_data"  # import registry, rolls, areas, schools
EDIT_REGISTRY = "edit_registry"
EDIT_SCHOOLS = "edit_schools"
MANAGE_USERS = "manage_users"
VIEW_AUDIT = "view_audit"

ALL = [
    VIEW,
    VIEW_FULL_ID,
    EXPORT_SENSITIVE,
    IMPORT_DATA,
    EDIT_REGISTRY,
    EDIT_SCHOOLS,
    MANAGE_USERS,
    VIEW_AUDIT,
]
