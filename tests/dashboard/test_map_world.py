"""A small hand-made map of the test county (tests/conftest.py's 测试县 420101); no tests here.

Four villages on a 2 x 2 grid of 0.1-degree squares near 110.0E 31.0N:

    甲村 420101001001 (poor)   | 甲二村 420101001002       township A (west, x 110.0-110.1)
    乙村 420101002001 (poor)   | 乙二村 420101002002       township B (east, x 110.1-110.2)

Township A is the column x 110.0..110.1 (甲村 south, 甲二村 north); township B the column
x 110.1..110.2 (乙村 south, 乙二村 north). The schools stand in 甲村 and 乙村.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from tests.conftest import County

from jingzhun.registry.models import Area

X0, Y0, STEP = 110.0, 31.0, 0.1


def square(col: int, row: int, cols: int = 1, rows: int = 1) -> dict[str, Any]:
    x0, y0 = X0 + col * STEP, Y0 + row * STEP
    x1, y1 = x0 + cols * STEP, y0 + rows * STEP
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


def point(col: float, row: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [X0 + col * STEP, Y0 + row * STEP]}


def add_villages(county: County) -> tuple[Area, Area]:
    """Add the two northern villages (not poor) to the hand-made county."""
    a2 = Area.objects.create(
        code="420101001002", name="甲二村", level="village", parent=county.township_a
    )
    b2 = Area.objects.create(
        code="420101002002", name="乙二村", level="village", parent=county.township_b
    )
    return a2, b2


def feature(props: dict[str, Any], geometry: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def features() -> list[dict[str, Any]]:
    return [
        feature({"code": "420101", "name": "测试县"}, square(0, 0, 2, 2)),
        feature({"code": "420101001", "name": "甲镇"}, square(0, 0, 1, 2)),
        feature({"code": "420101002", "name": "乙乡"}, square(1, 0, 1, 2)),
        feature({"code": "420101001001", "name": "甲村"}, square(0, 0)),
        feature({"code": "420101001002", "name": "甲二村"}, square(0, 1)),
        feature({"code": "420101002001", "name": "乙村"}, square(1, 0)),
        feature({"code": "420101002002", "name": "乙二村"}, square(1, 1)),
        feature({"code": "2142010001", "name": "甲镇中心小学"}, point(0.5, 0.5)),
        feature({"code": "2142010002", "name": "乙乡中学"}, point(1.5, 0.5)),
    ]


def geojson(items: list[dict[str, Any]] | None = None) -> bytes:
    doc = {"type": "FeatureCollection", "features": features() if items is None else items}
    return json.dumps(doc, ensure_ascii=False).encode()


WGS84_PRJ = (
    'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
    'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]'
)
CGCS2000_PRJ = (
    'GEOGCS["China Geodetic Coordinate System 2000",DATUM["D_China_2000",'
    'SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]]'
)
PROJECTED_PRJ = (
    'PROJCS["CGCS2000_3_Degree_GK_CM_111E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",'
    'DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],'
    'PARAMETER["False_Easting",500000.0],PARAMETER["Central_Meridian",111.0],UNIT["Meter",1.0]]'
)


def shapefile_zip(
    rows: list[tuple[str, str, list[list[list[float]]]]],
    *,
    encoding: str = "gbk",
    prj: str | None = CGCS2000_PRJ,
    cpg: str | None = None,
    field_names: tuple[str, str] = ("XZQDM", "XZQMC"),
) -> bytes:
    """Write a polygon shapefile (code, name, rings) with pyshp and zip it as a county sends it."""
    import shapefile

    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    w = shapefile.Writer(shp=shp, shx=shx, dbf=dbf, shapeType=shapefile.POLYGON, encoding=encoding)
    w.field(field_names[0], "C", size=20)
    w.field(field_names[1], "C", size=50)
    for code, name, rings in rows:
        w.poly(rings)
        w.record(code, name)
    w.close()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("村界/cun.shp", shp.getvalue())
        z.writestr("村界/cun.shx", shx.getvalue())
        z.writestr("村界/cun.dbf", dbf.getvalue())
        if prj is not None:
            z.writestr("村界/cun.prj", prj)
        if cpg is not None:
            z.writestr("村界/cun.cpg", cpg)
    return out.getvalue()


def village_rings() -> list[tuple[str, str, list[list[list[float]]]]]:
    out = []
    for code, name, (col, row) in (
        ("420101001001", "甲村", (0, 0)),
        ("420101001002", "甲二村", (0, 1)),
        ("420101002001", "乙村", (1, 0)),
        ("420101002002", "乙二村", (1, 1)),
    ):
        ring = square(col, row)["coordinates"][0]
        # shapefile outer rings run clockwise
        out.append((code, name, [list(reversed(ring))]))
    return out
