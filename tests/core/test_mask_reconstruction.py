"""An attacker who reads everything the platform shows about a child cannot rebuild their ID.

Issue 11: a mask that kept the first and last four characters, beside the birth date, left one
candidate for almost every child. Here each role reads every list of the API and the child's
admin page, gathers what is shown about each child (masks, dates, sex) and enumerates the
resident IDs consistent with it: there must be at least 10,000 for every child.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
from typing import Any

import pytest
from django.test import Client
from tests.conftest import ID_A, ID_B, County, Personas

from jingzhun.accounts.services import api_token_create

LISTS = (
    "persons",
    "households",
    "enrolments",
    "identification/statuses",
    "identification/candidates",
    "duty/cases",
    "aid/entitlements",
)
MIN_CANDIDATES = 10_000
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
MASK = re.compile(r"(?<![0-9A-Za-z*])[A-Za-z]?([0-9X*]{18})(?![0-9X*])")
DAY = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
MONTH = re.compile(r"(?<!\d)(\d{4})-(\d{2})(?![\d-])")


def check_char(body: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 11]


def candidates(seen: str, county: str, sex: str | None) -> int:
    """Count the resident IDs consistent with everything in `seen` about one child."""
    patterns = [m.group(1) for m in MASK.finditer(seen) if "*" in m.group(1)]
    days = {dt.date(int(y), int(m), int(d)) for y, m, d in DAY.findall(seen)}
    if not days:
        months = {(int(y), int(m)) for y, m in MONTH.findall(seen) if 1 <= int(m) <= 12}
        days = {
            dt.date(y, m, d) for y, m in months for d in range(1, calendar.monthrange(y, m)[1] + 1)
        }
    assert days, "no birth information at all: the attacker would need the age"
    heads = {p[:6] for p in patterns if "*" not in p[:6]} or {county}
    count = 0
    for area in heads:
        for day in days:
            for seq in range(1000):
                if sex is not None and (seq % 2 == 1) != (sex == "M"):
                    continue
                body = f"{area}{day:%Y%m%d}{seq:03d}"
                whole = body + check_char(body)
                if all(
                    all(p == "*" or p == c for p, c in zip(pat, whole, strict=True))
                    for pat in patterns
                ):
                    count += 1
    return count


def objects_about(payload: Any, name: str) -> list[Any]:
    """Every JSON object (with what it contains) that names the child."""
    found: list[Any] = []
    if isinstance(payload, dict):
        if name in (payload.get("name"), payload.get("person_name"), payload.get("student_name")):
            found.append(payload)
        for value in payload.values():
            found.extend(objects_about(value, name))
    elif isinstance(payload, list):
        for value in payload:
            found.extend(objects_about(value, name))
    return found


def seen_about(persona: Any, name: str, person_pk: int) -> str:
    token = api_token_create(actor=None, user=persona, name=f"probe-{person_pk}")[1]
    client = Client()
    headers = {"Authorization": f"Bearer {token}"}
    texts = []
    for path in LISTS:
        response = client.get(f"/api/{path}", {"limit": 100}, headers=headers)
        if response.status_code == 200:
            texts.extend(
                json.dumps(o, ensure_ascii=False) for o in objects_about(response.json(), name)
            )
    detail = client.get(f"/api/persons/{person_pk}", headers=headers)
    if detail.status_code == 200:
        texts.append(detail.content.decode())
    admin = Client()
    admin.force_login(persona)
    page = admin.get(f"/admin/registry/person/{person_pk}/change/")
    if page.status_code == 200:
        texts.append(page.content.decode())
    return "\n".join(texts)


@pytest.mark.django_db
def test_no_role_can_rebuild_a_childs_id(county: County, personas: Personas) -> None:
    children = [
        (county.person_a, ID_A, "M"),
        (county.person_b, ID_B, "F"),
    ]
    tried = 0
    for role, persona in personas.all().items():
        for person, whole, sex in children:
            seen = seen_about(persona, person.name, person.pk)
            if person.name not in seen and whole[:6] not in seen:
                continue  # this role sees nothing of the child
            assert whole not in seen, (role, "the whole ID is shown")
            tried += 1
            n = candidates(seen, "420101", sex)
            assert n >= MIN_CANDIDATES, (role, person.name, n)
    assert tried >= 6  # the county roles, the township and the school each saw a child


def test_the_attack_works_on_the_old_mask() -> None:
    # the old format (first and last four kept) beside the birth date left one ID
    old = ID_A[:4] + "*" * 10 + ID_A[-4:]
    assert candidates(f'{{"id_masked": "{old}", "birth_date": "2010-01-01"}}', "420101", "M") == 1
    # the new format beside the birth month leaves thousands
    new = ID_A[:6] + "*" * 12
    assert candidates(f'{{"id_masked": "{new}", "birth_month": "2010-01"}}', "420101", "M") >= (
        MIN_CANDIDATES
    )
