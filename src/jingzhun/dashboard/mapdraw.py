"""The operational map: which villages a user may see, their figures, and the map as SVG.

Everything a person sees is read through the owning apps' selectors, scoped to the user:
a county or township user sees the villages of their jurisdiction (registry), a principal or
class teacher the village their school stands in and those their pupils come from. The county's shapes (MapFeature) are not
personal data and are drawn for everyone of the county; only the villages of the user's
jurisdiction are coloured, carry figures and link to their page.

The SVG is drawn on the server: longitude/latitude are projected equirectangularly, the
longitude scaled by the cosine of the map's middle latitude, and rounded to a tenth of a pixel
of a 1000-pixel-wide drawing, which keeps a county of a few hundred villages far under 300 KB.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from jingzhun.core.scoping import scope_of, scope_queryset
from jingzhun.dashboard.models import MapFeature
from jingzhun.duty import selectors as duty
from jingzhun.identification import selectors as identification
from jingzhun.identification.models import ChildStatus
from jingzhun.registry import selectors as registry
from jingzhun.registry.models import Area
from jingzhun.schools import selectors as schools

MEASURES = ("poor", "cases", "coverage", "overdue")
WIDTH = 1000.0
GREY = "#e5e7eb"


@dataclass
class Village:
    code: str
    name: str
    township_code: str
    poor: bool
    point: tuple[float, float] | None = None
    open_cases: int = 0
    overdue: int = 0
    school_age: int = 0
    school_age_known: int = 0

    @property
    def coverage(self) -> Decimal | None:
        return identification.percent(self.school_age_known, self.school_age)


@dataclass
class Legend:
    key: str
    label: str
    colour: str
    count: int = 0


def measure_labels() -> list[tuple[str, str]]:
    return [
        ("poor", _("Poor village")),
        ("cases", _("Open dropout cases")),
        ("coverage", _("Identification coverage (school age)")),
        ("overdue", _("Overdue dropout cases")),
    ]


def legend_of(measure: str) -> list[Legend]:
    """Return the classes of a measure, in the legend's order."""
    rows = {
        "poor": [
            ("poor", _("poor village"), "#dc2626"),
            ("not-poor", _("not a poor village"), "#bfdbfe"),
        ],
        "cases": [
            ("c0", _("no open case"), "#dcfce7"),
            ("c1", _("1 open case"), "#fde68a"),
            ("c2", _("2–3 open cases"), "#fb923c"),
            ("c4", _("4 or more open cases"), "#b91c1c"),
        ],
        "coverage": [
            ("none", _("no school-age poor child"), "#f8fafc"),
            ("v100", _("100%"), "#15803d"),
            ("v95", _("95% to under 100%"), "#86efac"),
            ("v80", _("80% to under 95%"), "#fde68a"),
            ("vlow", _("under 80%"), "#dc2626"),
        ],
        "overdue": [
            ("o0", _("no overdue case"), "#dcfce7"),
            ("o1", _("1 overdue case"), "#fb923c"),
            ("o2", _("2 or more overdue cases"), "#7f1d1d"),
        ],
    }[measure]
    return [Legend(k, str(label), colour) for k, label, colour in rows]


def class_of(measure: str, village: Village) -> str:
    """Return the legend class a village falls in for a measure."""
    if measure == "poor":
        return "poor" if village.poor else "not-poor"
    if measure == "cases":
        n = village.open_cases
        return "c0" if n == 0 else "c1" if n == 1 else "c2" if n <= 3 else "c4"
    if measure == "overdue":
        n = village.overdue
        return "o0" if n == 0 else "o1" if n == 1 else "o2"
    share = village.coverage
    if share is None:
        return "none"
    if share >= 100:
        return "v100"
    if share >= 95:
        return "v95"
    if share >= 80:
        return "v80"
    return "vlow"


def _point(lon: Any, lat: Any) -> tuple[float, float] | None:
    if lon is None or lat is None:
        return None
    return (float(lon), float(lat))


