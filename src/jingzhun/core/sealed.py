"""Files kept encrypted at rest: uploaded import files and case evidence.

A sealed file is AES-GCM with the field-encryption keys of :mod:`jingzhun.core.crypto`, in
chunks so that a file of any size is sealed and opened with bounded memory::

    header  MAGIC (8 bytes) + key version (4 bytes, big-endian)
    chunk   final flag (1) + nonce (12) + length of the sealed chunk (4) + sealed chunk

Each chunk is at most :data:`CHUNK` bytes of plaintext under a fresh random nonce; its
associated data binds the purpose (``upload``, ``media``), the header, the chunk's number and
whether it is the last, so chunks cannot be reordered, dropped, cut off at the end or moved
to another purpose. A file without the magic is a plain file written before files were sealed:
:func:`plain_chunks` still reads it, and ``jingzhun seal-files`` seals it in place.

The plaintext exists only in memory, or (for the readers that need a path: the spreadsheet
libraries) in a private temporary directory for the time of the read (:func:`plain_copy`).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage

from jingzhun.core import crypto

MAGIC = b"JZSEAL1\n"
CHUNK = 1 << 20
_NONCE = crypto.NONCE_BYTES
_HEADER = len(MAGIC) + 4
_FRAME = 1 + _NONCE + 4
_TAG = 16

#: The purpose bound to sealed import files, and to files of the default storage.
UPLOAD = "upload"
MEDIA = "media"


class SealedFileError(Exception):
    """A sealed file is damaged, cut off or sealed with a key that is not configured."""


def _aad(purpose: str, header: bytes, index: int, final: bool) -> bytes:
    return b"%s\x00%s%d\x00%d" % (purpose.encode(), header, index, int(final))


def _pieces(chunks: Iterable[bytes]) -> Iterator[tuple[bytes, bool]]:
    """Re-cut *chunks* into pieces of at most CHUNK bytes, telling which is the last one."""
    pending = bytearray()
    for chunk in chunks:
        pending += chunk
        while len(pending) > CHUNK:
            yield bytes(pending[:CHUNK]), False
            del pending[:CHUNK]
    yield bytes(pending), True


def seal_chunks(chunks: Iterable[bytes], out: IO[bytes], *, purpose: str) -> None:
    """Write the sealed form of the plaintext *chunks* to the binary stream *out*."""
    ring = crypto.keyring()
    version = ring.current_version
    aead = AESGCM(ring.keys[version])
    header = MAGIC + version.to_bytes(4, "big")
    out.write(header)
    for index, (piece, final) in enumerate(_pieces(chunks)):
        nonce = os.urandom(_NONCE)
        sealed = aead.encrypt(nonce, piece, _aad(purpose, header, index, final))
        out.write(bytes([final]) + nonce + len(sealed).to_bytes(4, "big") + sealed)


def seal_bytes(data: bytes, *, purpose: str) -> bytes:
    """Return *data* sealed (see :func:`seal_chunks`)."""
    out = io.BytesIO()
    seal_chunks([data], out, purpose=purpose)
    return out.getvalue()


def _read_exactly(stream: IO[bytes], n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise SealedFileError("the sealed file is cut off")
    return data


def unseal_chunks(stream: IO[bytes], *, purpose: str) -> Iterator[bytes]:
    """Yield the plaintext of the sealed binary *stream*, checking every chunk."""
    header = _read_exactly(stream, _HEADER)
    if not header.startswith(MAGIC):
        raise SealedFileError("not a sealed file")
    version = int.from_bytes(header[len(MAGIC) :], "big")
    key = crypto.keyring().keys.get(version)
    if key is None:
        raise SealedFileError(f"no field key of version {version} is configured")
    aead = AESGCM(key)
    index = 0
    while True:
        frame = _read_exactly(stream, _FRAME)
        final = frame[0] == 1
        nonce = frame[1 : 1 + _NONCE]
        length = int.from_bytes(frame[1 + _NONCE :], "big")
        if frame[0] > 1 or not _TAG <= length <= CHUNK + _TAG:
            raise SealedFileError("the sealed file is damaged")
        sealed = _read_exactly(stream, length)
        try:
            yield aead.decrypt(nonce, sealed, _aad(purpose, header, index, final))
        except InvalidTag as exc:
            raise SealedFileError("the sealed file is damaged or was changed") from exc
        if final:
            if stream.read(1):
                raise SealedFileError("the sealed file has data after its end")
            return
        index += 1


def unseal_bytes(data: bytes, *, purpose: str) -> bytes:
    """Return the plaintext of sealed *data*."""
    return b"".join(unseal_chunks(io.BytesIO(data), purpose=purpose))


def is_sealed(path: Path) -> bool:
    """Return whether the file at *path* is sealed (starts with the magic)."""
    with open(path, "rb") as fh:
        return fh.read(len(MAGIC)) == MAGIC


def sealed_version(path: Path) -> int | None:
    """Return the key version a sealed file uses, or None for a plain file."""
    with open(path, "rb") as fh:
        header = fh.read(_HEADER)
    if len(header) < _HEADER or not header.startswith(MAGIC):
        return None
    return int.from_bytes(header[len(MAGIC) :], "big")


def plain_chunks(path: Path, *, purpose: str) -> Iterator[bytes]:
    """Yield the plaintext of a file, sealed or (written before sealing) plain."""
    with open(path, "rb") as fh:
        if fh.read(len(MAGIC)) == MAGIC:
            fh.seek(0)
            yield from unseal_chunks(fh, purpose=purpose)
            return
        fh.seek(0)
        while chunk := fh.read(CHUNK):
            yield chunk


def seal_file(source: Iterable[bytes], dest: Path, *, purpose: str) -> None:
    """Seal the plaintext *source* chunks into *dest*, atomically (temp file, then rename)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".sealing-")
    try:
        with os.fdopen(fd, "wb") as out:
            seal_chunks(source, out, purpose=purpose)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def reseal_in_place(path: Path, *, purpose: str) -> bool:
    """Seal a plain file, or one sealed with an older key, with the current key.

    Return whether the file was rewritten.
    """
    if sealed_version(path) == crypto.keyring().current_version:
        return False
    seal_file(plain_chunks(path, purpose=purpose), path, purpose=purpose)
    return True


