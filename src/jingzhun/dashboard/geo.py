"""Read and check the county's map: a GeoJSON FeatureCollection or a zipped ESRI shapefile.

Each feature names an area of the county (county, township or village boundary) or a school
(its point) by its code; docs/map-formats.md says which properties, coordinate systems and
encodings are accepted. Reading never writes: :func:`plan_import` returns what an import would
do (counts per kind, errors naming the feature, field and reason, the areas left without a
shape), and :func:`apply_import` replaces the county's features in one transaction, only when
the plan has no error.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from jingzhun.core.audit import audit_record
from jingzhun.dashboard.models import MapFeature
from jingzhun.registry.models import Area
from jingzhun.schools.models import School

#: Property names that give a feature's code, most specific first (compared case-insensitively).
CODE_KEYS = (
    "code",
    "行政区划代码",
    "区划代码",
    "xzqdm",
    "adcode",
    "dm",
    "代码",
    "school_code",
    "学校代码",
    "xxdm",
)
#: Property names that give a feature's name.
NAME_KEYS = ("name", "名称", "xzqmc", "mc", "school_name", "学校名称", "xxmc")
#: Property names that give a feature's kind, and the values understood.
KIND_KEYS = ("kind", "level", "type", "级别", "类型")
KIND_VALUES = {
    "county": "county",
    "县": "county",
    "区县": "county",
    "township": "township",
    "town": "township",
    "乡镇": "township",
    "乡": "township",
    "镇": "township",
    "village": "village",
    "村": "village",
    "行政村": "village",
    "school": "school",
    "学校": "school",
}
KIND_BY_LENGTH = {6: "county", 9: "township", 12: "village"}
BOUNDARY_KINDS = ("county", "township", "village")

#: More features than this is no county's map.
MAX_FEATURES = 20_000
#: More coordinate pairs than this in all is more detail than a county's map needs.
MAX_POSITIONS = 2_000_000
#: A zipped shapefile may not unpack to more than this, nor be compressed more than MAX_RATIO.
MAX_UNZIPPED_BYTES = 256 * 1024 * 1024
MAX_RATIO = 200
#: Coordinates are kept to 6 decimals (about 0.1 m).
DECIMALS = 6
#: Errors listed at most; past it the list says how many more.
MAX_ERRORS = 200

#: Geographic coordinate systems accepted in a .prj: WGS 84 and CGCS 2000 (China Geodetic
#: Coordinate System 2000), which agree to within a metre at county scale.
ACCEPTED_DATUMS = (
    "wgs_1984",
    "wgs 84",
    "wgs84",
    "world geodetic system 1984",
    "china_2000",
    "cgcs2000",
    "cgcs_2000",
    "china geodetic coordinate system 2000",
)


class MapFileError(Exception):
    """The file cannot be read at all (not GeoJSON, not a shapefile, a projected CRS...)."""


@dataclass
class RawFeature:
    number: int  # 1-based, in the file's order
    properties: dict[str, Any]
    geometry: Any


@dataclass
class Planned:
    number: int
    kind: str
    code: str
    name: str
    township_code: str
    school_id: int | None
    geometry: dict[str, Any]
    bbox: tuple[float, float, float, float]


@dataclass
class Place:
    """An area or school of the county, as the importer checks codes against."""

    kind: str
    name: str
    township_code: str
    school_id: int | None = None


@dataclass
class MapPlan:
    county_code: str
    source: str
    features: list[Planned] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    more_errors: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    unknown_codes: list[str] = field(default_factory=list)
    # (kind, code, name) of the county's townships and villages without a boundary, schools
    # without a point.
    missing: list[tuple[str, str, str]] = field(default_factory=list)
    replaces: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.features)

    def error(self, text: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(text)
        else:
            self.more_errors += 1


# --------------------------------------------------------------------------- reading


def read_map_file(data: bytes, name: str) -> list[RawFeature]:
    """Return the features of a GeoJSON file or a zipped shapefile (told by content)."""
    if data[:4] == b"PK\x03\x04":
        return _read_shapefile_zip(data, name)
    return _read_geojson(data, name)


def _read_geojson(data: bytes, name: str) -> list[RawFeature]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MapFileError(
            _("%(file)s is not UTF-8 text: a GeoJSON file is UTF-8 (RFC 7946).") % {"file": name}
        ) from exc
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise MapFileError(
            _("%(file)s is neither GeoJSON nor a zipped shapefile: %(reason)s")
            % {"file": name, "reason": str(exc)}
        ) from exc
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        doc = {"type": "FeatureCollection", "features": [doc]}
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise MapFileError(
            _("%(file)s is JSON but not a GeoJSON FeatureCollection.") % {"file": name}
        )
    crs = doc.get("crs")
    if isinstance(crs, dict):
        crs_name = str((crs.get("properties") or {}).get("name", ""))
        if crs_name and not re.search(r"(CRS84|4326|4490|4490|CGCS|WGS)", crs_name, re.I):
            raise MapFileError(
                _(
                    "%(file)s declares the coordinate system %(crs)s; only longitude/latitude "
                    "in WGS 84 or CGCS 2000 (EPSG:4326, EPSG:4490) is accepted: reproject it "
                    "in your GIS first."
                )
                % {"file": name, "crs": crs_name}
            )
    features = doc.get("features")
    if not isinstance(features, list):
        raise MapFileError(_("%(file)s has no list of features.") % {"file": name})
    if len(features) > MAX_FEATURES:
        raise MapFileError(
            _("%(file)s has %(n)d features; at most %(max)d are accepted.")
            % {"file": name, "n": len(features), "max": MAX_FEATURES}
        )
    out = []
    for i, f in enumerate(features, start=1):
        if not isinstance(f, dict):
            out.append(RawFeature(i, {}, None))
            continue
        props = f.get("properties")
        out.append(RawFeature(i, props if isinstance(props, dict) else {}, f.get("geometry")))
    return out


def _prj_check(prj: str, name: str) -> None:
    """Refuse a .prj that is not a geographic WGS 84 / CGCS 2000 system, saying which it is."""
    text = prj.strip()
    head = text.split("[", 1)[0].strip().upper()
    label = re.search(r'\[\s*"([^"]*)"', text)
    crs_name = label.group(1) if label else text[:60]
    if head in ("PROJCS", "PROJCRS", "PROJECTEDCRS"):
        raise MapFileError(
            _(
                "%(file)s is in a projected coordinate system (%(crs)s): only geographic "
                "longitude/latitude in WGS 84 or CGCS 2000 (EPSG:4326, EPSG:4490) is accepted. "
                "Reproject the layer in your GIS (e.g. QGIS: Export > Save Features As, CRS "
                "EPSG:4490) and zip it again."
            )
            % {"file": name, "crs": crs_name}
        )
    if head not in ("GEOGCS", "GEOGCRS", "GEODCRS"):
        raise MapFileError(
            _("%(file)s: the .prj file is not a coordinate system this platform can read.")
            % {"file": name}
        )
    lowered = text.lower()
    if not any(d in lowered for d in ACCEPTED_DATUMS):
        raise MapFileError(
            _(
                "%(file)s is in the geographic system %(crs)s: only WGS 84 or CGCS 2000 "
                "(EPSG:4326, EPSG:4490) is accepted (Beijing 1954 and Xi'an 1980 differ by "
                "up to a hundred metres): convert it in your GIS first."
            )
            % {"file": name, "crs": crs_name}
        )


_CPG = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "65001": "utf-8",
    "gbk": "gbk",
    "gb2312": "gbk",
    "gb18030": "gb18030",
    "936": "gbk",
    "cp936": "gbk",
    "ansi 936": "gbk",
}


def _read_shapefile_zip(data: bytes, name: str) -> list[RawFeature]:
    import shapefile  # pyshp

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise MapFileError(_("%(file)s is not a readable zip archive.") % {"file": name}) from exc
    infos = archive.infolist()
    total = sum(i.file_size for i in infos)
    if total > MAX_UNZIPPED_BYTES or any(
        i.file_size > (1 << 20) and i.file_size > MAX_RATIO * max(1, i.compress_size) for i in infos
    ):
        raise MapFileError(_("%(file)s unpacks to too much to be a county's map.") % {"file": name})
    by_ext: dict[str, list[zipfile.ZipInfo]] = {}
    for info in infos:
        if info.is_dir() or PurePosixPath(info.filename).name.startswith("."):
            continue
        by_ext.setdefault(PurePosixPath(info.filename).suffix.lower(), []).append(info)
    shps = by_ext.get(".shp", [])
    if len(shps) != 1:
        raise MapFileError(
            _("%(file)s must hold exactly one .shp layer (found %(n)d).")
            % {"file": name, "n": len(shps)}
        )
    stem = PurePosixPath(shps[0].filename).with_suffix("")

    def part(ext: str) -> bytes | None:
        for info in by_ext.get(ext, []):
            if PurePosixPath(info.filename).with_suffix("") == stem:
                return _read_bounded(archive, info)
        return None

    shp, shx, dbf, prj, cpg = (part(e) for e in (".shp", ".shx", ".dbf", ".prj", ".cpg"))
    for ext, blob in ((".shx", shx), (".dbf", dbf)):
        if blob is None:
            raise MapFileError(
                _(
                    "%(file)s has no %(ext)s file beside the .shp: a shapefile is the .shp, .shx "
                    "and .dbf (and .prj) of one name."
                )
                % {"file": name, "ext": ext}
            )
    if prj is not None:
        _prj_check(prj.decode("latin-1"), name)
    encodings = ["utf-8", "gb18030"]
    if cpg is not None:
        declared = _CPG.get(cpg.decode("latin-1").strip().lower())
        if declared:
            encodings = [declared]
    last: Exception | None = None
    for encoding in encodings:
        try:
            reader = shapefile.Reader(
                shp=io.BytesIO(shp or b""),
                shx=io.BytesIO(shx or b""),
                dbf=io.BytesIO(dbf or b""),
                encoding=encoding,
                encodingErrors="strict",
            )
            if len(reader) > MAX_FEATURES:
                raise MapFileError(
                    _("%(file)s has %(n)d features; at most %(max)d are accepted.")
                    % {"file": name, "n": len(reader), "max": MAX_FEATURES}
                )
            out = []
            for i, rec in enumerate(reader.iterShapeRecords(), start=1):
                geometry = rec.shape.__geo_interface__ if rec.shape.shapeType else None
                out.append(RawFeature(i, dict(rec.record.as_dict()), geometry))
            return out
        except UnicodeDecodeError as exc:
            last = exc
            continue
        except MapFileError:
            raise
        except Exception as exc:  # pyshp raises plain exceptions for broken files
            raise MapFileError(
                _("%(file)s: the shapefile cannot be read: %(reason)s")
                % {"file": name, "reason": str(exc)}
            ) from exc
    raise MapFileError(
        _(
            "%(file)s: the .dbf's text is neither UTF-8 nor GBK; add a .cpg file naming its "
            "encoding."
        )
        % {"file": name}
    ) from last


def _read_bounded(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with archive.open(info) as handle:
        blob = handle.read(MAX_UNZIPPED_BYTES + 1)
    if len(blob) > MAX_UNZIPPED_BYTES:
        raise MapFileError(_("The archive unpacks to too much to be a county's map."))
    return blob


# --------------------------------------------------------------------------- checking


def _prop(props: dict[str, Any], keys: tuple[str, ...]) -> tuple[str, str]:
    """Return (property name, value as text) of the first of `keys` present and not empty."""
    lowered = {str(k).strip().lower(): k for k in props}
    for key in keys:
        original = lowered.get(key)
        if original is None:
            continue
        value = props[original]
        if value is None:
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        if text:
            return str(original), text
    return "", ""


def county_places(county_code: str) -> dict[str, Place]:
    """Return the county's areas and schools by code (labels and keys only, no personal data)."""
    places: dict[str, Place] = {}
    areas = Area.objects.filter(code__startswith=county_code).values_list("code", "name", "level")
    for code, name, level in areas:
        places[code] = Place(level, name, code[:9] if level != "county" else "")
    schools = School.objects.filter(township__code__startswith=county_code).values_list(
        "pk", "code", "name", "township__code"
    )
    for pk, code, name, township in schools:
        places.setdefault(code, Place("school", name, township or "", pk))
    return places