def visible_villages(user: Any) -> dict[str, Village]:
    """Return the villages of the user's jurisdiction, by code (empty without one)."""
    scope = scope_of(user)
    out: dict[str, Village] = {}
    if scope.level in ("county", "township"):
        rows = registry.area_list(user=user).filter(level=Area.Level.VILLAGE)
        for a in rows.only("code", "name", "is_poor", "longitude", "latitude"):
            out[a.code] = Village(
                a.code, a.name, a.code[:9], a.is_poor, _point(a.longitude, a.latitude)
            )
    elif scope.level in ("school", "class"):
        # A school's area: the village it stands in and the villages its pupils come from
        # (the children and cases it may see). Village names and the poor-village flag are
        # public labels, not personal data.
        codes = set(
            schools.school_list(user=user)
            .filter(village__isnull=False)
            .values_list("village__code", flat=True)
        )
        codes |= set(duty.case_list(user=user).values_list("village_code", flat=True))
        run = identification.latest_run(user=user)
        if run is not None:
            codes |= set(
                identification.status_list(user=user, run=run).values_list(
                    "village_code", flat=True
                )
            )
        rows = Area.objects.filter(level=Area.Level.VILLAGE, code__in=codes)
        for a in rows.only("code", "name", "is_poor", "longitude", "latitude"):
            out[a.code] = Village(
                a.code, a.name, a.code[:9], a.is_poor, _point(a.longitude, a.latitude)
            )
    return out


def fill_figures(user: Any, villages: dict[str, Village], *, on: dt.date) -> None:
    """Add each village's open and overdue dropout cases and identification coverage."""
    if not villages:
        return
    for row in duty.ledger(user=user, today=on):
        v = villages.get(row.case.village_code)
        if v is not None:
            v.open_cases += 1
            v.overdue += int(row.overdue)
    run = identification.latest_run(user=user)
    if run is None:
        return
    for c in identification.coverage(user=user, run=run).villages:
        v = villages.get(c.code)
        if v is not None:
            v.school_age = c.school_age
            v.school_age_known = c.school_age_known


# --------------------------------------------------------------------------- drawing


@dataclass
class Projection:
    min_x: float
    max_y: float
    kx: float
    k: float
    height: float

    @classmethod
    def fit(cls, boxes: list[tuple[float, float, float, float]]) -> Projection:
        min_x = min(b[0] for b in boxes)
        min_y = min(b[1] for b in boxes)
        max_x = max(b[2] for b in boxes)
        max_y = max(b[3] for b in boxes)
        kx = math.cos(math.radians((min_y + max_y) / 2))
        span_x = max((max_x - min_x) * kx, 1e-6)
        span_y = max(max_y - min_y, 1e-6)
        pad = 0.02
        k = WIDTH / (span_x * (1 + 2 * pad))
        proj = cls(min_x - span_x * pad / kx, max_y + span_y * pad, kx, k, 0.0)
        proj.height = round(span_y * (1 + 2 * pad) * k, 1)
        return proj

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (
            round((lon - self.min_x) * self.kx * self.k, 1),
            round((self.max_y - lat) * self.k, 1),
        )


def _num(v: float) -> str:
    text = f"{v:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _path(geometry: dict[str, Any], proj: Projection) -> str:
    polys = (
        [geometry["coordinates"]]
        if geometry.get("type") == "Polygon"
        else geometry.get("coordinates", [])
    )
    parts: list[str] = []
    for poly in polys:
        for ring in poly:
            pts: list[str] = []
            last = None
            for lon, lat, *_rest in ring:
                p = proj.xy(lon, lat)
                if p == last:
                    continue
                last = p
                pts.append(f"{_num(p[0])} {_num(p[1])}")
            if len(pts) >= 3:
                parts.append("M" + "L".join(pts) + "Z")
    return "".join(parts)


@dataclass
class MapDrawing:
    svg: SafeString
    legend: list[Legend]
    shaped: int  # villages drawn from a boundary
    pointed: int  # villages drawn as points (no boundary imported)
    unplaced: list[Village] = field(default_factory=list)  # visible villages nowhere on the map
    has_features: bool = False


def _title(text: str) -> str:
    return f"<title>{escape(text)}</title>"


