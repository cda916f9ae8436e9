"""Importing the county's map: GeoJSON and zipped shapefiles, named errors, nothing replaced on
error, projected .prj refused, the page's preview and confirm, and the command."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from tests.conftest import County, Personas
from tests.dashboard.test_map_world import (
    PROJECTED_PRJ,
    WGS84_PRJ,
    add_villages,
    feature,
    features,
    geojson,
    point,
    shapefile_zip,
    square,
    village_rings,
)

from jingzhun.core.models import AuditEvent
from jingzhun.dashboard import geo
from jingzhun.dashboard.models import MapFeature

pytestmark = pytest.mark.django_db


def _plan(data: bytes, name: str = "map.geojson") -> geo.MapPlan:
    return geo.plan_import(geo.read_map_file(data, name), county_code="420101", source=name)


def test_geojson_lands_every_kind_with_its_township_and_school(county: County) -> None:
    add_villages(county)
    plan = _plan(geojson())
    assert plan.errors == []
    assert plan.counts == {"county": 1, "township": 2, "village": 4, "school": 2}
    assert plan.missing == []
    assert geo.apply_import(plan, actor=None) == 9
    jia = MapFeature.objects.get(kind="village", code="420101001002")
    assert (jia.name, jia.township_code) == ("甲二村", "420101001")
    assert (jia.min_x, jia.min_y, jia.max_x, jia.max_y) == (110.0, 31.1, 110.1, 31.2)
    school = MapFeature.objects.get(kind="school", code="2142010001")
    assert school.school_id == county.school_a.pk and school.township_code == "420101001"
    assert AuditEvent.objects.filter(action="map.import").count() == 1


def test_common_property_names_and_an_explicit_kind_are_understood(county: County) -> None:
    add_villages(county)
    items = [
        feature({"XZQDM": 420101001001, "XZQMC": "甲村"}, square(0, 0)),
        feature({"行政区划代码": "420101001002", "名称": "甲二村", "级别": "村"}, square(0, 1)),
        feature({"CODE": "420101002001", "NAME": "乙村", "kind": "village"}, square(1, 0)),
    ]
    plan = _plan(geojson(items))
    assert plan.errors == []
    assert [(p.code, p.name, p.kind) for p in plan.features] == [
        ("420101001001", "甲村", "village"),
        ("420101001002", "甲二村", "village"),
        ("420101002001", "乙村", "village"),
    ]
    # the areas left without a shape are listed for the preview
    assert ("village", "420101002002", "乙二村") in plan.missing
    assert ("township", "420101001", "甲镇") in plan.missing
    assert ("school", "2142010001", "甲镇中心小学") in plan.missing


def test_bad_features_are_named_by_number_field_and_reason(county: County) -> None:
    items = [
        feature({"code": "420101001001"}, square(0, 0)),  # 1: fine
        feature({"code": "420101009001", "name": "外村"}, square(0, 1)),  # 2: unknown code
        feature({"name": "无码"}, square(1, 0)),  # 3: no code
        feature({"code": "420101002001"}, point(1, 1)),  # 4: a village as a point
        feature({"code": "2142010001"}, square(0, 0)),  # 5: a school as a polygon
        feature(
            {"code": "420101002001"},
            {
                "type": "Polygon",
                "coordinates": [
                    [[500000, 3400000], [500100, 3400000], [500100, 3400100], [500000, 3400000]]
                ],
            },
        ),  # 6: projected
        feature({"code": "420101001001"}, square(0, 0)),  # 7: again
        feature({"code": "420101001", "kind": "village"}, square(0, 0)),  # 8: wrong kind
        feature(
            {"code": "420101002001"},
            {"type": "Polygon", "coordinates": [[[110, 31], [110.1, 31], [110.1, 31.1]]]},
        ),  # 9: open ring
    ]
    plan = _plan(geojson(items))
    assert not plan.ok
    errors = "\n".join(plan.errors)
    assert "Feature 2, code: 420101009001 names no area or school of county 420101" in errors
    assert "Feature 3, code: no code property" in errors
    assert "Feature 4, geometry: a boundary is a Polygon or MultiPolygon, not a Point" in errors
    assert "Feature 5, geometry: a school is a Point, not a Polygon" in errors
    assert "Feature 6, geometry: coordinate [500000, 3400000] is not longitude/latitude" in errors
    assert "Feature 7, code: 420101001001 again (feature 1 has it)" in errors
    assert "Feature 8, kind: 420101001 is a township, not a village" in errors
    assert "Feature 9, geometry: a ring needs at least 4 positions" in errors
    assert len(plan.errors) == 8
    assert plan.unknown_codes == ["420101009001"]
    with pytest.raises(geo.MapFileError):
        geo.apply_import(plan, actor=None)


def test_nothing_is_replaced_when_the_file_has_an_error(county: County) -> None:
    add_villages(county)
    geo.apply_import(_plan(geojson()), actor=None)
    before = list(MapFeature.objects.values_list("kind", "code", "geometry"))
    bad = features()[:3] + [feature({"code": "999999001001"}, square(0, 0))]
    plan = _plan(geojson(bad))
    assert plan.errors and not plan.ok
    with pytest.raises(geo.MapFileError):
        geo.apply_import(plan, actor=None)
    assert list(MapFeature.objects.values_list("kind", "code", "geometry")) == before


def test_not_geojson_and_a_foreign_crs_are_refused_whole(county: County) -> None:
    with pytest.raises(geo.MapFileError, match="neither GeoJSON nor a zipped shapefile"):
        geo.read_map_file(b"code,name\n1,2\n", "villages.csv")
    doc = b'{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:4547"}},"features":[]}'
    with pytest.raises(geo.MapFileError, match="EPSG:4547"):
        geo.read_map_file(doc, "x.geojson")


def test_gbk_shapefile_in_cgcs2000_is_read_with_its_chinese_names(county: County) -> None:
    add_villages(county)
    data = shapefile_zip(village_rings(), encoding="gbk")
    plan = _plan(data, "村界.zip")
    assert plan.errors == []
    assert sorted((p.code, p.name) for p in plan.features) == [
        ("420101001001", "甲村"),
        ("420101001002", "甲二村"),
        ("420101002001", "乙村"),
        ("420101002002", "乙二村"),
    ]
    jia = next(p for p in plan.features if p.code == "420101001001")
    assert jia.geometry["type"] == "Polygon"
    assert jia.bbox == (110.0, 31.0, 110.1, 31.1)
    geo.apply_import(plan, actor=None)
    assert MapFeature.objects.filter(kind="village").count() == 4


def test_utf8_shapefile_with_cpg_is_read(county: County) -> None:
    add_villages(county)
    data = shapefile_zip(village_rings(), encoding="utf-8", cpg="UTF-8", prj=WGS84_PRJ)
    plan = _plan(data, "cun.zip")
    assert plan.errors == []
    assert {p.name for p in plan.features} == {"甲村", "甲二村", "乙村", "乙二村"}


def test_projected_prj_is_refused_with_a_clear_message(county: County) -> None:
    data = shapefile_zip(village_rings(), prj=PROJECTED_PRJ)
    with pytest.raises(geo.MapFileError) as info:
        geo.read_map_file(data, "cun.zip")
    text = str(info.value)
    assert "projected coordinate system (CGCS2000_3_Degree_GK_CM_111E)" in text
    assert "WGS 84 or CGCS 2000" in text


def test_shapefile_bad_row_is_named(county: County) -> None:
    add_villages(county)
    rows = village_rings()
    rows[2] = ("420101777001", "错村", rows[2][2])
    plan = _plan(shapefile_zip(rows), "cun.zip")
    assert plan.errors == [
        "Feature 3, XZQDM: 420101777001 names no area or school of county 420101"
    ]


def test_zip_without_dbf_is_refused(county: County) -> None:
    import zipfile

    data = shapefile_zip(village_rings())
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            if not info.filename.endswith(".dbf"):
                z.writestr(info, src.read(info))
    with pytest.raises(geo.MapFileError, match="no .dbf file beside the .shp"):
        geo.read_map_file(out.getvalue(), "cun.zip")


# --------------------------------------------------------------------------- the page


def _en(client: Client) -> Client:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_import_page_previews_then_confirm_replaces(
    client: Client, personas: Personas, county: County
) -> None:
    add_villages(county)
    MapFeature.objects.create(
        county_code="420101",
        kind="village",
        code="420101001001",
        geometry=square(5, 5),
        min_x=0,
        min_y=0,
        max_x=1,
        max_y=1,
    )
    _en(client).force_login(personas.county_officer)
    url = reverse("centre:map-import")
    upload = SimpleUploadedFile("county.geojson", geojson(), content_type="application/json")
    response = client.post(url, {"action": "preview", "file": upload})
    text = response.content.decode()
    assert response.status_code == 200
    assert 'id="jz-map-confirm"' in text
    assert "Confirming replaces the 1 feature now on the map." in text
    assert MapFeature.objects.count() == 1  # a preview changes nothing
    token = client.session["jz_map_upload"]["token"]
    response = client.post(url, {"action": "confirm", "token": token})
    assert response.status_code == 302 and response["Location"] == reverse("centre:map")
    assert MapFeature.objects.count() == 9
    assert MapFeature.objects.get(kind="village", code="420101001001").min_x == 110.0
    assert AuditEvent.objects.filter(action="map.import").count() == 1


def test_import_page_shows_errors_and_offers_no_confirm(
    client: Client, personas: Personas, county: County
) -> None:
    _en(client).force_login(personas.county_officer)
    bad = geojson([feature({"code": "420101009001"}, square(0, 0))])
    upload = SimpleUploadedFile("bad.geojson", bad, content_type="application/json")
    text = client.post(
        reverse("centre:map-import"), {"action": "preview", "file": upload}
    ).content.decode()
    assert "Feature 1, code: 420101009001 names no area or school of county 420101" in text
    assert 'id="jz-map-confirm"' not in text
    response = client.post(reverse("centre:map-import"), {"action": "confirm", "token": "abc"})
    assert response.status_code == 302
    assert MapFeature.objects.count() == 0


def test_projected_shapefile_message_on_the_page(
    client: Client, personas: Personas, county: County
) -> None:
    _en(client).force_login(personas.county_officer)
    upload = SimpleUploadedFile("cun.zip", shapefile_zip(village_rings(), prj=PROJECTED_PRJ))
    text = client.post(
        reverse("centre:map-import"), {"action": "preview", "file": upload}
    ).content.decode()
    assert 'id="jz-map-file-error"' in text and "projected coordinate system" in text


@pytest.mark.parametrize("who", ["township_a", "principal_a", "bureau_leader", "inspector"])
def test_only_county_importers_may_import(
    client: Client, personas: Personas, county: County, who: str
) -> None:
    client.force_login(getattr(personas, who))
    assert client.get(reverse("centre:map-import")).status_code == 403


# --------------------------------------------------------------------------- the command


def test_command_dry_run_then_import(county: County, tmp_path: Any) -> None:
    add_villages(county)
    path = tmp_path / "county.geojson"
    path.write_bytes(geojson())
    out = io.StringIO()
    call_command("map_import", str(path), "--dry-run", stdout=out)
    assert "county 420101: county 1, school 2, township 2, village 4" in out.getvalue()
    assert MapFeature.objects.count() == 0
    call_command("map_import", str(path), "--county", "420101", stdout=out)
    assert MapFeature.objects.count() == 9


def test_command_refuses_errors(county: County, tmp_path: Any) -> None:
    path = tmp_path / "bad.geojson"
    path.write_bytes(geojson([feature({"code": "420101009001"}, square(0, 0))]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 errors: nothing replaced"):
        call_command("map_import", str(path), "--county", "420101", stderr=err)
    assert "Feature 1, code: 420101009001" in err.getvalue()
