"""Sealed (encrypted + blind-indexed + masked) values stored on model rows."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
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
    mask = crypto.mask(value)
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


def mask_array(
    values: pa.Array, *, keep_head: int = crypto.MASK_HEAD, keep_tail: int = crypto.MASK_TAIL
) -> pa.Array:
    """Mask many values at once, exactly like :func:`crypto.mask` ('' for null)."""
    values = pc.fill_null(values.cast(pa.string()), "")
    values = pc.replace_substring_regex(values, r"\s+", "")
    n = pc.utf8_length(values)
    hidden = pc.max_element_wise(pc.subtract(n, keep_head + keep_tail), 0)
    head = (
        pc.utf8_slice_codeunits(values, 0, keep_head)
        if keep_head
        else pc.utf8_slice_codeunits(values, 0, 0)
    )
    tail = pc.utf8_slice_codeunits(values, -keep_tail)
    masked = pc.binary_join_element_wise(head, pc.binary_repeat("*", hidden), tail, "")
    short = pc.less_equal(n, keep_head + keep_tail)
    return pc.if_else(short, pc.binary_repeat("*", n), masked)


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
        f"{prefix}_masked": mask_array(values),
    }
    if with_index:
        columns[f"{prefix}_index"] = pa.array(
            crypto.blind_index_many(plain, purpose=purpose), pa.string()
        )
    return columns


def remask(*, chunk: int = 2000, echo: Any = None) -> dict[str, int]:
    """Recompute every stored mask from its plaintext where it differs from :func:`crypto.mask`.

    Masks written before the platform had one format (bank cards showed their last four
    only) are brought to it; running it again changes nothing. Return counts per column.
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
                shown = crypto.mask(unseal(row, prefix=prefix, purpose=purpose))
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