def figure_text(measure: str, v: Village) -> str:
    if measure == "poor":
        return _("poor village") if v.poor else _("not a poor village")
    if measure == "cases":
        return _("%(n)d open dropout cases") % {"n": v.open_cases}
    if measure == "overdue":
        return _("%(n)d overdue dropout cases") % {"n": v.overdue}
    share = v.coverage
    if share is None:
        return _("no school-age poor child")
    return _("%(share)s%% of %(n)d school-age poor children known") % {
        "share": share,
        "n": v.school_age,
    }


def draw(user: Any, villages: dict[str, Village], *, measure: str) -> MapDrawing:
    """Draw the county's map with the user's villages coloured by the measure."""
    features = list(scope_queryset(MapFeature.objects.all(), user).order_by("kind", "code"))
    legend = legend_of(measure)
    colours = {item.key: item for item in legend}
    boundary = [f for f in features if f.kind in ("county", "township", "village")]
    village_features = {f.code: f for f in features if f.kind == "village"}
    pointed = [
        v for code, v in sorted(villages.items()) if code not in village_features and v.point
    ]
    boxes = [(f.min_x, f.min_y, f.max_x, f.max_y) for f in features]
    boxes += [(v.point[0], v.point[1], v.point[0], v.point[1]) for v in pointed if v.point]
    if not boxes:
        return MapDrawing(SafeString(""), legend, 0, 0, list(villages.values()), bool(features))
    if scope_of(user).level != "county":
        # A township or a school sees its own villages filling the map, the rest cut at its edge.
        mine = [
            (f.min_x, f.min_y, f.max_x, f.max_y)
            for code, f in village_features.items()
            if code in villages
        ]
        mine += [(v.point[0], v.point[1], v.point[0], v.point[1]) for v in pointed if v.point]
        if mine:
            # at least about two kilometres across, so that a lone point is not a whole map
            cx = (min(b[0] for b in mine) + max(b[2] for b in mine)) / 2
            cy = (min(b[1] for b in mine) + max(b[3] for b in mine)) / 2
            boxes = [*mine, (cx - 0.01, cy - 0.01, cx + 0.01, cy + 0.01)]
    proj = Projection.fit(boxes)
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_num(WIDTH)} {_num(proj.height)}" '
        f'class="jz-map" role="img" aria-label="{escape(_("Map of the county"))}" '
        'stroke-linejoin="round">'
    ]
    # the county's outline under everything
    for f in boundary:
        if f.kind == "county":
            out.append(
                f'<path d="{_path(f.geometry, proj)}" fill="#f8fafc" stroke="#334155" stroke-width="2"/>'
            )
    shaped = 0
    out.append('<g stroke="#ffffff" stroke-width="0.8">')
    for code, f in sorted(village_features.items()):
        d = _path(f.geometry, proj)
        v = villages.get(code)
        if v is None:
            out.append(f'<path d="{d}" fill="{GREY}">{_title(f.name)}</path>')
            continue
        shaped += 1
        item = colours[class_of(measure, v)]
        item.count += 1
        url = reverse("centre:village", kwargs={"village_code": code})
        out.append(
            f'<a href="{escape(url)}" data-village="{escape(code)}" data-class="{item.key}">'
            f'<path d="{d}" fill="{item.colour}" class="jz-v"/>'
            f"{_title(f'{v.name}: {figure_text(measure, v)}')}</a>"
        )
    out.append("</g>")
    # townships drawn over the villages
    for f in boundary:
        if f.kind == "township":
            out.append(
                f'<path d="{_path(f.geometry, proj)}" fill="none" stroke="#334155" '
                f'stroke-width="1.6" pointer-events="none"/>'
            )
    # villages without a boundary, at their registry point
    for v in pointed:
        x, y = proj.xy(*(v.point or (0.0, 0.0)))
        item = colours[class_of(measure, v)]
        item.count += 1
        url = reverse("centre:village", kwargs={"village_code": v.code})
        out.append(
            f'<a href="{escape(url)}" data-village="{escape(v.code)}" data-class="{item.key}">'
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="7" fill="{item.colour}" stroke="#334155"/>'
            f"{_title(f'{v.name}: {figure_text(measure, v)}')}</a>"
        )
    for f in features:
        if f.kind == "school":
            x, y = proj.xy(*f.geometry["coordinates"][:2])
            out.append(
                f'<rect x="{_num(x - 3.5)}" y="{_num(y - 3.5)}" width="7" height="7" '
                f'fill="#1e3a8a" stroke="#fff" stroke-width="1" class="jz-school">'
                f"{_title(_('School: %(name)s') % {'name': f.name})}</rect>"
            )
    out.append("</svg>")
    unplaced = [
        v for code, v in sorted(villages.items()) if code not in village_features and not v.point
    ]
    return MapDrawing(
        mark_safe("".join(out)),  # noqa: S308  # nosec B308 B703  # every text in it is escaped above
        legend,
        shaped,
        len(pointed),
        unplaced,
        bool(features),
    )


