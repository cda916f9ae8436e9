"""The whole identification run with its fuzzy stage, on the hand-made county.

The model is fixed (hand-specified m and u values, as in test_fuzzy.py): training on a few
rows is unreliable, and the point here is the run's handling of links and decisions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Personas
from tests.identification.helpers import AS_OF, HONG, MING, build, roll, rolls_rows
from tests.identification.test_fuzzy import PARAMETERS

from jingzhun.core.crypto import blind_index
from jingzhun.identification import fuzzy
from jingzhun.identification.models import ChildStatus, Link, ReviewCandidate
from jingzhun.identification.services import fuzzy_stage_factory, identification_run, review_decide
from jingzhun.registry.models import Person
from jingzhun.schools.models import Student

pytestmark = pytest.mark.django_db


@pytest.fixture
def model() -> dict[str, Any]:
    return fuzzy.model_from_parameters(PARAMETERS, 3e-4)


def identify(model: dict[str, Any]) -> Any:
    return identification_run(
        actor=None, county_code="420101", as_of=AS_OF, fuzzy=fuzzy_stage_factory(model=model)
    )


def ming() -> Person:
    """Return the helpers' Ming (the personas' county has a child of the same name)."""
    return Person.objects.get(id_index=blind_index(MING[1], purpose="id"))


def homophone_rolls() -> list[list[str]]:
    """Ming's roll row with a homophone name (晓 for 小) and no ID number."""
    rows = rolls_rows()
    rows[0] = roll("张晓明", "", MING[3], "2142010001", "小学", "3", roll_no="L201800000000000001")
    return rows


def test_homophone_without_id_waits_for_review_at_the_default_threshold(
    tmp_path: Path, model: dict[str, Any]
) -> None:
    build(tmp_path, rolls=homophone_rolls())
    run = identify(model)
    candidate = ReviewCandidate.objects.get(person__name=MING[0])
    assert 0.5 <= candidate.probability < 0.99
    assert candidate.evidence["name"] is True and candidate.evidence["id_distance"] is None
    assert not Link.objects.filter(person__name=MING[0]).exists()
    assert ChildStatus.objects.get(run=run, person__name=MING[0]).category == "suspected_dropout"


def test_homophone_links_automatically_above_a_lower_threshold(
    tmp_path: Path, model: dict[str, Any], settings: Any
) -> None:
    settings.IDENTIFICATION_AUTO_THRESHOLD = 0.98
    build(tmp_path, rolls=homophone_rolls())
    run = identify(model)
    link = Link.objects.get(person__name=MING[0])
    assert (link.method, link.student.name) == ("fuzzy", "张晓明")
    assert ChildStatus.objects.get(run=run, person__name=MING[0]).category == "in_county"
    assert run.settings["auto_threshold"] == 0.98


def test_siblings_id_links_the_child_the_name_and_birth_date_say(
    tmp_path: Path, model: dict[str, Any]
) -> None:
    rows = rolls_rows()
    rows[0] = roll(
        MING[0], HONG[1], MING[3], "2142010001", "小学", "3", roll_no="L201800000000000001"
    )
    build(tmp_path, rolls=rows)
    identify(model)
    # the ID says Hong, the name and birth date say Ming: the row goes to Ming (linked, or
    # proposed for review when the evidence is not strong enough), and never to Hong
    row = Student.objects.get(name=MING[0], id_index=blind_index(HONG[1], purpose="id"))
    linked = Link.objects.filter(person=ming(), student=row, method="fuzzy").exists()
    proposed = ReviewCandidate.objects.filter(person=ming(), student=row).exists()
    assert linked or proposed
    hong = Person.objects.get(id_index=blind_index(HONG[1], purpose="id"))
    assert not Link.objects.filter(person=hong).exists()
    assert not ReviewCandidate.objects.filter(person=hong).exists()


def test_rejected_candidate_is_not_proposed_again(
    tmp_path: Path, model: dict[str, Any], personas: Personas
) -> None:
    build(tmp_path, rolls=homophone_rolls())
    identify(model)
    candidate = ReviewCandidate.objects.get(person=ming())
    # when the township officer where Ming lives rejects it
    review_decide(
        actor=personas.township_a, candidate_id=candidate.pk, accept=False, reason="不是同一人"
    )
    identify(model)
    # then later runs neither link nor propose the pair again
    assert not Link.objects.filter(person=ming()).exists()
    assert list(ReviewCandidate.objects.values_list("decision", flat=True)) == ["rejected"]


def test_accepted_candidate_becomes_a_reviewed_link(
    tmp_path: Path, model: dict[str, Any], personas: Personas
) -> None:
    build(tmp_path, rolls=homophone_rolls())
    identify(model)
    candidate = ReviewCandidate.objects.get(person=ming())
    review_decide(actor=personas.township_a, candidate_id=candidate.pk, accept=True)
    run = identify(model)
    assert Link.objects.get(person=ming()).method == "reviewed"
    assert ChildStatus.objects.get(run=run, person=ming()).category == "in_county"
