"""The child's page tells the aid per semester and where each payment stands, scoped."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from tests.conftest import County, Personas
from tests.test_access_matrix import aid_world

from jingzhun.funds.models import Payment

pytestmark = pytest.mark.django_db


def test_aid_and_payment_on_the_childs_page(
    client: Client, personas: Personas, county: County
) -> None:
    aid_world(county, personas)
    payment = Payment.objects.get()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(personas.county_officer)
    text = client.get(reverse("dashboard:child", args=[county.person_a.pk])).content.decode()
    aid = text[text.index('id="jz-aid"') : text.index('id="jz-payments"')]
    assert "2018" in aid and "II.1.2" in aid  # the clause the amount comes from
    payments = text[text.index('id="jz-payments"') : text.index('id="jz-responsible"')]
    assert payment.account_masked in payments and "Paid on" in payments
    assert "boarding_subsidy" not in payments  # the programme by its name, not its code
    # A class teacher sees the aid of their pupil, not the county's payments.
    client.force_login(personas.teacher_a)
    text = client.get(reverse("dashboard:child", args=[county.person_a.pk])).content.decode()
    assert "II.1.2" in text and payment.account_masked not in text
    # Township B sees nothing of child A.
    client.force_login(personas.township_b)
    assert client.get(reverse("dashboard:child", args=[county.person_a.pk])).status_code == 404
