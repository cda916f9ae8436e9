"""Sealed (encrypted + blind-indexed + masked) values stored on model rows."""

from __future__ import annotations

from typing import Any

from django.db import transaction

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



# (model, prefix, purpose) of every sealed value, registered by the owning apps.
SEALED: list[tuple[type, str, str]] = []


def register_sealed(model: type, prefix: str, purpose: str) -> None:
    """Declare that `model` stores a sealed value under `prefix` (for key rotation)."""
    if (model, prefix, purpose) not in SEALED:
        SEALED.append((model, prefix, purpose))


def rotate_keys(*, chunk: int = 2000, echo: Any = None) -> dict[str, int]:
    """Re-encrypt every sealed value not under the newest key; return counts per column."""
    current = crypto.keyring().current_version
    done: dict[str, int] = {}
    for model, prefix, purpose in SEALED:
        label = f"{model._meta.label}.{prefix}"  # type: ignore[attr-defined]
        manager = model._default_manager  # type: ignore[attr-defined]
        stale = manager.filter(**{f"{prefix}_cipher__isnull": False}).exclude(
            **{f"{prefix}_key": current})
        count = 0
        while True:
            ids = list(stale.values_list("pk", flat=True)[:chunk])
            if not ids:
                break
            with transaction.atomic():
                rows = list(manager.filter(pk__in=ids).only("pk", f"{prefix}_cipher", f"{prefix}_key"))
                for row in rows:
                    plain = unseal(row, prefix=prefix, purpose=purpose)
                    cipher, version = crypto.encrypt(plain, purpose=purpose)
                    setattr(row, f"{prefix}_cipher", cipher)
                    setattr(row, f"{prefix}_key", version)
                manager.bulk_update(rows, [f"{prefix}_cipher", f"{prefix}_key"])
            count += len(rows)
            if echo:
                echo(f"{label}: {count}")
        done[label] = count
    return done
