"""The demo county's map: plausible boundaries and school points, written as GeoJSON beside the
county's other files and loaded through the real importer (jingzhun.dashboard.geo).

The county is a jittered grid of cells around its real-ish place in western Hubei (清溪县
422827 stands where 来凤县 does, about 109.4E 29.5N). The grid is cut into townships, each a
block of cells sized by its number of villages, and each township into its villages, by
recursive slicing (a treemap). Every cell corner is jittered once and every edge bends at a
jittered midpoint keyed by the edge, so neighbours share their edges exactly. A school stands
inside its village (or its township's middle when it names no village).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jingzhun.dashboard import geo
from jingzhun.dashboard.models import MapFeature
from jingzhun.registry.models import Area
from jingzhun.schools.models import School

FILE_NAME = "map.geojson"
#: Where the demo county lies: its south-west corner and its size in degrees.
ORIGIN = (109.18, 29.24)
SIZE = (0.55, 0.50)

Rect = tuple[int, int, int, int]  # c0, r0, c1, r1 (cells, c1/r1 exclusive)


def _slice(rect: Rect, items: list[tuple[str, int]], out: dict[str, Rect]) -> None:
    """Cut `rect` into one rectangle per item, each of at least `weight` cells."""
    if len(items) == 1:
        out[items[0][0]] = rect
        return
    c0, r0, c1, r1 = rect
    total = sum(w for _k, w in items)
    half, acc = 0, 0
    for i, (_k, w) in enumerate(items[:-1]):
        acc += w
        half = i + 1
        if acc * 2 >= total:
            break
    first, second = items[:half], items[half:]
    n1, n2 = sum(w for _k, w in first), sum(w for _k, w in second)
    width, height = c1 - c0, r1 - r0
    for vertical in ((width >= height), not (width >= height)):
        length, cross = (width, height) if vertical else (height, width)
        want = round(length * n1 / (n1 + n2))
        for k in sorted(range(1, length), key=lambda k: abs(k - want)):
            if k * cross >= n1 and (length - k) * cross >= n2:
                if vertical:
                    _slice((c0, r0, c0 + k, r1), first, out)
                    _slice((c0 + k, r0, c1, r1), second, out)
                else:
                    _slice((c0, r0, c1, r0 + k), first, out)
                    _slice((c0, r0 + k, c1, r1), second, out)
                return
    raise ValueError("the grid is too small for the areas")  # pragma: no cover - sized below


class Grid:
    def __init__(self, cols: int, rows: int, rng: random.Random) -> None:
        self.cols, self.rows = cols, rows
        self.dx, self.dy = SIZE[0] / cols, SIZE[1] / rows
        self.corners: dict[tuple[int, int], tuple[float, float]] = {}
        self.bends: dict[tuple[str, int, int], tuple[float, float]] = {}
        for i in range(cols + 1):
            for j in range(rows + 1):
                jx = rng.uniform(-0.28, 0.28) * self.dx
                jy = rng.uniform(-0.28, 0.28) * self.dy
                self.corners[(i, j)] = (ORIGIN[0] + i * self.dx + jx, ORIGIN[1] + j * self.dy + jy)
        for i in range(cols + 1):
            for j in range(rows + 1):
                if i < cols:
                    self.bends[("h", i, j)] = self._bend(
                        self.corners[(i, j)], self.corners[(i + 1, j)], rng
                    )
                if j < rows:
                    self.bends[("v", i, j)] = self._bend(
                        self.corners[(i, j)], self.corners[(i, j + 1)], rng
                    )

    def _bend(
        self, a: tuple[float, float], b: tuple[float, float], rng: random.Random
    ) -> tuple[float, float]:
        mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
        s = rng.uniform(-0.18, 0.18)
        # push the midpoint across the edge
        return (mx - (b[1] - a[1]) * s, my + (b[0] - a[0]) * s)

    def outline(self, rect: Rect) -> dict[str, Any]:
        """Return the rectangle of cells as a GeoJSON Polygon, counter-clockwise."""
        c0, r0, c1, r1 = rect
        pts: list[tuple[float, float]] = []
        for i in range(c0, c1):  # bottom, west to east
            pts += [self.corners[(i, r0)], self.bends[("h", i, r0)]]
        for j in range(r0, r1):  # east side, south to north
            pts += [self.corners[(c1, j)], self.bends[("v", c1, j)]]
        for i in range(c1, c0, -1):  # top, east to west
            pts += [self.corners[(i, r1)], self.bends[("h", i - 1, r1)]]
        for j in range(r1, r0, -1):  # west side, north to south
            pts += [self.corners[(c0, j)], self.bends[("v", c0, j - 1)]]
        ring = [[round(x, 5), round(y, 5)] for x, y in pts]
        ring.append(ring[0])
        return {"type": "Polygon", "coordinates": [ring]}

    def middle(self, rect: Rect, rng: random.Random) -> list[float]:
        c0, r0, c1, r1 = rect
        x = ORIGIN[0] + (c0 + (c1 - c0) * rng.uniform(0.35, 0.65)) * self.dx
        y = ORIGIN[1] + (r0 + (r1 - r0) * rng.uniform(0.35, 0.65)) * self.dy
        return [round(x, 5), round(y, 5)]


def county_map(county: Area, *, seed: int) -> dict[str, Any]:
    """Return the county's map as a GeoJSON FeatureCollection (areas and schools from the DB)."""
    rng = random.Random(f"map-{seed}-{county.code}")  # noqa: S311  # nosec B311 - synthetic demo data
    townships = list(
        Area.objects.filter(level="township", code__startswith=county.code).order_by("code")
    )
    villages: dict[str, list[Area]] = {t.code: [] for t in townships}
    for v in Area.objects.filter(level="village", code__startswith=county.code).order_by("code"):
        villages.setdefault(v.code[:9], []).append(v)
    total = sum(max(1, len(vs)) for vs in villages.values())
    cells = 3 * total
    cols = max(2, round(math.sqrt(cells * SIZE[0] / SIZE[1])))
    rows = max(2, math.ceil(cells / cols))
    grid = Grid(cols, rows, rng)
    township_rects: dict[str, Rect] = {}
    items = [(t.code, max(1, len(villages.get(t.code, [])))) for t in townships]
    if items:
        _slice((0, 0, cols, rows), items, township_rects)
    village_rects: dict[str, Rect] = {}
    for code, rect in township_rects.items():
        vs = villages.get(code, [])
        if vs:
            _slice(rect, [(v.code, 1) for v in vs], village_rects)
    features: list[dict[str, Any]] = []

    def add(props: dict[str, Any], geometry: dict[str, Any]) -> None:
        features.append({"type": "Feature", "properties": props, "geometry": geometry})

    add(
        {"code": county.code, "name": county.name, "kind": "county"},
        grid.outline((0, 0, cols, rows)),
    )
    for t in townships:
        if t.code in township_rects:
            add({"code": t.code, "name": t.name}, grid.outline(township_rects[t.code]))
    for vs in villages.values():
        for v in vs:
            if v.code in village_rects:
                add({"code": v.code, "name": v.name}, grid.outline(village_rects[v.code]))
    schools = School.objects.filter(township__code__startswith=county.code).select_related(
        "village", "township"
    )
    for s in schools.order_by("code"):
        where = village_rects.get(s.village.code) if s.village is not None else None
        if where is None and s.township is not None:
            where = township_rects.get(s.township.code)
        if where is not None:
            add(
                {"code": s.code, "name": s.name, "kind": "school"},
                {"type": "Point", "coordinates": grid.middle(where, rng)},
            )
    return {"type": "FeatureCollection", "name": f"{county.name} demo map", "features": features}


def map_demo(
    *, actor: Any, county: Area, out: Path, seed: int, echo: Callable[[str], None]
) -> None:
    """Write the demo county's map beside its other files and import it the way a county does."""
    path = out / FILE_NAME
    if not path.exists():
        doc = county_map(county, seed=seed)
        path.write_text(
            json.dumps(doc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
        )
    raw = geo.read_map_file(path.read_bytes(), path.name)
    plan = geo.plan_import(raw, county_code=county.code, source=path.name)
    if not plan.ok:
        raise geo.MapFileError("; ".join(plan.errors[:5]) or "the demo map has no features")
    now = {
        (f.kind, f.code, json.dumps(f.geometry, sort_keys=True))
        for f in MapFeature.objects.filter(county_code=county.code)
    }
    new = {(p.kind, p.code, json.dumps(p.geometry, sort_keys=True)) for p in plan.features}
    counts = ", ".join(f"{k} {n}" for k, n in sorted(plan.counts.items()))
    if now == new:
        echo(f"import map: unchanged ({counts})")
        return
    geo.apply_import(plan, actor=actor)
    echo(f"import map: {counts}")
