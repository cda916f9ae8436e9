"""Evidence files: a phone photo or a scanned page kept as proof of a step (a dropout case's
visit, a project's acceptance, an inspection's finding).

One form field and one download for every app that keeps them:

* :func:`evidence_field` accepts JPEG, PNG, WebP, HEIC or PDF up to ``MAX_EVIDENCE_BYTES``;
  anything else is refused before it reaches the disk.
* The files go to the default storage, which seals them with the field keys
  (:mod:`jingzhun.core.sealed`); they have no public URL.
* :func:`evidence_response` streams one to a user the calling view has already checked:
  images and PDFs inline, anything else as a download, never cached.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import FileExtensionValidator
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404
from django.utils.translation import gettext_lazy as _

from jingzhun.core.uploads import UploadField

EVIDENCE_EXTENSIONS = ["jpg", "jpeg", "png", "webp", "heic", "pdf"]
MAX_EVIDENCE_BYTES = 10 * 1024 * 1024

# Evidence shown in the browser; anything else is downloaded, never rendered.
INLINE_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "pdf": "application/pdf",
}


def check_evidence(evidence: UploadedFile | None) -> UploadedFile | None:
    """Refuse a file over the evidence limit (the upload limit is larger)."""
    if evidence is not None and (evidence.size or 0) > MAX_EVIDENCE_BYTES:
        raise ValidationError(_("The file is larger than 10 MB."))
    return evidence


def evidence_field(label: Any, *, required: bool = False) -> forms.FileField:
    """Return the form field of an evidence file."""
    return UploadField(
        label=label,
        required=required,
        validators=[FileExtensionValidator(EVIDENCE_EXTENSIONS)],
        widget=forms.ClearableFileInput(attrs={"accept": "image/*,.pdf"}),
        help_text=_("A photo or a scan (JPEG, PNG, HEIC or PDF, at most 10 MB)."),
    )


def suffix_of(filename: str) -> str:
    """Return the lower-case extension of an uploaded file's name ('bin' when it has none)."""
    return filename.rsplit(".", 1)[-1].lower()[:5] if "." in filename else "bin"


def evidence_response(stored: FieldFile) -> FileResponse:
    """Stream a stored evidence file (404 when there is none or it is gone)."""
    name = stored.name or ""
    if not name:
        raise Http404
    base = name.rsplit("/", 1)[-1]
    suffix = base.rsplit(".", 1)[-1].lower() if "." in base else ""
    try:
        handle = stored.storage.open(name, "rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    content_type = INLINE_TYPES.get(suffix)
    response = FileResponse(
        handle,
        as_attachment=content_type is None,
        filename=base,
        content_type=content_type or "application/octet-stream",
    )
    response["Cache-Control"] = "private, no-store"
    return response
