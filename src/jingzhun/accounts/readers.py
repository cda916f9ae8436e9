"""A stand-in user for jobs that read a whole county's figures through the apps' selectors.

The monthly coverage snapshots and the county-wide ranks of the annual assessment read as the
county: the selectors scope by ``scope``, so this reader sees what a county user sees. It may
only view, and its jobs take only counts from it, never a record to show.
"""

from __future__ import annotations

from dataclasses import dataclass

from jingzhun.accounts.roles import Role
from jingzhun.core import permissions as P
from jingzhun.core.scoping import Scope


@dataclass(frozen=True)
class CountyReader:
    """Reads one county's figures (counts only) for a job that has no user."""

    county_code: str
    is_authenticated: bool = True
    is_active: bool = True
    role: str = Role.INSPECTOR

    @property
    def scope(self) -> Scope:
        return Scope(level="county", county_code=self.county_code, area_code=self.county_code)

    def can(self, capability: str) -> bool:
        return capability == P.VIEW

    def get_username(self) -> str:
        return ""
