"""Template filters of the duty pages: people by their names, never by login names."""

from __future__ import annotations

from typing import Any

from django import template

from jingzhun.duty.selectors_ui import person_name

register = template.Library()


@register.filter
def name_of(person: Any) -> str:
    """Return a staff member's or user's name ("—" when no name is known)."""
    return person_name(person) or "—"
