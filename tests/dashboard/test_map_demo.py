"""The demo county's map: generated from the county's areas and schools, written as GeoJSON,
loaded through the importer, and a rerun changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from tests.conftest import County
from tests.dashboard.test_map_world import add_villages

from jingzhun.core.models import AuditEvent
from jingzhun.dashboard import geo
from jingzhun.dashboard.models import MapFeature
from jingzhun.demo.dashboard_map import county_map, map_demo

pytestmark = pytest.mark.django_db


def _edges(geometry: dict[str, Any]) -> set[frozenset[tuple[float, float]]]:
    ring = geometry["coordinates"][0]
    return {frozenset((tuple(a), tuple(b))) for a, b in zip(ring, ring[1:], strict=False)}


def test_generated_map_is_valid_and_neighbours_share_edges(county: County) -> None:
    add_villages(county)
    doc = county_map(county.county, seed=2018)
    plan = geo.plan_import(
        [
            geo.RawFeature(i, f["properties"], f["geometry"])
            for i, f in enumerate(doc["features"], 1)
        ],
        county_code="420101",
        source="demo",
    )
    assert plan.errors == []
    assert plan.counts == {"county": 1, "township": 2, "village": 4, "school": 2}
    assert plan.missing == []
    shapes = {p.code: p for p in plan.features}
    # the villages of a township share at least one edge with each other
    a1, a2 = shapes["420101001001"], shapes["420101001002"]
    assert _edges(a1.geometry) & _edges(a2.geometry)
    # every village edge on the township's outline is the township's own edge
    township = _edges(shapes["420101001"].geometry)
    assert township <= _edges(a1.geometry) | _edges(a2.geometry)
    # a school stands inside its village's box, which lies in western Hubei
    school, village = shapes["2142010001"], shapes["420101001001"]
    x, y = school.geometry["coordinates"]
    assert village.bbox[0] < x < village.bbox[2] and village.bbox[1] < y < village.bbox[3]
    assert 108.9 < village.bbox[0] < 110 and 29 < village.bbox[1] < 30


def test_map_demo_writes_the_file_imports_it_and_a_rerun_changes_nothing(
    county: County, tmp_path: Any
) -> None:
    add_villages(county)
    lines: list[str] = []
    map_demo(actor=None, county=county.county, out=tmp_path, seed=7, echo=lines.append)
    assert (tmp_path / "map.geojson").exists()
    assert MapFeature.objects.filter(county_code="420101").count() == 9
    map_demo(actor=None, county=county.county, out=tmp_path, seed=7, echo=lines.append)
    assert lines == [
        "import map: county 1, school 2, township 2, village 4",
        "import map: unchanged (county 1, school 2, township 2, village 4)",
    ]
    assert AuditEvent.objects.filter(action="map.import").count() == 1
