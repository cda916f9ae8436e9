"""In a real browser with the network unplugged: every request that does not go to the test
server is aborted; the map still draws, and a click on a village opens its page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import PASSWORD, County, Personas
from tests.dashboard.browser import MARKS, shots_of
from tests.dashboard.test_map_world import add_villages, geojson

from jingzhun.dashboard import geo

pytestmark = MARKS


def test_map_draws_offline_and_a_click_opens_the_village(
    audit_flushable: Any,
    county: County,
    personas: Personas,
    live_server: Any,
    offline_page: Any,
    tmp_path: Path,
) -> None:
    add_villages(county)
    geo.apply_import(
        geo.plan_import(
            geo.read_map_file(geojson(), "t.geojson"), county_code="420101", source="t"
        ),
        actor=None,
    )
    page = offline_page
    page.goto(f"{live_server.url}/admin/login/?next=/centre/map/")
    page.fill("input[name=username]", personas.township_a.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{live_server.url}/centre/map/")
    svg = page.locator("#jz-map svg")
    assert svg.is_visible()
    box = svg.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 300
    # the township's two villages are links; the other township's are drawn grey
    assert page.locator("#jz-map a[data-village]").count() == 2
    assert (
        page.locator("#jz-map a[data-village='420101001001']").get_attribute("data-class") == "poor"
    )
    assert page.locator("#jz-map path").count() == 1 + 2 + 4
    assert "贫困村" in page.inner_text("#jz-legend")
    shot = shots_of(tmp_path) / "map-offline.png"
    page.screenshot(path=str(shot), full_page=True)
    page.select_option("#jz-colour", "cases")
    page.click("#jz-map-measure button[type=submit]")
    page.wait_for_url("**colour=cases**")
    page.locator("#jz-map a[data-village='420101001001'] path").click(position={"x": 12, "y": 12})
    page.wait_for_url(f"{live_server.url}/centre/map/village/420101001001/")
    assert page.inner_text("#jz-village-name").startswith("甲村")
    page.screenshot(path=str(shots_of(tmp_path) / "village-offline.png"), full_page=True)
    assert page.blocked == []  # the pages asked for nothing beyond the server
