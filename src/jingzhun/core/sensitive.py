"""Sealed (encrypted + blind-indexed + masked) values stored on model rows."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import duckdb
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


def mask_array(values: pa.Array | pa.ChunkedArray, *, purpose: str = "id") -> pa.Array:
    """Mask many values at once, exactly like :func:`crypto.mask` ('' for null).

    Values of printable ASCII without spaces (nearly all) are masked set-wise in DuckDB;
    any other value goes through :func:`crypto.mask` itself.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = values.cast(pa.string())
    if len(values) < 1000:
        return pa.array([crypto.mask(v, purpose) for v in values.to_pylist()], pa.string())
    if purpose == "bank":
        fast = f"""CASE WHEN length(v) <= {2 * crypto.ACCOUNT_SHOWN} THEN repeat('*', length(v))
                   ELSE repeat('*', length(v) - {crypto.ACCOUNT_SHOWN})
                        || right(v, {crypto.ACCOUNT_SHOWN}) END"""
    else:
        fast = """CASE WHEN length(v) - length(h) < 8 THEN repeat('*', length(v))
                   ELSE h || repeat('*', length(v) - length(h)) END"""
    con = duckdb.connect(":memory:")
    try:
        con.register("t", pa.table({"v": values}))
        masked = con.sql(f"""
            SELECT CASE WHEN v IS NULL THEN ''
                        WHEN regexp_full_match(v, '[!-~]*') THEN {fast} END AS m
            FROM (SELECT v, regexp_extract(v, '^[A-Za-z]*[0-9]{{0,{crypto.ID_SHOWN}}}') AS h
                  FROM t)""").to_arrow_table()
    finally:
        con.close()
    out = masked.column(0).combine_chunks().cast(pa.string())
    if out.null_count:
        # The rest (spaces, full-width characters, ...): exactly as crypto.mask does it.
        missing = pc.indices_nonzero(pc.is_null(out))
        slow = [crypto.mask(v, purpose) for v in values.take(missing).to_pylist()]
        out = pc.replace_with_mask(out, pc.is_null(out), pa.array(slow, pa.string()))
    return out


def seal_array(
    values: pa.Array, *, prefix: str, purpose: str, with_index: bool = True
) -> dict[str, pa.Array]:
    """Return the sealed columns for many plaintexts (null stays null); the blind index
    is left out when the caller has computed it already."""
    text = values.cast(pa.string())
    plain = text.to_pylist()
    version = crypto.keyring().current_version
    filled = pc.fill_null(pc.greater(pc.utf8_length(text), 0), False)
    # AES-GCM runs in a second thread (holding the GIL) while DuckDB, which releases it,
    # masks and indexes the same values on the other core.
    with ThreadPoolExecutor(max_workers=1) as pool:
        sealing = pool.submit(crypto.encrypt_many, plain, purpose=purpose)
        columns = {
            f"{prefix}_key": pc.if_else(
                filled, pa.scalar(version, pa.int16()), pa.scalar(None, pa.int16())
            ),
            f"{prefix}_masked": mask_array(text, purpose=purpose),
        }
        if with_index:
            columns[f"{prefix}_index"] = crypto.blind_index_array(text, purpose=purpose)
        columns[f"{prefix}_cipher"] = pa.array(sealing.result(), pa.binary())
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
