"""Sealed files: AES-GCM in chunks with the field keys, tamper-evident (issue 11, item 3)."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from jingzhun.core import crypto, sealed

SECRET = b"420101201001010018,6228480012345678901\n"


def test_round_trip_of_any_size() -> None:
    for size in (0, 1, sealed.CHUNK - 1, sealed.CHUNK, sealed.CHUNK + 1, 3 * sealed.CHUNK + 7):
        data = os.urandom(size)
        box = sealed.seal_bytes(data, purpose="upload")
        assert box.startswith(sealed.MAGIC)
        assert size < 16 or data not in box
        assert sealed.unseal_bytes(box, purpose="upload") == data


def test_tampering_truncation_reordering_and_purpose_are_refused() -> None:
    data = SECRET * 70_000  # three chunks
    box = sealed.seal_bytes(data, purpose="upload")
    flipped = bytearray(box)
    flipped[len(box) // 2] ^= 1
    frame = 1 + crypto.NONCE_BYTES + 4
    first_end = 12 + frame + sealed.CHUNK + 16
    second_end = first_end + frame + sealed.CHUNK + 16
    swapped = box[:12] + box[first_end:second_end] + box[12:first_end] + box[second_end:]
    for bad in (bytes(flipped), box[:first_end], box[:-1], box + b"x", swapped):
        with pytest.raises(sealed.SealedFileError):
            sealed.unseal_bytes(bad, purpose="upload")
    with pytest.raises(sealed.SealedFileError):
        sealed.unseal_bytes(box, purpose="media")


def test_plain_files_written_before_sealing_are_read_and_sealed_in_place(
    tmp_path: Path, settings: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IMPORT_DIR = tmp_path / "media" / "imports"
    settings.REPORT_DIR = tmp_path / "media" / "reports"
    old_import = settings.IMPORT_DIR / "abc.csv"
    old_evidence = settings.MEDIA_ROOT / "duty" / "evidence" / "1" / "20181009-note.pdf"
    report = settings.REPORT_DIR / "import-1-report.xlsx"
    for path in (old_import, old_evidence, report):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(SECRET)
    assert b"".join(sealed.plain_chunks(old_import, purpose=sealed.UPLOAD)) == SECRET
    assert sealed.seal_stored_files() == {"imports": 1, "media": 1}
    assert sealed.seal_stored_files() == {"imports": 0, "media": 0}  # a rerun rewrites nothing
    for path, purpose in ((old_import, sealed.UPLOAD), (old_evidence, sealed.MEDIA)):
        assert SECRET not in path.read_bytes()
        assert b"".join(sealed.plain_chunks(path, purpose=purpose)) == SECRET
    assert report.read_bytes() == SECRET  # reports hold masked values, for people to read
    with default_storage.open("duty/evidence/1/20181009-note.pdf") as handle:
        assert handle.read() == SECRET


def test_the_default_storage_seals_on_save(tmp_path: Path, settings: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    name = default_storage.save("duty/evidence/7/scan.pdf", ContentFile(SECRET))
    assert SECRET not in (tmp_path / name).read_bytes()
    assert sealed.is_sealed(tmp_path / name)
    with default_storage.open(name) as handle:
        assert handle.read() == SECRET
    assert default_storage.plain_size(name) == len(SECRET)  # type: ignore[attr-defined]
    with pytest.raises(ValueError):
        default_storage.open(name, "wb")


def test_plain_copy_is_gone_after_the_block(tmp_path: Path) -> None:
    box = tmp_path / "stored.xlsx"
    sealed.seal_file([SECRET], box, purpose=sealed.UPLOAD)
    with sealed.plain_copy(box, purpose=sealed.UPLOAD, name="../建档立卡 2018.csv") as copy:
        assert copy.name == "建档立卡_2018.csv" and copy.read_bytes() == SECRET
        assert oct(copy.parent.stat().st_mode & 0o777) == "0o700"
    assert not copy.exists() and not copy.parent.exists()
    assert io.BytesIO(box.read_bytes()).read(8) == sealed.MAGIC
