"""Sealed (encrypted + blind-indexed + masked) values stored on model rows."""

from __future__ import annotations

from typing import Any

from jingzhun.core import crypto


def seal(value: str | None, *, prefix: str, purpose: str) -> dict[str, Any]:
    """Return the column values for one plaintext (None clears them)."""
    if not value:
        return {f"{prefix}_cipher": None, f"{prefix}_key": None, f"{prefix}_index": None,
                f"{prefix}_masked": ""}
    cipher, version = crypto.encrypt(value, purpose=purpose)
    mask = crypto.mask_account(value) if purpose == "bank" else crypto.mask_id(value)
    return {
        f"{prefix}_cipher": cipher,
        f"{prefix}_key": version,
        f"{prefix}_index": crypto.blind_index(value, purpose=purpose),
        f"{prefix}_masked": mask,
    }


def unseal(obj: Any, *, prefix: str, purpose: str) -> str:
    """Return the plaintext of a sealed value ('' when empty). Callers must check permission."""
    cipher = getattr(obj, f"{prefix}_cipher")
    if cipher is None:
        return ""
    return crypto.decrypt(bytes(cipher), version=getattr(obj, f"{prefix}_key"), purpose=purpose)

