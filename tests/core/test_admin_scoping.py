"""The back office shows each persona exactly their jurisdiction, and writes only through services."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from conftest import ID_A, ID_B, PASSWORD, County, Personas
from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role
from jingzhun.core.admin_base import ScopedAdmin, is_sensitive_field
from jingzhun.core.audit import audit_record
from jingzhun.core.models import AuditEvent, ImportBatch
from jingzhun.core.sensitive import seal
from jingzhun.registry.models import Area, Household, Person
from jingzhun.schools.models import School, SchoolClass

pytestmark = pytest.mark.django_db


def _login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def _pks(response: Any) -> list[int]:
    assert response.status_code == 200
    return sorted(obj.pk for obj in response.context["cl"].result_list)


def _app_models(response: Any) -> set[str]:
    return {m["object_name"] for app in response.context["app_list"] for m in app["models"]}


# ---------------------------------------------------------------- the admin as a whole


def test_every_registered_admin_is_scoped_and_hides_sealed_columns() -> None:
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, ScopedAdmin), model
        shown = [
            *model_admin.list_display,
            *model_admin.search_fields,
            *(model_admin.fields or ()),
            *model_admin.readonly_fields,
        ]
        assert [n for n in shown if isinstance(n, str) and is_sensitive_field(n)] == [], model


def test_admin_index_lists_the_models_of_each_role(client: Client, personas: Personas) -> None:
    everything = {
        "Area",
        "Household",
        "Person",
        "School",
        "SchoolClass",
        "Student",
        "Enrolment",
        "ImportBatch",
        "AuditEvent",
        "User",
    }
    # Identification: runs are county-wide; statuses reach a class; the rest a school at most,
    # and home teaching and proofs (recorded per child at home) a township at most.
    runs = {"IdentificationRun", "ChildStatus"}
    school_rows = runs | {"RunChange", "Discrepancy", "ReviewCandidate"}
    identification = school_rows | {"HomeTeaching", "OutOfCountyProof"}
    everything |= identification
    # The county's settings (working period): its county-level users only.
    everything |= {"CountyProfile"}
    expected = {
        "county_officer": everything,
        "aid_officer": everything - {"AuditEvent", "User"},
        "inspector": everything - {"User"},
        "township_a": {
            "Area",
            "Household",
            "Person",
            "School",
            "SchoolClass",
            "Student",
            "Enrolment",
        }
        | identification,
        "principal_a": {"School", "SchoolClass", "Student", "Enrolment"} | school_rows,
        "teacher_a": {"School", "SchoolClass", "Student", "Enrolment"} | runs,
        "nobody": set(),
    }
    for name, models in expected.items():
        client.force_login(getattr(personas, name))
        assert _app_models(client.get("/admin/")) == models, name


# ---------------------------------------------------------------- registry


def test_township_officer_sees_only_own_households(
    client: Client, personas: Personas, county: County
) -> None:
    _login(client, personas.township_a)
    assert _pks(client.get("/admin/registry/household/")) == [county.household_a.pk]
    assert _pks(client.get("/admin/registry/person/")) == [county.person_a.pk]
    assert _pks(client.get("/admin/registry/area/")) == sorted(
        [county.county.pk, county.township_a.pk, county.village_a.pk]
    )


def test_county_officer_sees_both_townships(
    client: Client, personas: Personas, county: County
) -> None:
    _login(client, personas.county_officer)
    assert _pks(client.get("/admin/registry/household/")) == sorted(
        [county.household_a.pk, county.household_b.pk]
    )


@pytest.mark.parametrize(
    "url",
    [
        "/admin/registry/household/{hb}/change/",
        "/admin/registry/household/{hb}/history/",
        "/admin/registry/household/{hb}/delete/",
        "/admin/registry/person/{pb}/change/",
        "/admin/schools/school/{sb}/change/",
        "/admin/schools/student/{stb}/change/",
        "/admin/registry/household/999999/change/",
    ],
)
def test_other_township_objects_are_404_like_missing_ones(
    client: Client, personas: Personas, county: County, url: str
) -> None:
    _login(client, personas.township_a)
    url = url.format(
        hb=county.household_b.pk,
        pb=county.person_b.pk,
        sb=county.school_b.pk,
        stb=county.student_b.pk,
    )
    assert client.get(url).status_code == 404


def test_own_township_change_page_shows_masked_numbers_only(
    client: Client, personas: Personas, county: County
) -> None:
    _login(client, personas.township_a)
    page = client.get(f"/admin/registry/person/{county.person_a.pk}/change/").content.decode()
    assert county.person_a.id_masked in page
    assert ID_A not in page
    assert county.person_a.id_index not in page
    assert "id_cipher" not in page and "id_index" not in page
    household = client.get(f"/admin/registry/household/{county.household_a.pk}/change/")
    text = household.content.decode()
    assert household.status_code == 200
    assert county.household_a.bank_masked in text
    assert "6228480012345678901" not in text


def test_nobody_sees_nothing(client: Client, personas: Personas) -> None:
    _login(client, personas.nobody)
    index = client.get("/admin/")
    assert index.status_code == 200
    assert index.context["app_list"] == []
    for url in (
        "/admin/registry/household/",
        "/admin/registry/person/",
        "/admin/schools/student/",
        "/admin/accounts/user/",
    ):
        assert client.get(url).status_code == 403, url


def test_superuser_without_role_gets_no_bypass(client: Client, county: County) -> None:
    root = User.objects.create_user("root", password=PASSWORD, is_staff=True, is_superuser=True)
    _login(client, root)
    assert client.get("/admin/").context["app_list"] == []
    assert client.get("/admin/registry/household/").status_code == 403
    assert client.get(f"/admin/registry/household/{county.household_a.pk}/change/").status_code in (
        403,
        404,
    )


def test_related_filter_offers_only_own_villages(
    client: Client, personas: Personas, county: County
) -> None:
    _login(client, personas.township_a)
    page = client.get("/admin/registry/household/").content.decode()
    assert county.village_a.name in page
    assert county.village_b.name not in page


def test_search_by_whole_id_is_refused_and_leaves_the_address(
    client: Client, personas: Personas, county: County
) -> None:
    # given an ID typed with spaces and a lower-case check character
    typed = f" {ID_A[:6]} {ID_A[6:]} ".lower()
    _login(client, personas.county_officer)
    for url, term in (
        ("/admin/registry/person/", typed),
        ("/admin/registry/household/", ID_A),
        ("/admin/schools/student/", ID_B),
    ):
        # when it is searched from a list
        response = client.get(url, {"q": term, "sex": "M"})
        # then the list comes back at an address without it, other filters kept
        assert response.status_code == 302
        assert response["Location"] == f"{url}?sex=M"
        page = client.get(response["Location"], follow=True).content.decode()
        assert ID_A not in page and ID_B not in page
        assert reverse("dashboard:children") in page


def test_id_cannot_be_found_by_part_or_mask(
    client: Client, personas: Personas, county: County
) -> None:
    _login(client, personas.county_officer)
    assert _pks(client.get("/admin/registry/person/", {"q": ID_A[:10]})) == []
    assert _pks(client.get("/admin/registry/person/", {"q": ID_A[-4:]})) == []
    assert _pks(client.get("/admin/registry/person/", {"q": "张小明"})) == [county.person_a.pk]


# ---------------------------------------------------------------- schools and rolls


def test_principal_sees_only_own_school_students(
    client: Client, personas: Personas, county: County
) -> None:
    _login(client, personas.principal_a)
    assert _pks(client.get("/admin/schools/student/")) == [county.student_a.pk]
    assert _pks(client.get("/admin/schools/enrolment/")) == [county.enrolment_a.pk]
    assert _pks(client.get("/admin/schools/school/")) == [county.school_a.pk]
    assert client.get("/admin/registry/household/").status_code == 403
    assert client.get(f"/admin/schools/student/{county.student_b.pk}/change/").status_code == 404


def test_student_seen_through_two_enrolments_is_listed_once(
    client: Client, personas: Personas, county: County
) -> None:
    county.enrolment_a.pk = None
    county.enrolment_a.school_year = 2017
    county.enrolment_a.status = "graduated"
    county.enrolment_a.save()
    _login(client, personas.principal_a)
    assert _pks(client.get("/admin/schools/student/")) == [county.student_a.pk]


def test_class_teacher_sees_only_own_class(
    client: Client, personas: Personas, county: County
) -> None:
    _login(client, personas.teacher_a)
    assert _pks(client.get("/admin/schools/student/")) == [county.student_a.pk]
    assert _pks(client.get("/admin/schools/schoolclass/")) == [county.class_a.pk]
    assert _pks(client.get("/admin/schools/school/")) == [county.school_a.pk]


def test_inspector_reads_everything_and_changes_nothing(
    client: Client, personas: Personas, county: County
) -> None:
    _login(client, personas.inspector)
    assert _pks(client.get("/admin/schools/school/")) == sorted(
        [county.school_a.pk, county.school_b.pk]
    )
    url = f"/admin/schools/school/{county.school_a.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    events = AuditEvent.objects.count()
    response = client.post(
        url, {"name": "改名", "kind": "primary", "boarding": "on", "township": county.township_a.pk}
    )
    assert response.status_code == 403
    county.school_a.refresh_from_db()
    assert county.school_a.name == "甲镇中心小学"
    assert AuditEvent.objects.count() == events


def test_aid_officer_edits_a_school_through_the_service(
    client: Client, personas: Personas, county: County
) -> None:
    _login(client, personas.aid_officer)
    url = f"/admin/schools/school/{county.school_a.pk}/change/"
    response = client.post(
        url,
        {
            "name": "甲镇第一小学",
            "kind": "primary",
            "boarding": "on",
            "township": county.township_a.pk,
        },
    )
    assert response.status_code == 302
    county.school_a.refresh_from_db()
    assert county.school_a.name == "甲镇第一小学"
    event = AuditEvent.objects.filter(action="school.update").get()
    assert event.actor == personas.aid_officer
    assert event.object_id == str(county.school_a.pk)
    assert event.data == {"changes": {"name": ["甲镇中心小学", "甲镇第一小学"]}}


def test_school_township_choices_are_scoped(
    client: Client, personas: Personas, county: County
) -> None:
    # given a township of another county
    other_county = Area.objects.create(code="420102", name="邻县", level="county")
    Area.objects.create(code="420102001", name="丙镇", level="township", parent=other_county)
    _login(client, personas.aid_officer)
    page = client.get(f"/admin/schools/school/{county.school_a.pk}/change/")
    choices = page.context["adminform"].form.fields["township"].queryset
    assert sorted(choices.values_list("code", flat=True)) == ["420101001", "420101002"]
    # and a forged choice is refused, nothing changes
    forged = Area.objects.get(code="420102001")
    response = client.post(
        f"/admin/schools/school/{county.school_a.pk}/change/",
        {"name": "甲镇中心小学", "kind": "primary", "boarding": "on", "township": forged.pk},
    )
    assert response.status_code == 200
    county.school_a.refresh_from_db()
    assert county.school_a.township == county.township_a


def test_township_officer_cannot_edit_schools(
    client: Client, personas: Personas, county: County
) -> None:
    _login(client, personas.township_a)
    url = f"/admin/schools/school/{county.school_a.pk}/change/"
    response = client.post(
        url, {"name": "改名", "kind": "primary", "township": county.township_a.pk}
    )
    assert response.status_code == 403
    county.school_a.refresh_from_db()
    assert county.school_a.name == "甲镇中心小学"


def test_principal_edits_head_teacher_of_own_class_only(
    client: Client, personas: Personas, county: County
) -> None:
    _login(client, personas.principal_a)
    response = client.post(
        f"/admin/schools/schoolclass/{county.class_a.pk}/change/", {"head_teacher_name": "赵老师"}
    )
    assert response.status_code == 302
    assert SchoolClass.objects.get(pk=county.class_a.pk).head_teacher_name == "赵老师"
    response = client.post(
        f"/admin/schools/schoolclass/{county.class_b.pk}/change/", {"head_teacher_name": "赵老师"}
    )
    assert response.status_code == 404
    assert SchoolClass.objects.get(pk=county.class_b.pk).head_teacher_name == "李老师"
    # the principal sees no areas, so the school's township is not offered for editing
    page = client.get(f"/admin/schools/school/{county.school_a.pk}/change/")
    assert "township" not in page.context["adminform"].form.fields
    response = client.post(
        f"/admin/schools/school/{county.school_a.pk}/change/",
        {"name": "甲镇中心小学", "kind": "primary"},
    )
    assert response.status_code == 302
    school = School.objects.get(pk=county.school_a.pk)
    assert (school.township, school.boarding) == (county.township_a, False)


def test_nothing_is_deleted_or_added_through_the_admin(
    client: Client, personas: Personas, county: County
) -> None:
    _login(client, personas.county_officer)
    assert (
        client.post(
            f"/admin/schools/school/{county.school_a.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert client.get("/admin/registry/person/add/").status_code == 403
    assert School.objects.filter(pk=county.school_a.pk).exists()


# ---------------------------------------------------------------- imports, audit, users


def test_imports_are_visible_to_county_users_only(client: Client, personas: Personas) -> None:
    batch = ImportBatch.objects.create(
        kind="registry",
        file_name="a.xlsx",
        stored_path="x",
        sha256="0" * 64,
        county_code="420101",
        rows_total=7,
        rows_rejected=2,
        report_path="r.xlsx",
    )
    ImportBatch.objects.create(
        kind="registry", file_name="b.xlsx", stored_path="y", sha256="1" * 64, county_code="420102"
    )
    _login(client, personas.county_officer)
    assert _pks(client.get("/admin/core/importbatch/")) == [batch.pk]
    page = client.get(f"/admin/core/importbatch/{batch.pk}/change/")
    assert page.status_code == 200
    assert (
        f"/imports/{batch.pk}/report/" in page.content.decode()
        or page.context["has_change_permission"] is False
    )
    _login(client, personas.township_a)
    assert client.get("/admin/core/importbatch/").status_code == 403


def test_audit_log_is_for_county_overseers(
    client: Client, personas: Personas, county: County
) -> None:
    outsider = User.objects.create_user("outsider", county_code="420102")
    audit_record(actor=outsider, action="test.outside")
    own = audit_record(actor=personas.aid_officer, action="test.inside")
    _login(client, personas.inspector)
    listed = client.get("/admin/core/auditevent/", {"action": "test.inside"})
    assert _pks(listed) == [own.pk]
    assert _pks(client.get("/admin/core/auditevent/", {"action": "test.outside"})) == []
    assert (
        client.get(f"/admin/core/auditevent/{own.pk}/change/").context["has_change_permission"]
        is False
    )
    _login(client, personas.township_a)
    assert client.get("/admin/core/auditevent/").status_code == 403


def test_user_admin_lists_the_county_users(client: Client, personas: Personas) -> None:
    _login(client, personas.county_officer)
    listed = client.get("/admin/accounts/user/")
    assert sorted(u.username for u in listed.context["cl"].result_list) == sorted(
        ["county", "aid", "leader", "town_a", "town_b", "principal_a", "teacher_a", "inspector"]
    )
    _login(client, personas.aid_officer)
    assert client.get("/admin/accounts/user/").status_code == 403


def test_user_admin_creates_users_through_the_service(
    client: Client, personas: Personas, county: County
) -> None:
    _login(client, personas.county_officer)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "town_a2",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "first_name": "新同事",
            "role": Role.TOWNSHIP_OFFICER,
            "area": county.township_a.pk,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(username="town_a2")
    assert (user.role, user.area, user.county_code, user.is_staff, user.is_superuser) == (
        Role.TOWNSHIP_OFFICER,
        county.township_a,
        "420101",
        True,
        False,
    )
    assert user.check_password(PASSWORD)
    event = AuditEvent.objects.filter(action="user.create", object_id=str(user.pk)).get()
    assert event.actor == personas.county_officer


def test_user_admin_refuses_a_jurisdiction_that_does_not_fit(
    client: Client, personas: Personas, county: County
) -> None:
    _login(client, personas.county_officer)
    users = User.objects.count()
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "bad",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "role": Role.TOWNSHIP_OFFICER,
            "area": county.county.pk,
        },
    )
    assert response.status_code == 200
    assert "area" in response.context["adminform"].form.errors
    assert User.objects.count() == users


def test_user_admin_area_choices_are_scoped(
    client: Client, personas: Personas, county: County
) -> None:
    Area.objects.create(code="420102", name="邻县", level="county")
    _login(client, personas.county_officer)
    page = client.get("/admin/accounts/user/add/")
    choices = page.context["adminform"].form.fields["area"].queryset
    assert sorted(choices.values_list("code", flat=True)) == ["420101", "420101001", "420101002"]


def test_user_admin_change_moves_the_user_and_audits(
    client: Client, personas: Personas, county: County
) -> None:
    _login(client, personas.county_officer)
    target = personas.township_a
    response = client.post(
        f"/admin/accounts/user/{target.pk}/change/",
        {
            "username": "town_a",
            "first_name": "",
            "last_name": "",
            "email": "",
            "preferred_language": "",
            "is_active": "on",
            "role": Role.TOWNSHIP_OFFICER,
            "area": county.township_b.pk,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    target = User.objects.get(pk=target.pk)
    assert (target.area, target.county_code) == (county.township_b, "420101")
    event = AuditEvent.objects.filter(action="user.update").get()
    assert event.data == {"changes": {"area_id": [county.township_a.pk, county.township_b.pk]}}


def test_unscoped_third_party_admins_are_removed() -> None:
    labels = {model._meta.label_lower for model in admin.site._registry}
    assert labels.isdisjoint(
        {"auth.group", "axes.accessattempt", "axes.accesslog", "django_tasks_database.dbtaskresult"}
    )


def test_person_of_other_county_is_invisible_to_county_officer(
    client: Client, personas: Personas, county: County
) -> None:
    other = Area.objects.create(code="420102001001", name="丁村", level="village")
    household = Household.objects.create(
        household_no="4201020010010001", village=other, registration_year=2015
    )
    person = Person.objects.create(
        household=household,
        name="外县人",
        sex="M",
        birth_date="2010-01-01",
        **seal("420102201001010011", prefix="id", purpose="id"),
    )
    _login(client, personas.county_officer)
    assert client.get(f"/admin/registry/person/{person.pk}/change/").status_code == 404
    assert _pks(client.get("/admin/registry/person/", {"q": "外县人"})) == []


def test_roll_numbers_that_embed_the_id_are_masked_and_found_only_whole(
    client: Client, personas: Personas, county: County
) -> None:
    # given roll numbers that are "G" + the ID number, as the national rolls make them
    roll = "G" + ID_A
    assert ID_A in roll
    _login(client, personas.county_officer)
    listing = client.get("/admin/schools/student/").content.decode()
    change = client.get(f"/admin/schools/student/{county.student_a.pk}/change/").content.decode()
    assert ID_A not in listing and ID_A not in change
    assert "G420101************" in listing
    # a roll number holding the ID is not searched from a list (it would stay in the address);
    # a prefix finds nothing, nor does a URL lookup
    assert client.get("/admin/schools/student/", {"q": roll}).status_code == 302
    assert client.get("/admin/schools/enrolment/", {"q": roll}).status_code == 302
    assert _pks(client.get("/admin/schools/student/", {"q": roll[:12]})) == []
    for url in (
        "/admin/schools/student/?roll_index__startswith=a",
        "/admin/schools/enrolment/?student__roll_index__startswith=a",
        "/admin/registry/person/?id_index__startswith=a",
    ):
        assert client.get(url).status_code == 400, url


def test_setting_a_password_in_the_admin_is_audited(client: Client, personas: Personas) -> None:
    _login(client, personas.county_officer)
    target = personas.principal_a
    url = f"/admin/accounts/user/{target.pk}/password/"
    new_password = "another-horse-battery-7"
    response = client.post(
        url,
        {
            "password1": new_password,
            "password2": new_password,
            "usable_password": "true",
            "set-password": "1",
        },
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.check_password(new_password)
    [event] = AuditEvent.objects.filter(action="user.password_set")
    assert (event.actor, event.object_id, event.data) == (
        personas.county_officer,
        str(target.pk),
        {},
    )
    _login(client, personas.township_a)
    assert client.get(url).status_code == 403
