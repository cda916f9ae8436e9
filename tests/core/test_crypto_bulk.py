"""The set-wise blind index, masks and seals give exactly what the one-value functions give."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from jingzhun.core import crypto
from jingzhun.core.sensitive import mask_array, seal_array, unseal

SAMPLES = [
    None,
    "",
    "42010120100101001X",
    "G42010120100101001X",
    "L42010120100101001",
    "4201012010",
    "42010",
    " 420101 20100101 001X ",
    "４２０１０１２０１００１０１００１Ｘ",  # full-width digits
    "G４２０１０１2010010100１X",
    "张三42010120100101001X",
    "6228480012345678901",
    "62284800",
    "622848001",
    "6228\t4800 1234 5678 901",
    "AB",
    "ABCDEFGHIJKLMNOPQRST",
    "x\x1c4201012010010100",
    "!#$%&'()*+,-./0123456789",
]


def _values(n: int = 3000) -> list[str | None]:
    rng = random.Random(12)
    alphabet = "0123456789X G\t４张-"
    out = list(SAMPLES)
    while len(out) < n:
        length = rng.choice([0, 3, 8, 9, 12, 15, 18, 19, 20, 25])
        out.append("".join(rng.choice(alphabet) for _ in range(length)) or None)
    return out


@pytest.mark.parametrize("purpose", ["id", "roll", "bank", "id15", "setaside"])
def test_blind_index_set_wise_equals_one_by_one(purpose: str) -> None:
    values = _values()
    expected = [None if v is None else crypto.blind_index(v, purpose=purpose) for v in values]
    assert crypto.blind_index_array(pa.array(values), purpose=purpose).to_pylist() == expected
    assert crypto.blind_index_many(values, purpose=purpose) == expected
    assert crypto.blind_index_many(values[:10], purpose=purpose) == expected[:10]


@pytest.mark.parametrize("purpose", ["id", "roll", "bank"])
def test_mask_set_wise_equals_one_by_one(purpose: str) -> None:
    values = _values()
    expected = [crypto.mask(v, purpose) for v in values]
    assert mask_array(pa.array(values, pa.string()), purpose=purpose).to_pylist() == expected
    chunked = pa.chunked_array([values[:1500], values[1500:]], pa.string())
    assert mask_array(chunked, purpose=purpose).to_pylist() == expected


def test_seal_array_opens_and_indexes_like_seal() -> None:
    values = _values(1500)
    columns = seal_array(pa.array(values, pa.string()), prefix="id", purpose="id")
    version = crypto.keyring().current_version
    ciphers = columns["id_cipher"].to_pylist()
    keys = columns["id_key"].to_pylist()
    indexes = columns["id_index"].to_pylist()
    masks = columns["id_masked"].to_pylist()
    for value, cipher, key, index, shown in zip(values, ciphers, keys, indexes, masks, strict=True):
        assert shown == crypto.mask(value, "id")
        if value is None:
            assert cipher is None and key is None and index is None
            continue
        assert key == (version if value else None)
        assert index == crypto.blind_index(value, purpose="id")

        class Row:
            id_cipher = cipher
            id_key = version

        assert unseal(Row(), prefix="id", purpose="id") == value
