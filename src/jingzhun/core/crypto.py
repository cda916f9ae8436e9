"""Field encryption (AES-GCM, key version per row) and the keyed HMAC blind index."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import pyarrow as pa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

NONCE_BYTES = 12
# 128 bits of the HMAC: no collision in any realistic number of IDs, and half the index size.
BLIND_INDEX_CHARS = 32


@dataclass(frozen=True)
class Keyring:
    keys: dict[int, bytes]
    blind_key: bytes

    @property
    def current_version(self) -> int:
        return max(self.keys)


def parse_keys(spec: str) -> dict[int, bytes]:
    """Parse '1:<base64>,2:<base64>' into {version: 32-byte key}."""
    keys: dict[int, bytes] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        version_text, _, b64 = part.strip().partition(":")
        key = base64.b64decode(b64)
        if len(key) != 32:
            raise ImproperlyConfigured(f"Field key version {version_text} is not 32 bytes.")
        keys[int(version_text)] = key
    if not keys:
        raise ImproperlyConfigured("JINGZHUN_FIELD_KEYS holds no key.")
    return keys


@cache
def keyring() -> Keyring:
    """Return the keys configured in settings (parsed once per process)."""
    return Keyring(
        keys=parse_keys(settings.FIELD_ENCRYPTION_KEYS),
        blind_key=base64.b64decode(settings.BLIND_INDEX_KEY),
    )


def new_key() -> str:
    """Return a fresh random key in the base64 form the settings expect."""
    return base64.b64encode(os.urandom(32)).decode()


def encrypt(plaintext: str, *, purpose: str, version: int | None = None) -> tuple[bytes, int]:
    """Return (nonce + ciphertext + tag, key version); `purpose` is bound as associated data."""
    ring = keyring()
    version = ring.current_version if version is None else version
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(ring.keys[version]).encrypt(nonce, plaintext.encode(), purpose.encode())
    return nonce + sealed, version


def encrypt_many(values: Iterable[str | None], *, purpose: str) -> list[bytes | None]:
    """Encrypt many values with the current key (None stays None)."""
    ring = keyring()
    encrypt_one = AESGCM(ring.keys[ring.current_version]).encrypt
    aad = purpose.encode()
    values = list(values)
    nonces = os.urandom(NONCE_BYTES * len(values))  # one system call, not one per value
    out: list[bytes | None] = []
    for i, value in enumerate(values):
        if value is None:
            out.append(None)
            continue
        nonce = nonces[i * NONCE_BYTES : (i + 1) * NONCE_BYTES]
        out.append(nonce + encrypt_one(nonce, value.encode(), aad))
    return out


def decrypt(blob: bytes, *, version: int, purpose: str) -> str:
    """Return the plaintext; raises if the blob was tampered with or the key is unknown."""
    key = keyring().keys.get(version)
    if key is None:
        raise ImproperlyConfigured(f"No field key of version {version} is configured.")
    blob = bytes(blob)
    return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], purpose.encode()).decode()


def blind_index(value: str, *, purpose: str) -> str:
    """Return the keyed HMAC-SHA256 of a normalised value (hex, first 128 bits)."""
    msg = purpose.encode() + b"\x00" + value.encode()
    return hmac.new(keyring().blind_key, msg, hashlib.sha256).hexdigest()[:BLIND_INDEX_CHARS]


# Above this many values, blind indexes are computed set-wise in DuckDB (below, per value).
_SET_WISE = 1000


def blind_index_array(values: pa.Array | pa.ChunkedArray, *, purpose: str) -> pa.Array:
    """Return the blind indexes of many values as an Arrow string array (null stays null).

    The same HMAC-SHA256 as :func:`blind_index`, written out (RFC 2104: the hash of the
    outer-padded key and the hash of the inner-padded key and the message) so that DuckDB
    computes it vectorised on both cores, without a Python call per value.
    """
    import duckdb

    key = keyring().blind_key
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = bytes(b ^ 0x36 for b in key) + purpose.encode() + b"\x00"
    outer = bytes(b ^ 0x5C for b in key)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = values.cast(pa.string())
    con = duckdb.connect(":memory:")
    try:
        con.register("t", pa.table({"v": values}))
        result = con.sql(
            f"SELECT left(sha256($outer || unhex(sha256($inner || encode(v)))), "
            f"{BLIND_INDEX_CHARS}) AS i FROM t",
            params={"inner": inner, "outer": outer},
        ).to_arrow_table()
    finally:
        con.close()
    return result.column(0).combine_chunks().cast(pa.string())


def blind_index_many(values: Iterable[str | None], *, purpose: str) -> list[str | None]:
    """Return blind indexes for many values (None stays None)."""
    values = values if isinstance(values, list) else list(values)
    if len(values) > _SET_WISE:
        out: list[str | None] = blind_index_array(
            pa.array(values, pa.string()), purpose=purpose
        ).to_pylist()
        return out
    key = keyring().blind_key
    prefix = purpose.encode() + b"\x00"
    digest = hmac.digest
    n = BLIND_INDEX_CHARS // 2
    return [
        None if v is None else digest(key, prefix + v.encode(), "sha256")[:n].hex() for v in values
    ]


# What a mask keeps (issue 11: a mask that kept the first and last four characters, beside a
# birth date, gave the whole ID away). An ID keeps only its area code, which every user of the
# county knows anyway; the birth date, sequence and check character are hidden. With the birth
# month shown (never the day, see core.values.birth_month) a person who knows the county, the
# month and the sex still has about 15,000 candidates. A bank card keeps its last four digits,
# as banks print it (尾号); the rest of a card is not guessable from anything the platform shows.
ID_SHOWN = 6
ACCOUNT_SHOWN = 4
_ID_HEAD = re.compile(rf"^[A-Za-z]*\d{{0,{ID_SHOWN}}}")


def _clean(value: str | None) -> str:
    return "".join(str(value or "").split())


def mask_id(value: str | None) -> str:
    """Return a resident ID or roll number masked: a roll's letters and the six-digit area code
    kept, everything else '*', same length ('420101************', 'G420101************')."""
    text = _clean(value)
    if not text:
        return ""
    head = _ID_HEAD.match(text)
    kept = head.group(0) if head else ""
    if len(text) - len(kept) < 8:
        # too short to be a whole number: keep nothing that could narrow it down
        return "*" * len(text)
    return kept + "*" * (len(text) - len(kept))


def mask_account(value: str | None) -> str:
    """Return a bank account masked: its last four digits kept ('***************8901');
    a value of eight characters or fewer is all '*'."""
    text = _clean(value)
    if len(text) <= 2 * ACCOUNT_SHOWN:
        return "*" * len(text)
    return "*" * (len(text) - ACCOUNT_SHOWN) + text[-ACCOUNT_SHOWN:]


def mask(value: str | None, purpose: str = "id") -> str:
    """Return the one masked form of a sealed value by what it is: a bank account
    (purpose ``bank``) by :func:`mask_account`, an ID or roll number by :func:`mask_id`.
    Screens, Excel files, PDFs and the API all show this form."""
    return mask_account(value) if purpose == "bank" else mask_id(value)
