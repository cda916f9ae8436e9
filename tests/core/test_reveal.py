"""Whole ID and bank numbers: only with the permission and a reason, always logged, never cached."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from conftest import ID_A, ID_B, County, Personas
from jingzhun.core.models import AuditEvent
from jingzhun.core.reveal import sensitive_reveal

pytestmark = pytest.mark.django_db

BANK_A = "6228480012345678901"
REASON = "核实资助对象身份"


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def _log_text() -> str:
    return json.dumps(list(AuditEvent.objects.values()), default=str, ensure_ascii=False)


def test_reveal_asks_for_a_reason_then_shows_the_number_once(
    client: Client, personas: Personas, county: County
) -> None:
    client.force_login(personas.township_a)
    url = f"/reveal/person/{county.person_a.pk}/id/"
    # when the officer opens the page
    form = client.get(url)
    # then it shows the mask and asks why, without the number
    assert form.status_code == 200
    assert county.person_a.id_masked in form.content.decode()
    assert ID_A not in form.content.decode()
    assert "no-store" in form["Cache-Control"]
    # when they give a reason
    shown = client.post(url, {"reason": REASON})
    # then the number is shown, not cached, and the log says who, what and why, not the number
    assert shown.status_code == 200
    assert ID_A in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    [event] = _events("sensitive.reveal")
    assert (event.actor, event.object_type, event.object_id, event.ip) == (
        personas.township_a,
        "registry.person",
        str(county.person_a.pk),
        "127.0.0.1",
    )
    assert event.data == {"field": "id", "reason": REASON}
    assert ID_A not in _log_text()


def test_reveal_without_a_reason_shows_nothing_and_logs_nothing(
    client: Client, personas: Personas, county: County
) -> None:
    client.force_login(personas.township_a)
    before = AuditEvent.objects.count()
    for reason in ("", "  ", "看看"):
        response = client.post(f"/reveal/person/{county.person_a.pk}/id/", {"reason": reason})
        assert response.status_code == 200
        assert ID_A not in response.content.decode()
        assert response.context["form"].errors
    assert AuditEvent.objects.count() == before


def test_reveal_without_the_permission_is_refused_and_only_the_refusal_is_logged(
    client: Client, personas: Personas, county: County
) -> None:
    # given a bureau leader, who may view records but not whole numbers
    client.force_login(personas.bureau_leader)
    url = f"/reveal/person/{county.person_a.pk}/id/"
    before = list(AuditEvent.objects.values_list("id", flat=True))
    assert client.get(url).status_code == 403
    assert list(AuditEvent.objects.values_list("id", flat=True)) == before
    # when they post a reason anyway
    response = client.post(url, {"reason": REASON})
    # then they are refused, and the one new event is the refusal
    assert response.status_code == 403
    assert ID_A not in response.content.decode()
    new = list(AuditEvent.objects.exclude(id__in=before))
    assert [(e.action, e.actor, e.object_id) for e in new] == [
        ("access.denied", personas.bureau_leader, str(county.person_a.pk))
    ]
    assert new[0].data == {"what": "sensitive.reveal", "field": "id", "why": "capability"}
    assert _events("sensitive.reveal") == []


def test_reveal_of_another_township_is_404_and_logs_nothing(
    client: Client, personas: Personas, county: County
) -> None:
    client.force_login(personas.township_a)
    before = AuditEvent.objects.count()
    assert client.get(f"/reveal/person/{county.person_b.pk}/id/").status_code == 404
    assert (
        client.post(f"/reveal/person/{county.person_b.pk}/id/", {"reason": REASON}).status_code
        == 404
    )
    assert client.post("/reveal/person/999999/id/", {"reason": REASON}).status_code == 404
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    "url", ["/reveal/person/{pa}/bank/", "/reveal/area/{pa}/id/", "/reveal/person/{pa}/id_cipher/"]
)
def test_unknown_fields_cannot_be_revealed(
    client: Client, personas: Personas, county: County, url: str
) -> None:
    client.force_login(personas.county_officer)
    assert client.get(url.format(pa=county.person_a.pk)).status_code == 404


def test_anonymous_users_are_sent_to_log_in(client: Client, county: County) -> None:
    response = client.get(f"/reveal/person/{county.person_a.pk}/id/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_service_reveals_bank_and_student_numbers(personas: Personas, county: County) -> None:
    assert (
        sensitive_reveal(
            user=personas.aid_officer, obj=county.household_a, field="bank", reason=REASON
        )
        == BANK_A
    )
    assert (
        sensitive_reveal(
            user=personas.county_officer, obj=county.student_b, field="id", reason=REASON
        )
        == ID_B
    )
    assert [(e.object_type, e.data["field"]) for e in _events("sensitive.reveal")] == [
        ("registry.household", "bank"),
        ("schools.student", "id"),
    ]
    assert BANK_A not in _log_text() and ID_B not in _log_text()


def test_service_refuses_outside_the_jurisdiction_even_when_handed_the_object(
    personas: Personas, county: County
) -> None:
    with pytest.raises(PermissionDenied):
        sensitive_reveal(user=personas.township_b, obj=county.person_a, field="id", reason=REASON)
    [event] = _events("access.denied")
    assert (event.actor, event.data["why"]) == (personas.township_b, "jurisdiction")
    assert _events("sensitive.reveal") == []


def test_service_refuses_principals_and_inspectors(personas: Personas, county: County) -> None:
    for user in (personas.principal_a, personas.inspector, personas.nobody):
        with pytest.raises(PermissionDenied):
            sensitive_reveal(user=user, obj=county.student_a, field="id", reason=REASON)
    assert len(_events("access.denied")) == 3
    assert _events("sensitive.reveal") == []


def test_service_validates_reason_field_and_value(personas: Personas, county: County) -> None:
    user = personas.county_officer
    with pytest.raises(ValidationError):
        sensitive_reveal(user=user, obj=county.person_a, field="id", reason=" 看 看 ")
    with pytest.raises(ValidationError):
        sensitive_reveal(user=user, obj=county.person_a, field="phone", reason=REASON)
    with pytest.raises(ValidationError):  # person A has no guardian ID on file
        sensitive_reveal(user=user, obj=county.person_a, field="guardian_id", reason=REASON)
    with pytest.raises(ValidationError):  # household B has no bank account on file
        sensitive_reveal(user=user, obj=county.household_b, field="bank", reason=REASON)
    assert _events("sensitive.reveal") == []


def test_change_page_offers_the_reveal_button_only_with_the_permission(
    client: Client, personas: Personas, county: County
) -> None:
    change = f"/admin/registry/person/{county.person_a.pk}/change/"
    button = f"/admin/registry/person/{county.person_a.pk}/reveal-id/"
    client.force_login(personas.township_a)
    assert button in client.get(change).content.decode()
    redirect = client.get(button)
    assert (redirect.status_code, redirect["Location"]) == (
        302,
        f"/reveal/person/{county.person_a.pk}/id/",
    )
    client.force_login(personas.bureau_leader)
    assert button not in client.get(change).content.decode()
    assert client.get(button).status_code == 403


def test_an_empty_post_without_the_permission_is_refused_not_an_error(
    client: Client, personas: Personas, county: County
) -> None:
    client.force_login(personas.inspector)
    response = client.post(f"/reveal/student/{county.student_a.pk}/id/")
    assert response.status_code == 403
    assert [e.data["why"] for e in _events("access.denied")] == ["capability"]
    client.force_login(personas.county_officer)
    response = client.post(f"/reveal/student/{county.student_a.pk}/id/")
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert _events("sensitive.reveal") == []
