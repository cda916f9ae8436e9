"""Sealed (encrypted + blind-indexed + masked) values stored on model rows."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from django.db import transaction

from jingzhun.core import crypto


def seal(value: str | None, *, prefix: str, purpose: str) -> dict[str, Any]:
    """Return the column values for one plaintext (None clears them)."""
    if not value:
        return {
            f"{prefix}_cipher": None,
            f"{prefix}_key": None,
            f"{prefix}_index": None,
            f"{prefix}_masked": "",
        }
    cipher, version = crypto.encrypt(value, purpose=purpose)
    mask = crypto.mask(value, purpose)
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
            **{f"{prefix}_key": current}
        )
        count = 0
        while True:
            ids = list(stale.values_list("pk", flat=True)[:chunk])
            if not ids:
                break
            with transaction.atomic():
                rows = list(
                    manager.filter(pk__in=ids).only("pk", f"{prefix}_cipher", f"{prefix}_key")
                )
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


def mask_array(values: pa.Array, *, purpose: str = "id") -> pa.Array:
    """Mask many values at once, exactly like :func:`crypto.mask` ('' for null)."""
    return pa.array([crypto.mask(v, purpose) for v in values.to_pylist()], pa.string())


def seal_array(
    values: pa.Array, *, prefix: str, purpose: str, with_index: bool = True
) -> dict[str, pa.Array]:
    """Return the sealed columns for many plaintexts (null stays null); the blind index
    is left out when the caller has computed it already."""
    plain = values.cast(pa.string()).to_pylist()
    version = crypto.keyring().current_version
    columns = {
        f"{prefix}_cipher": pa.array(crypto.encrypt_many(plain, purpose=purpose), pa.binary()),
        f"{prefix}_key": pa.array([version if p else None for p in plain], pa.int16()),
        f"{prefix}_masked": mask_array(values, purpose=purpose),
    }
    if with_index:
        columns[f"{prefix}_index"] = pa.array(
            crypto.blind_index_many(plain, purpose=purpose), pa.string()
        )
    return columns


def remask(*, chunk: int = 2000, echo: Any = None) -> dict[str, int]:
    """Recompute every stored mask from its plaintext where it differs from :func:`crypto.mask`.

    Masks written under an earlier format (first and last four shown) are brought to the
    current one; running it again changes nothing. Return counts per column.
    """
    done: dict[str, int] = {}
    for model, prefix, purpose in SEALED:
        label = f"{model._meta.label}.{prefix}"  # type: ignore[attr-defined]
        manager = model._default_manager  # type: ignore[attr-defined]
        rows = manager.filter(**{f"{prefix}_cipher__isnull": False}).order_by("pk")
        fields = ["pk", f"{prefix}_cipher", f"{prefix}_key", f"{prefix}_masked"]
        changed, last = 0, None
        while True:
            page = rows if last is None else rows.filter(pk__gt=last)
            batch = list(page.only(*fields)[:chunk])
            if not batch:
                break
            last = batch[-1].pk
            stale = []
            for row in batch:
                shown = crypto.mask(unseal(row, prefix=prefix, purpose=purpose), purpose)
                if getattr(row, f"{prefix}_masked") != shown:
                    setattr(row, f"{prefix}_masked", shown)
                    stale.append(row)
            if stale:
                with transaction.atomic():
                    manager.bulk_update(stale, [f"{prefix}_masked"])
                changed += len(stale)
        if echo:
            echo(f"{label}: {changed}")
        done[label] = changed
    return done