def class_counts(measure: str, villages: dict[str, Village]) -> Counter[str]:
    """Return how many of the villages fall in each class (for tests and the legend)."""
    return Counter(class_of(measure, v) for v in villages.values())


# --------------------------------------------------------------------------- a village's page


@dataclass
class VillagePage:
    village: Village
    township_name: str
    registry_visible: bool
    households: int | None
    persons: int | None
    run_found: bool
    school_age: int
    categories: list[tuple[str, int]]  # (label, children of school age) per category
    in_school: int
    out_of_school: int
    responsible: list[tuple[str, str, str]]  # (what, person, school)
    schools: list[tuple[str, str]]  # (name, kind)
    township_code: str


def village_page(user: Any, village_code: str, *, on: dt.date) -> VillagePage | None:
    """Return a village's figures as the user may see them, or None outside their jurisdiction."""
    village = visible_villages(user).get(village_code)
    if village is None:
        return None
    fill_figures(user, {village_code: village}, on=on)
    shows_registry = registry.registry_visible(user=user)
    households = persons = None
    if shows_registry:
        households = registry.household_list(user=user).filter(village__code=village_code).count()
        persons = (
            registry.person_list(user=user).filter(household__village__code=village_code).count()
        )
    run = identification.latest_run(user=user)
    categories: list[tuple[str, int]] = []
    in_school = out_of_school = school_age = 0
    if run is not None:
        low, high = identification.SCHOOL_AGE
        rows = (
            identification.status_list(user=user, run=run)
            .filter(village_code=village_code, age__gte=low, age__lte=high)
            .order_by()
            .values_list("category", flat=True)
        )
        counted = Counter(rows)
        labels = dict(ChildStatus.Category.choices)
        for key, label in labels.items():
            if counted.get(key):
                categories.append((str(label), counted[key]))
        school_age = sum(counted.values())
        in_school = sum(counted.get(k, 0) for k in duty.ENROLLED)
        out_of_school = sum(
            counted.get(k, 0)
            for k in (
                ChildStatus.Category.SUSPECTED_DROPOUT,
                ChildStatus.Category.DROPPED_OUT,
            )
        )
    responsible: list[tuple[str, str, str]] = []
    for a in (
        duty.assignment_list(user=user).filter(kind__in=["village", "township"]).order_by("kind")
    ):
        if a.kind == "village" and a.village is not None and a.village.code == village_code:
            responsible.append(
                (str(a.get_kind_display()), a.holder.name, a.school.name if a.school else "")
            )
        elif (
            a.kind == "township" and a.township is not None and a.township.code == village_code[:9]
        ):
            responsible.append((str(a.get_kind_display()), a.holder.name, ""))
    school_rows = [
        (s.name, str(s.get_kind_display()))
        for s in schools.school_list(user=user).filter(village__code=village_code).order_by("name")
    ]
    township_name = registry.township_names(user=user).get(village_code[:9], "")
    return VillagePage(
        village=village,
        township_name=township_name,
        registry_visible=shows_registry,
        households=households,
        persons=persons,
        run_found=run is not None,
        school_age=school_age,
        categories=categories,
        in_school=in_school,
        out_of_school=out_of_school,
        responsible=responsible,
        schools=school_rows,
        township_code=village_code[:9],
    )