def _positions(geometry: dict[str, Any]) -> list[Any]:
    """Return the geometry's rings (boundaries) or its point, as lists of positions."""
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "Point":
        return [[coords]]
    if kind == "Polygon":
        return list(coords) if isinstance(coords, list) else [None]
    if kind == "MultiPolygon":
        if not isinstance(coords, list):
            return [None]
        return [ring for poly in coords for ring in (poly if isinstance(poly, list) else [None])]
    return [None]


def _clean_geometry(geometry: dict[str, Any], kind: str) -> tuple[dict[str, Any], str]:
    """Return the geometry rounded, or an error's reason."""
    gtype = geometry.get("type")
    if kind == "school":
        if gtype != "Point":
            return {}, _("a school is a Point, not a %(type)s") % {"type": gtype}
    elif gtype not in ("Polygon", "MultiPolygon"):
        return {}, _("a boundary is a Polygon or MultiPolygon, not a %(type)s") % {"type": gtype}

    def position(p: Any) -> list[float] | None:
        if not isinstance(p, list | tuple) or len(p) < 2:
            return None
        try:
            x, y = float(p[0]), float(p[1])
        except (TypeError, ValueError):
            return None
        if not (math.isfinite(x) and math.isfinite(y)):
            return None
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            return None
        return [round(x, DECIMALS), round(y, DECIMALS)]

    def ring(r: Any) -> tuple[list[list[float]] | None, str]:
        if not isinstance(r, list | tuple):
            return None, _("a ring is not a list of positions")
        out = []
        for p in r:
            q = position(p)
            if q is None:
                return None, _(
                    "coordinate %(value)s is not longitude/latitude (longitude -180..180, "
                    "latitude -90..90): is the layer projected?"
                ) % {"value": json.dumps(p)[:40]}
            out.append(q)
        if len(out) < 4 or out[0] != out[-1]:
            return None, _("a ring needs at least 4 positions, the last the same as the first")
        return out, ""

    if gtype == "Point":
        p = position(geometry.get("coordinates"))
        if p is None:
            return {}, _(
                "coordinate %(value)s is not longitude/latitude (longitude -180..180, "
                "latitude -90..90): is the layer projected?"
            ) % {"value": json.dumps(geometry.get("coordinates"))[:40]}
        return {"type": "Point", "coordinates": p}, ""
    coords = geometry.get("coordinates")
    polys = [coords] if gtype == "Polygon" else coords
    if not isinstance(polys, list) or not polys:
        return {}, _("the geometry has no coordinates")
    clean_polys = []
    for poly in polys:
        if not isinstance(poly, list) or not poly:
            return {}, _("a polygon has no rings")
        rings = []
        for r in poly:
            cleaned, reason = ring(r)
            if cleaned is None:
                return {}, reason
            rings.append(cleaned)
        clean_polys.append(rings)
    if gtype == "Polygon":
        return {"type": "Polygon", "coordinates": clean_polys[0]}, ""
    return {"type": "MultiPolygon", "coordinates": clean_polys}, ""


