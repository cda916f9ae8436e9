"""Limits on what users upload: the size of a file, and what an Excel workbook unpacks to.

* :class:`UploadField` is the form field of every upload: a file larger than
  ``UPLOAD_MAX_BYTES`` (``JINGZHUN_UPLOAD_MAX_MB``, default 50) is refused with a message
  naming the file, its size and the limit.
* :class:`LimitedUploadHandler` comes first among the upload handlers: once a file passes the
  limit the rest of it is neither kept in memory nor written to disk; the form then sees an
  empty stand-in of the file's full size and refuses it.
* :func:`check_workbook` runs before any spreadsheet library opens an ``.xlsx``: an ``.xlsx``
  is a zip archive, and a small one can unpack to gigabytes (a 1 MB file holding a 1 GiB
  shared string took the import worker to 7.4 GiB). Its parts may not unpack to more than
  ``XLSX_MAX_UNCOMPRESSED_BYTES`` in all (``JINGZHUN_XLSX_MAX_UNCOMPRESSED_MB``, default 256),
  no large part may be compressed more than ``XLSX_MAX_RATIO`` times (default 200; Excel's
  own files are about 10 times), and the sizes the archive declares are checked by unpacking
  it once with bounded output, so a forged size cannot slip through.

The reading itself runs inside the import worker's process (django-tasks' ``db_worker``, or
the ``import`` command), together with identification runs and aid computations that
legitimately use a lot of memory; a process-wide ``RLIMIT_AS`` would cap those too (Arrow and
DuckDB reserve large address ranges), so the memory ceiling is the uncompressed-size check:
calamine needs a small multiple of what the workbook unpacks to.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.translation import gettext as _

#: Parts smaller than this are not checked for their compression ratio (XML headers of a few
#: bytes compress oddly, and cannot amount to much).
RATIO_MIN_BYTES = 1 << 20
#: More parts than this is no workbook.
MAX_PARTS = 10_000
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_READ = 1 << 16


def _size(size: int) -> str:
    """Return a size as people read it: 512 KB, 2.5 MB, 50 MB."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    value = size / (1024 * 1024)
    return f"{value:.1f} MB" if value < 10 else f"{value:.0f} MB"


def upload_limit() -> int:
    """Return the largest upload accepted, in bytes."""
    return int(settings.UPLOAD_MAX_BYTES)


def check_upload_size(upload: Any, *, limit: int | None = None) -> None:
    """Raise a ValidationError when an uploaded file is larger than the limit."""
    limit = upload_limit() if limit is None else min(limit, upload_limit())
    size = int(getattr(upload, "size", 0) or 0)
    if size > limit:
        raise forms.ValidationError(
            _("%(file)s is %(size)s; files of at most %(limit)s can be uploaded.")
            % {"file": Path(str(upload.name)).name, "size": _size(size), "limit": _size(limit)},
            code="too_large",
        )


class UploadField(forms.FileField):
    """A file field that refuses files over the upload limit (or a smaller *max_bytes*)."""

    def __init__(self, *args: Any, max_bytes: int | None = None, **kwargs: Any) -> None:
        self.max_bytes = max_bytes
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        cleaned = super().clean(data, initial)
        if cleaned:
            check_upload_size(cleaned, limit=self.max_bytes)
        return cleaned


class OversizeUpload(UploadedFile):
    """The stand-in of a file cut off at the limit: no content, the size that was sent."""

    def __init__(self, name: str, size: int, content_type: str | None) -> None:
        super().__init__(io.BytesIO(b""), name, content_type, size)


class LimitedUploadHandler(FileUploadHandler):
    """Stop keeping a file once it passes the upload limit (see the module docstring)."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        # Past the limit, the chunk goes no further: the next handlers keep nothing more.
        return None if self.received > upload_limit() else raw_data

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self.received > upload_limit():
            return OversizeUpload(self.file_name or "", self.received, self.content_type)
        return None


# --------------------------------------------------------------------------- workbooks


class WorkbookRefused(Exception):
    """The workbook would unpack to too much, or lies about its sizes; the text says why."""


def _refuse(name: str, reason: str) -> WorkbookRefused:
    return WorkbookRefused(_("%(file)s was refused: %(reason)s") % {"file": name, "reason": reason})


def _unpacked_size(fh: Any, info: zipfile.ZipInfo, bound: int) -> int:
    """Unpack one part without keeping it; return its real size, stopping past *bound*."""
    fh.seek(info.header_offset)
    header = fh.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        return -1
    name_length, extra_length = _LOCAL_HEADER.unpack(header)[-2:]
    fh.seek(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
    left = info.compress_size
    if info.compress_type == zipfile.ZIP_STORED:
        return left
    inflate = zlib.decompressobj(-zlib.MAX_WBITS)
    produced = 0
    while True:
        if inflate.unconsumed_tail:
            data = inflate.unconsumed_tail
        elif left > 0:
            data = fh.read(min(_READ, left))
            if not data:
                break
            left -= len(data)
        else:
            data = b""  # all read: take what the inflater still holds
        out = inflate.decompress(data, _READ)
        produced += len(out)
        if produced > bound or inflate.eof or not (out or data):
            return produced
    return produced


def check_workbook(path: Path, name: str | None = None) -> None:
    """Refuse an ``.xlsx`` that would unpack to too much; see the module docstring.

    *name* is the file name shown in the message (default: the path's). A file that is not a
    zip archive at all is left to the spreadsheet reader to judge.
    """
    shown = name or Path(path).name
    limit = int(settings.XLSX_MAX_UNCOMPRESSED_BYTES)
    max_ratio = float(settings.XLSX_MAX_RATIO)
    with open(path, "rb") as fh:
        starts_as_zip = fh.read(4) == b"PK\x03\x04"
        fh.seek(0)
        try:
            archive = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
            if starts_as_zip:  # damaged, or made so that only some zip readers take it
                raise WorkbookRefused(
                    _("The file is not an Excel or CSV file (reading failed).")
                ) from exc
            return
        with archive:
            parts = archive.infolist()
            if len(parts) > MAX_PARTS:
                raise _refuse(
                    shown,
                    _("it has %(n)d parts, more than a workbook has.") % {"n": len(parts)},
                )
            declared = 0
            for info in parts:
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise _refuse(
                        shown,
                        _("its part %(part)s uses a compression Excel does not write.")
                        % {"part": info.filename},
                    )
                declared += info.file_size
                if declared > limit:
                    raise _refuse(shown, _too_big(limit))
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size >= RATIO_MIN_BYTES and ratio > max_ratio:
                    raise _refuse(
                        shown,
                        _(
                            "its part %(part)s is compressed %(ratio)d times (at most "
                            "%(limit)d allowed): it would unpack to %(size)s."
                        )
                        % {
                            "part": info.filename,
                            "ratio": ratio,
                            "limit": max_ratio,
                            "size": _size(info.file_size),
                        },
                    )
            # The sizes above are what the archive says; unpack once to hold it to them.
            for info in parts:
                real = _unpacked_size(fh, info, info.file_size)
                if real != info.file_size:
                    raise _refuse(
                        shown,
                        _(
                            "its part %(part)s does not hold what the archive says it does "
                            "(a damaged or forged workbook)."
                        )
                        % {"part": info.filename},
                    )


def _too_big(limit: int) -> str:
    return _(
        "it would unpack to more than %(limit)s. Save it as CSV (UTF-8) or split it, and "
        "import it again."
    ) % {"limit": _size(limit)}
