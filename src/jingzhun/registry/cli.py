"""What the command-line tools of the apps share about counties."""

from __future__ import annotations

from django.core.management.base import CommandError

from jingzhun.registry.models import Area


def county_option(given: str) -> str:
    """Return the county a command works on: the one given, else the database's only one."""
    if given:
        return given
    counties = list(Area.objects.filter(level="county").values_list("code", flat=True))
    if len(counties) != 1:
        raise CommandError(f"Give --county: the database holds {len(counties)} counties.")
    return counties[0]