def bbox_of(geometry: dict[str, Any]) -> tuple[float, float, float, float]:
    xs: list[float] = []
    ys: list[float] = []
    for ring in _positions(geometry):
        for p in ring or []:
            xs.append(p[0])
            ys.append(p[1])
    return (min(xs), min(ys), max(xs), max(ys))


def plan_import(
    raw: list[RawFeature], *, county_code: str, source: str, places: dict[str, Place] | None = None
) -> MapPlan:
    """Check every feature against the county's areas and schools; return what would land."""
    plan = MapPlan(county_code=county_code, source=source)
    places = county_places(county_code) if places is None else places
    seen: dict[tuple[str, str], int] = {}
    positions = 0
    for f in raw:
        n = f.number

        def err(field_name: str, reason: str, n: int = n) -> None:
            plan.error(
                _("Feature %(n)d, %(field)s: %(reason)s")
                % {"n": n, "field": field_name, "reason": reason}
            )

        if not f.properties and f.geometry is None:
            err(_("feature"), _("not a GeoJSON Feature object"))
            continue
        code_key, code = _prop(f.properties, CODE_KEYS)
        if not code:
            err(
                _("code"),
                _("no code property (one of: %(keys)s)") % {"keys": ", ".join(CODE_KEYS[:5])},
            )
            continue
        _k, name = _prop(f.properties, NAME_KEYS)
        kind_key, kind_text = _prop(f.properties, KIND_KEYS)
        place = places.get(code)
        kind = ""
        if kind_text:
            kind = KIND_VALUES.get(kind_text.lower(), "")
            if not kind:
                err(
                    kind_key,
                    _("%(value)s is not a kind (county, township, village or school)")
                    % {"value": kind_text},
                )
                continue
        if place is None:
            plan.unknown_codes.append(code)
            err(
                code_key,
                _("%(code)s names no area or school of county %(county)s")
                % {"code": code, "county": county_code},
            )
            continue
        if kind and kind != place.kind:
            err(
                kind_key,
                _("%(code)s is a %(actual)s, not a %(given)s")
                % {"code": code, "actual": place.kind, "given": kind},
            )
            continue
        kind = place.kind
        if code.isdigit() and kind in BOUNDARY_KINDS and KIND_BY_LENGTH.get(len(code)) != kind:
            err(code_key, _("%(code)s is not a %(kind)s code") % {"code": code, "kind": kind})
            continue
        if not isinstance(f.geometry, dict):
            err(_("geometry"), _("the feature has no geometry"))
            continue
        geometry, reason = _clean_geometry(f.geometry, kind)
        if reason:
            err(_("geometry"), reason)
            continue
        positions += sum(len(r or []) for r in _positions(geometry))
        if positions > MAX_POSITIONS:
            raise MapFileError(
                _("The file has more than %(max)d coordinate pairs: simplify it first.")
                % {"max": MAX_POSITIONS}
            )
        key = (kind, code)
        if key in seen:
            err(
                code_key,
                _("%(code)s again (feature %(first)d has it)") % {"code": code, "first": seen[key]},
            )
            continue
        seen[key] = n
        plan.features.append(
            Planned(
                number=n,
                kind=kind,
                code=code,
                name=name or place.name,
                township_code=place.township_code,
                school_id=place.school_id,
                geometry=geometry,
                bbox=bbox_of(geometry),
            )
        )
    if not raw:
        plan.error(_("The file has no features."))
    plan.counts = dict(Counter(p.kind for p in plan.features))
    shaped = set(seen)
    for code, place in sorted(places.items()):
        if place.kind in ("township", "village", "school") and (place.kind, code) not in shaped:
            plan.missing.append((place.kind, code, place.name))
    plan.replaces = MapFeature.objects.filter(county_code=county_code).count()
    return plan


