"""Template filters of the teacher pages."""

from __future__ import annotations

from django import template

from jingzhun.teachers.views.common import percent

register = template.Library()


@register.filter
def share(value: float | None) -> str:
    """Return a share as a percentage with one decimal ("—" when there is nothing to divide)."""
    return percent(value)
