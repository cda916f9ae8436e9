"""Home teaching and proofs of study elsewhere, recorded in the back office through services."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from tests.identification.helpers import AS_OF, HONG, TWIN1
from tests.identification.world import World, identify, make_world

from jingzhun.core.models import AuditEvent
from jingzhun.identification.models import ChildStatus, HomeTeaching, OutOfCountyProof
from jingzhun.registry.models import Person

pytestmark = pytest.mark.django_db

ADD = "/admin/identification/hometeaching/add/"


@pytest.fixture
def w(tmp_path: Path) -> World:
    return make_world(tmp_path)


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def home_teaching(person: Person) -> dict[str, str]:
    return {
        "person": str(person.pk),
        "teacher_name": "赵老师",
        "schedule": "每周二、四",
        "since": "2018-09-01",
        "_save": "Save",
    }


def test_township_officer_records_home_teaching_and_the_next_run_honours_it(w: World) -> None:
    hong = Person.objects.get(name=HONG[0])
    # when
    response = login(w.township_a).post(ADD, home_teaching(hong))
    # then
    assert response.status_code == 302, response.content.decode()[:2000]
    record = HomeTeaching.objects.get()
    assert (record.person, record.teacher_name, record.recorded_by) == (
        hong,
        "赵老师",
        w.township_a,
    )
    event = AuditEvent.objects.get(action="identification.home_teaching")
    assert event.actor == w.township_a
    run = identify()
    assert ChildStatus.objects.get(run=run, person=hong).category == "home_teaching"
    assert run.as_of == AS_OF


def test_other_townships_child_cannot_be_chosen(w: World) -> None:
    twin = Person.objects.get(name=TWIN1[0])
    response = login(w.township_a).post(ADD, home_teaching(twin))
    assert response.status_code == 200  # the form refuses the choice
    assert not HomeTeaching.objects.exists()


def test_who_may_record(w: World) -> None:
    hong = Person.objects.get(name=HONG[0])
    for persona in ("principal_a", "teacher_a", "inspector", "bureau_leader", "nobody"):
        response = login(w.users[persona]).post(ADD, home_teaching(hong))
        assert response.status_code == 403, persona
    assert not HomeTeaching.objects.exists()
    assert login(w.county_officer).post(ADD, home_teaching(hong)).status_code == 302
    assert HomeTeaching.objects.count() == 1


def test_a_record_is_not_changed_afterwards(w: World) -> None:
    hong = Person.objects.get(name=HONG[0])
    login(w.township_a).post(ADD, home_teaching(hong))
    record = HomeTeaching.objects.get()
    url = f"/admin/identification/hometeaching/{record.pk}/change/"
    response = login(w.township_a).post(url, {**home_teaching(hong), "teacher_name": "篡改"})
    assert response.status_code == 403
    record.refresh_from_db()
    assert record.teacher_name == "赵老师"
    assert login(w.township_b).get(url).status_code == 404


def test_proof_of_study_outside_the_county(w: World) -> None:
    hong = Person.objects.get(name=HONG[0])
    response = login(w.aid_officer).post(
        "/admin/identification/outofcountyproof/add/",
        {
            "person": str(hong.pk),
            "school_year": "2018",
            "school_name": "广州市某小学",
            "place": "广东省广州市",
            "proof": "学校出具的在读证明",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    proof = OutOfCountyProof.objects.get()
    assert (proof.person, proof.recorded_by) == (hong, w.aid_officer)
    run = identify()
    status = ChildStatus.objects.get(run=run, person=hong)
    assert (status.category, status.known) == ("out_of_county", True)


def test_identification_tables_are_read_only_in_the_back_office(w: World) -> None:
    client = login(w.county_officer)
    status = ChildStatus.objects.filter(run=w.run).first()
    assert status is not None
    page = client.get(f"/admin/identification/childstatus/{status.pk}/change/")
    assert page.status_code == 200
    assert client.get("/admin/identification/childstatus/add/").status_code == 403
    listing = client.get("/admin/identification/childstatus/")
    assert listing.status_code == 200 and listing.context["cl"].result_count == 7
    assert (
        login(w.township_a).get("/admin/identification/childstatus/").context["cl"].result_count
        == 3
    )


def test_home_page_links_the_identification_pages(w: World) -> None:
    page = login(w.township_a).get("/").content.decode()
    assert 'href="/identification/candidates/"' in page
    assert 'href="/identification/ledgers/suspected/"' in page
    assert 'id="home-identification"' not in login(w.nobody).get("/").content.decode()