def apply_import(plan: MapPlan, *, actor: Any, request: Any = None) -> int:
    """Replace the county's features by the plan's, in one transaction; return how many."""
    if not plan.ok:
        raise MapFileError(_("The file has errors: nothing was replaced."))
    with transaction.atomic():
        removed, _d = MapFeature.objects.filter(county_code=plan.county_code).delete()
        MapFeature.objects.bulk_create(
            MapFeature(
                county_code=plan.county_code,
                kind=p.kind,
                code=p.code,
                township_code=p.township_code,
                school_id=p.school_id,
                name=p.name[:100],
                geometry=p.geometry,
                min_x=p.bbox[0],
                min_y=p.bbox[1],
                max_x=p.bbox[2],
                max_y=p.bbox[3],
                source=plan.source[:200],
            )
            for p in plan.features
        )
        audit_record(
            actor=actor,
            action="map.import",
            object_type="dashboard.mapfeature",
            object_id=plan.county_code,
            request=request,
            data={"source": plan.source[:200], "counts": plan.counts, "replaced": removed},
        )
    return len(plan.features)


def infer_county(raw: list[RawFeature]) -> str:
    """Return the county code the file's area codes share (for the command without --county)."""
    counties: Counter[str] = Counter()
    for f in raw:
        _k, code = _prop(f.properties, CODE_KEYS)
        if code.isdigit() and len(code) in (6, 9, 12):
            counties[code[:6]] += 1
    for code, _n in counties.most_common():
        if Area.objects.filter(code=code, level=Area.Level.COUNTY).exists():
            return code
    raise MapFileError(_("The file names no county of the platform: give --county."))
