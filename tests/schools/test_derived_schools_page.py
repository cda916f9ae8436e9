"""The schools taken from the rolls: the county clerk reviews them on one page, chooses the
township where none was proposed and corrects the kind; every change is audited, a chosen
township resolves the school's data-quality task, and only the county's townships are taken."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from tests.conftest import make_user
from tests.imports.helpers import run_import
from tests.imports.test_national_rolls import (
    JUNIOR,
    NINE_YEAR,
    PRIMARY,
    SECONDARY,
    TOWN,
    VOCATIONAL,
    areas,  # noqa: F401  (the fixture)
    land,
    the_rolls,
    write_rolls,
)
from tests.imports.test_study_elsewhere import UNIVERSITY, university_rows, write_xlsx

from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role
from jingzhun.core.models import AuditEvent, DataQualityTask, ImportBatch
from jingzhun.registry.models import Area
from jingzhun.schools.models import School

pytestmark = pytest.mark.django_db

URL = "/imports/schools/"
UNPLACED = {SECONDARY[0], VOCATIONAL[0], NINE_YEAR[0]}


@pytest.fixture
def batch(areas: Path) -> ImportBatch:  # noqa: F811
    """Rolls naming six unknown schools, three of them without a township found."""
    return land(write_rolls(areas / "rolls.csv", the_rolls()), school_year=2018)


@pytest.fixture
def clerk(batch: ImportBatch) -> User:
    return make_user("clerk", Role.COUNTY_ADMIN, area=Area.objects.get(code="420101"))


def _client(user: User) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


def _form(client: Client, url: str = URL) -> dict[str, str]:
    """Return the page's form as the browser would post it unchanged: each row's school,
    its selected kind and its selected township ('' where none is chosen)."""
    html = client.get(url).content.decode()
    data: dict[str, str] = {}
    for school in School.objects.filter(code__in=[PRIMARY[0], *UNPLACED, JUNIOR[0]]):
        if f'name="school" value="{school.pk}"' not in html:
            continue
        data[f"kind-{school.pk}"] = school.kind
        data[f"township-{school.pk}"] = str(school.township_id or "")
    return data


def _post(client: Client, changes: dict[str, str]) -> str:
    data = _form(client)
    pks = sorted({k.split("-")[1] for k in data})
    response = client.post(URL, {**data, **changes, "school": pks}, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_the_county_clerk_sees_the_schools_taken_from_the_rolls(
    batch: ImportBatch, clerk: User
) -> None:
    # given a county clerk, and one school the county listed itself
    School.objects.create(code="2142019999", name="县自建学校", kind="primary")
    client = _client(clerk)
    # when they open the page
    response = client.get(reverse("imports:schools-derived"))
    # then every school the rolls made is listed, with the import it came from
    assert response.status_code == 200
    html = response.content.decode()
    for code in [PRIMARY[0], JUNIOR[0], *UNPLACED]:
        assert code in html
    assert "2142019999" not in html
    assert "Schools: 6" in html
    assert reverse("imports:detail", args=[batch.pk]) in html
    assert "Proposed from its name: 甲镇" in html
    assert html.count("<strong>Needs its township</strong>") == 3
    # and the filter shows only those still without a township
    html = client.get(URL, {"show": "unplaced"}).content.decode()
    assert "Schools: 3" in html
    assert PRIMARY[0] not in html and all(code in html for code in UNPLACED)
    # and the imports page and the data-quality tasks link to it
    assert URL in client.get(reverse("imports:list")).content.decode()
    tasks = client.get(reverse("imports:quality"), {"kind": "school_township"}).content.decode()
    assert f"{URL}?show=unplaced" in tasks


def test_the_page_is_small(batch: ImportBatch, clerk: User) -> None:
    response = _client(clerk).get(URL)
    assert response.status_code == 200
    assert len(response.content) < 300_000


@pytest.mark.parametrize("who", ["township", "principal", "nobody"])
def test_others_get_a_404(batch: ImportBatch, who: str) -> None:
    if who == "township":
        user = make_user("town", Role.TOWNSHIP_OFFICER, area=Area.objects.get(code=TOWN["甲镇"]))
    elif who == "principal":
        user = make_user("head", Role.PRINCIPAL, school=School.objects.get(code=PRIMARY[0]))
    else:
        user = make_user("nobody")
    client = _client(user)
    school = School.objects.get(code=SECONDARY[0])
    town = Area.objects.get(code=TOWN["甲镇"])
    assert client.get(URL).status_code == 404
    posted = {"school": [school.pk], f"township-{school.pk}": town.pk}
    assert client.post(URL, posted).status_code == 404
    school.refresh_from_db()
    assert school.township_id is None
    assert AuditEvent.objects.filter(actor=user, action="access.denied").count() == 2


def test_choosing_a_township_places_the_school_and_resolves_its_task(
    batch: ImportBatch, clerk: User
) -> None:
    school = School.objects.get(code=SECONDARY[0])
    task = DataQualityTask.objects.get(kind="school_township", object_id=school.pk)
    assert task.status == "open"
    town = Area.objects.get(code=TOWN["青山镇"])
    # when the clerk chooses its township and saves the page
    html = _post(_client(clerk), {f"township-{school.pk}": str(town.pk)})
    # then only that school changed, and it is placed
    assert "1 school updated." in html
    school.refresh_from_db()
    assert school.township_id == town.pk
    task.refresh_from_db()
    assert task.status == "resolved"
    still_open = DataQualityTask.objects.filter(kind="school_township", status="open")
    assert {School.objects.get(pk=t.object_id).code for t in still_open} == UNPLACED - {
        SECONDARY[0]
    }
    (event,) = AuditEvent.objects.filter(action="school.update")
    assert event.actor == clerk
    assert event.object_id == str(school.pk)
    assert event.data["changes"] == {"township": [None, TOWN["青山镇"]]}


def test_a_kind_and_townships_are_saved_in_one_post(batch: ImportBatch, clerk: User) -> None:
    nine = School.objects.get(code=NINE_YEAR[0])
    vocational = School.objects.get(code=VOCATIONAL[0])
    town = Area.objects.get(code=TOWN["白水乡"])
    html = _post(
        _client(clerk),
        {
            f"kind-{nine.pk}": "primary",
            f"township-{nine.pk}": str(town.pk),
            f"township-{vocational.pk}": str(town.pk),
        },
    )
    assert "2 schools updated." in html
    nine.refresh_from_db()
    vocational.refresh_from_db()
    assert (nine.kind, nine.township_id) == ("primary", town.pk)
    assert vocational.township_id == town.pk
    assert AuditEvent.objects.filter(action="school.update").count() == 2


def test_a_township_of_another_county_is_refused_and_nothing_changes(
    batch: ImportBatch, clerk: User
) -> None:
    other_county = Area.objects.create(code="420102", name="邻县", level="county")
    elsewhere = Area.objects.create(
        code="420102001", name="邻镇", level="township", parent=other_county
    )
    junior = School.objects.get(code=JUNIOR[0])  # saved before SECONDARY (by code)
    nine = School.objects.get(code=NINE_YEAR[0])
    school = School.objects.get(code=SECONDARY[0])
    town = Area.objects.get(code=TOWN["甲镇"])
    # when one row names the other county's township, others good changes
    html = _post(
        _client(clerk),
        {
            f"kind-{junior.pk}": "nine_year",
            f"township-{nine.pk}": str(town.pk),
            f"township-{school.pk}": str(elsewhere.pk),
        },
    )
    # then the page says why, and nothing was saved
    assert "Choose a township of your jurisdiction." in html
    assert "nothing was saved" in html
    assert "邻镇" not in html
    assert set(School.objects.filter(township__isnull=True).values_list("code", flat=True)) == (
        UNPLACED
    )
    junior.refresh_from_db()
    assert junior.kind == "junior_high"
    assert not AuditEvent.objects.filter(action="school.update").exists()
    assert DataQualityTask.objects.filter(kind="school_township", status="open").count() == 3


def test_an_unknown_kind_is_refused(batch: ImportBatch, clerk: User) -> None:
    school = School.objects.get(code=JUNIOR[0])
    html = _post(_client(clerk), {f"kind-{school.pk}": "castle"})
    assert "Choose a kind from the list." in html
    school.refresh_from_db()
    assert school.kind == "junior_high"


def test_schools_outside_the_county_are_not_listed(
    batch: ImportBatch, clerk: User, tmp_path: Path
) -> None:
    # given a university list that adds two universities (outside the county, no township)
    path = write_xlsx(tmp_path / "university.xlsx", UNIVERSITY, university_rows()[:2])
    landed = run_import("university", path, county=batch.county_code)
    assert landed.status == "done", landed.message
    universities = set(School.objects.filter(kind="university").values_list("code", flat=True))
    assert len(universities) == 2
    # when the clerk opens the page, then only the county's own schools are there
    html = _client(clerk).get(URL).content.decode()
    assert not any(code in html for code in universities)
    assert SECONDARY[0] in html
