"""Field encryption, blind index, masking and key rotation."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.exceptions import InvalidTag
from django.test import override_settings
from tests.conftest import ID_A, County

from jingzhun.core import crypto
from jingzhun.core.sensitive import rotate_keys, seal, unseal
from jingzhun.registry.models import Household, Person


def test_round_trip_and_random_nonce() -> None:
    a, version = crypto.encrypt(ID_A, purpose="id")
    b, _ = crypto.encrypt(ID_A, purpose="id")
    assert a != b and ID_A.encode() not in a
    assert crypto.decrypt(a, version=version, purpose="id") == ID_A


def test_tampered_or_wrong_purpose_fails() -> None:
    blob, version = crypto.encrypt(ID_A, purpose="id")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(InvalidTag):
        crypto.decrypt(tampered, version=version, purpose="id")
    with pytest.raises(InvalidTag):
        crypto.decrypt(blob, version=version, purpose="bank")


def test_blind_index_is_keyed_and_deterministic() -> None:
    assert crypto.blind_index(ID_A, purpose="id") == crypto.blind_index(ID_A, purpose="id")
    assert crypto.blind_index(ID_A, purpose="id") != crypto.blind_index(ID_A, purpose="bank")
    other_key = base64.b64encode(os.urandom(32)).decode()
    before = crypto.blind_index(ID_A, purpose="id")
    with override_settings(BLIND_INDEX_KEY=other_key):
        crypto.keyring.cache_clear()
        assert crypto.blind_index(ID_A, purpose="id") != before
    crypto.keyring.cache_clear()


def test_masks() -> None:
    # an ID keeps its area code only: no birth date, sequence or check character
    assert crypto.mask_id("42010120100101001X") == "420101************"
    # a bank card keeps its last four digits
    assert crypto.mask_account("6228480012345678901") == "***************8901"
    assert seal(ID_A, prefix="id", purpose="id")["id_masked"] == "420101************"


def test_rotate_keys_reencrypts_under_newest_key(county: County) -> None:
    old = crypto.keyring()
    new_key = base64.b64encode(os.urandom(32)).decode()
    spec = ",".join(f"{v}:{base64.b64encode(k).decode()}" for v, k in old.keys.items())
    with override_settings(FIELD_ENCRYPTION_KEYS=f"{spec},9:{new_key}"):
        crypto.keyring.cache_clear()
        try:
            counts = rotate_keys()
            assert counts["registry.Person.id"] == 2
            assert counts["registry.Household.bank"] == 1
            person = Person.objects.get(pk=county.person_a.pk)
            assert person.id_key == 9
            assert unseal(person, prefix="id", purpose="id") == "420101201001010018"
            assert Household.objects.get(pk=county.household_a.pk).bank_key == 9
            assert rotate_keys()["registry.Person.id"] == 0  # idempotent
        finally:
            crypto.keyring.cache_clear()