_UNSAFE_NAME = re.compile(r"[^\w.\-\u3000-\u9fff]+")


@contextlib.contextmanager
def plain_copy(path: Path, *, purpose: str, name: str) -> Iterator[Path]:
    """Give a plaintext copy of a (sealed) file, named *name*, for the time of a ``with``.

    The copy lives in a private directory (mode 700) that is removed on leaving the block,
    whatever happens; the name keeps the user's file name (and so its extension) so that
    readers' messages name the file the user knows.
    """
    folder = Path(tempfile.mkdtemp(prefix="jz-open-"))
    try:
        safe = _UNSAFE_NAME.sub("_", Path(name).name).lstrip(".") or "file"
        copy = folder / safe[-120:]
        with open(copy, "wb") as out:
            for chunk in plain_chunks(path, purpose=purpose):
                out.write(chunk)
        yield copy
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class SealedFileSystemStorage(FileSystemStorage):
    """The default file storage: files are sealed on save and opened decrypted.

    Its files are only ever handed out through views that check the user's scope (case
    evidence: ``duty:step-evidence``); there is no public media URL.
    """

    def _save(self, name: str, content: Any) -> str:
        chunks = content.chunks() if hasattr(content, "chunks") else iter([content.read()])
        box = ContentFile(seal_bytes(b"".join(chunks), purpose=MEDIA))
        # FileSystemStorage._save writes the file (django-stubs do not declare it).
        return str(super()._save(name, box))  # type: ignore[misc]

    def _open(self, name: str, mode: str = "rb") -> File[Any]:
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("sealed files are written through save(), not opened for writing")
        data = b"".join(plain_chunks(Path(self.path(name)), purpose=MEDIA))
        return File(io.BytesIO(data), name=name)

    def plain_size(self, name: str) -> int:
        """Return the size of the decrypted file (``size()`` gives the size on disk)."""
        return sum(len(chunk) for chunk in plain_chunks(Path(self.path(name)), purpose=MEDIA))


def seal_stored_files(*, echo: Any = None) -> dict[str, int]:
    """Seal (or re-seal under the newest key) the import store and the default storage.

    Files written before sealing was introduced, or sealed under a key about to be retired,
    are rewritten in place; the reports folder (masked values, read by people) is left.
    Return how many files of each kind were rewritten.
    """
    from django.conf import settings

    imports = Path(settings.IMPORT_DIR)
    reports = Path(settings.REPORT_DIR)
    counts = {"imports": 0, "media": 0}
    places = [(imports, UPLOAD, "imports"), (Path(settings.MEDIA_ROOT), MEDIA, "media")]
    for root, purpose, label in places:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.name.startswith("."):
                continue
            if label == "media" and (path.is_relative_to(imports) or path.is_relative_to(reports)):
                continue
            if reseal_in_place(path, purpose=purpose):
                counts[label] += 1
                if echo is not None:
                    echo(f"sealed {path.relative_to(root)}")
    return counts
