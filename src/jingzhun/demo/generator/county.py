"""One demo county, assembled from its parts: places, people, rolls."""

from __future__ import annotations

from jingzhun.demo.generator.places import _Places
from jingzhun.demo.generator.rolls import _Rolls


class _County(_Places, _Rolls):
    """One county: places, people and rolls; ``build`` fills it, the ``*_rows`` emit it."""

    def build(self) -> None:
        self.build_areas()
        self.build_schools()
        self.build_poor_households()
        self.build_enrolments()
