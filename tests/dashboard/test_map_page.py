"""The map page and the village page on the hand-made county, every class checked by hand.

The four villages (tests/dashboard/test_map_world.py) on 2026-12-06:

    village   poor  open cases (overdue)           school-age children known
    甲村      yes   2 (1): 张小明 at 甲镇中心小学,    2 of 2   -> 100%
                         甲一 (no school, overdue)
    甲二村    no    4 (2)                           3 of 4   -> 75%
    乙村      yes   1 (0): 李小红                    9 of 10  -> 90%
    乙二村    no    0                               none (one child of 3, not school age)
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from tests.conftest import County, Personas, _person
from tests.dashboard.test_map_world import add_villages, geojson

from jingzhun.dashboard import geo
from jingzhun.duty.models import DropoutCase
from jingzhun.identification.models import ChildStatus, IdentificationRun
from jingzhun.registry.models import Area, Household, Person

pytestmark = pytest.mark.django_db

ON = dt.date(2026, 12, 6)
JIA, JIA2, YI, YI2 = "420101001001", "420101001002", "420101002001", "420101002002"


def _case(person: Person, village: str, *, overdue: bool, school: Any = None) -> None:
    DropoutCase.objects.create(
        person=person,
        source="identification",
        reason="未入学",
        opened_on=ON - dt.timedelta(days=40),
        village_code=village,
        school=school,
        last_step_on=ON - dt.timedelta(days=30 if overdue else 1),
    )


@pytest.fixture
def world(county: County) -> dict[str, Any]:
    a2, _b2 = add_villages(county)
    geo.apply_import(
        geo.plan_import(
            geo.read_map_file(geojson(), "t.geojson"), county_code="420101", source="t"
        ),
        actor=None,
    )
    n = iter(range(100))

    def person(household: Household, name: str) -> Person:
        return _person(household, name, f"42010119900101{next(n):04d}", dt.date(2012, 1, 1), "M")

    h_jia2 = Household.objects.create(household_no="4201010010020001", village=a2)
    jia1 = person(county.household_a, "甲一")
    jia2 = [person(h_jia2, f"甲二{i}") for i in range(4)]
    yi = [person(county.household_b, f"乙{i}") for i in range(9)]
    # cases
    _case(county.person_a, JIA, overdue=False, school=county.school_a)
    _case(jia1, JIA, overdue=True)
    for i, p in enumerate(jia2):
        _case(p, JIA2, overdue=i < 2)
    _case(county.person_b, YI, overdue=False, school=county.school_b)
    DropoutCase.objects.create(  # closed: counts nowhere
        person=yi[0],
        source="absence",
        reason="缺课",
        opened_on=ON - dt.timedelta(days=90),
        village_code=YI,
        last_step_on=ON - dt.timedelta(days=80),
        status="closed",
        closed_on=ON - dt.timedelta(days=80),
        episode=1,
    )
    # identification coverage
    run = IdentificationRun.objects.create(
        county_code="420101",
        as_of=ON,
        school_year=2026,
        status="done",
        inputs_hash="0" * 64,
        counts={},
    )

    def status(p: Person, village: str, known: bool, age: int = 10, school: Any = None) -> None:
        ChildStatus.objects.create(
            run=run,
            person=p,
            category="in_county" if known else "suspected_dropout",
            age=age,
            household_status="registered",
            village_code=village,
            known=known,
            school=school,
        )

    status(county.person_a, JIA, True, school=county.school_a)
    status(jia1, JIA, True)
    for i, p in enumerate(jia2):
        status(p, JIA2, i < 3)
    status(county.person_b, YI, True, school=county.school_b)
    for i, p in enumerate(yi):
        status(p, YI, i < 8)
    h_yi2 = Household.objects.create(household_no="4201010020020001", village=_b2)
    status(person(h_yi2, "乙二小"), YI2, False, age=3)
    return {"run": run}


def _en(client: Client) -> Client:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _classes(client: Client, colour: str) -> dict[str, str]:
    response = client.get(reverse("centre:map"), {"colour": colour, "on": ON.isoformat()})
    assert response.status_code == 200
    assert len(response.content) < 300 * 1024
    text = response.content.decode()
    return dict(re.findall(r'data-village="(\d+)" data-class="([\w-]+)"', text))


@pytest.mark.parametrize(
    ("colour", "expected"),
    [
        ("poor", {JIA: "poor", JIA2: "not-poor", YI: "poor", YI2: "not-poor"}),
        ("cases", {JIA: "c2", JIA2: "c4", YI: "c1", YI2: "c0"}),
        ("overdue", {JIA: "o1", JIA2: "o2", YI: "o0", YI2: "o0"}),
        ("coverage", {JIA: "v100", JIA2: "vlow", YI: "v80", YI2: "none"}),
    ],
)
def test_each_measure_colours_each_village_as_counted_by_hand(
    client: Client, personas: Personas, world: Any, colour: str, expected: dict[str, str]
) -> None:
    _en(client).force_login(personas.county_officer)
    assert _classes(client, colour) == expected


def test_map_draws_townships_schools_legend_and_links(
    client: Client, personas: Personas, world: Any
) -> None:
    _en(client).force_login(personas.county_officer)
    text = client.get(
        reverse("centre:map"), {"colour": "cases", "on": ON.isoformat()}
    ).content.decode()
    assert text.count('pointer-events="none"') == 2  # the two township boundaries
    assert text.count('class="jz-school"') == 2
    assert "<title>School: 甲镇中心小学</title>" in text
    assert f'href="{reverse("centre:village", kwargs={"village_code": JIA})}"' in text
    assert "<title>甲二村: 4 open dropout cases</title>" in text
    legend = re.search(r'id="jz-legend".*?</ul>', text, re.S)
    assert legend is not None
    assert '2–3 open cases <span class="jz-muted">(1)</span>' in legend.group(0)
    assert '4 or more open cases <span class="jz-muted">(1)</span>' in legend.group(0)
    # 甲村's square (0,0) is the south-west cell: x from the left edge, y at the bottom
    path = re.search(r'data-village="420101001001"[^>]*><path d="M([\d.]+) ([\d.]+)', text)
    assert path is not None
    x, y = float(path.group(1)), float(path.group(2))
    assert x < 50 and y > 500


def test_township_officer_sees_only_their_villages_coloured(
    client: Client, personas: Personas, world: Any
) -> None:
    _en(client).force_login(personas.township_a)
    classes = _classes(client, "cases")
    assert classes == {JIA: "c2", JIA2: "c4"}
    text = client.get(reverse("centre:map"), {"colour": "cases"}).content.decode()
    assert "<title>乙村</title>" in text  # drawn grey, no figure, no link
    assert reverse("centre:village", kwargs={"village_code": YI}) not in text


def test_principal_sees_their_school_village_with_their_students_only(
    client: Client, personas: Personas, world: Any
) -> None:
    _en(client).force_login(personas.principal_a)
    # only 张小明's case is of the principal's school: one open case, in time
    assert _classes(client, "cases") == {JIA: "c1"}
    assert _classes(client, "overdue") == {JIA: "o0"}
    assert _classes(client, "coverage") == {JIA: "v100"}


def test_principal_sees_the_villages_their_pupils_come_from(
    client: Client, personas: Personas, county: County, world: Any
) -> None:
    # a school in the county seat stands in no village: its pupils' villages are its area
    county.school_a.village = None
    county.school_a.save()
    _en(client).force_login(personas.principal_a)
    assert _classes(client, "poor") == {JIA: "poor"}
    assert _village(client, JIA).status_code == 200
    assert _village(client, JIA2).status_code == 404


def test_user_without_jurisdiction_is_refused(
    client: Client, personas: Personas, world: Any
) -> None:
    client.force_login(personas.nobody)
    assert client.get(reverse("centre:map")).status_code == 403


def test_without_features_the_page_says_how_and_draws_area_points(
    client: Client, personas: Personas, county: County
) -> None:
    Area.objects.filter(code=county.village_a.code).update(
        longitude=Decimal("110.05"), latitude=Decimal("31.05")
    )
    Area.objects.filter(code=county.village_b.code).update(
        longitude=Decimal("110.15"), latitude=Decimal("31.05")
    )
    _en(client).force_login(personas.county_officer)
    text = client.get(reverse("centre:map"), {"colour": "poor"}).content.decode()
    assert 'id="jz-map-empty"' in text and "jingzhun map_import FILE" in text
    assert re.findall(r'data-village="(\d+)" data-class="([\w-]+)"><circle', text) == [
        (JIA, "poor"),
        (YI, "poor"),
    ]


def test_without_features_or_points_villages_are_listed(
    client: Client, personas: Personas, county: County
) -> None:
    _en(client).force_login(personas.county_officer)
    text = client.get(reverse("centre:map")).content.decode()
    assert 'id="jz-unplaced"' in text and "甲村" in text


# --------------------------------------------------------------------------- the village page


def _village(client: Client, code: str) -> Any:
    return client.get(
        reverse("centre:village", kwargs={"village_code": code}), {"on": ON.isoformat()}
    )


def _card(text: str, name: str) -> str:
    found = re.search(rf'id="jz-v-{name}">([^<]*)<', text)
    assert found is not None, name
    return found.group(1)


def test_village_page_figures_for_the_county(
    client: Client, personas: Personas, world: Any
) -> None:
    _en(client).force_login(personas.county_officer)
    text = _village(client, JIA2).content.decode()
    assert "甲二村" in text and "甲镇" in text
    assert _card(text, "poor") == "no"
    assert (_card(text, "households"), _card(text, "persons")) == ("1", "4")
    assert (_card(text, "school-age"), _card(text, "in-school"), _card(text, "out")) == (
        "4",
        "3",
        "1",
    )
    assert (_card(text, "cases"), _card(text, "overdue")) == ("4", "2")
    text = _village(client, JIA).content.decode()
    assert "甲镇中心小学" in text  # the school standing in it
    assert _card(text, "persons") == "2"  # household A: 张小明 and 甲一
    assert reverse("duty:ledger") + "?township=420101001" in text


def test_village_page_is_404_outside_the_jurisdiction(
    client: Client, personas: Personas, world: Any
) -> None:
    client.force_login(personas.township_b)
    assert _village(client, JIA).status_code == 404
    assert _village(client, YI).status_code == 200
    client.force_login(personas.principal_a)
    assert _village(client, YI).status_code == 404
    text = _village(client, JIA).content.decode()
    assert 'id="jz-v-households"' not in text  # a school does not see the registry
    assert _card(text, "cases") == "1"
    assert _village(client, "999999999999").status_code == 404
    assert _village(client, "abc").status_code == 404
