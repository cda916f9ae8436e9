"""Import pages: upload, progress, column mapping, error report, templates."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import Model
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.importing import (
    import_create,
    importer_for,
    imports_sweep,
    mapping_save,
    write_template,
)
from jingzhun.core.models import ImportBatch, ImportChange
from jingzhun.core.progress import read_progress
from jingzhun.core.scoping import get_object_for_user, scope_of, scope_queryset
from jingzhun.core.tasks import import_file
from jingzhun.core.uploads import UploadField
from jingzhun.core.working_year import working_year


def _page(request: HttpRequest, template: str, context: dict[str, object]) -> HttpResponse:
    """Render a page inside the back office's layout (sidebar, language switcher)."""
    return render(request, template, {**admin.site.each_context(request), **context})


def _require(request: HttpRequest, capability: str) -> None:
    if not request.user.can(capability):  # type: ignore[union-attr]
        audit_record(
            actor=request.user,
            action="access.denied",
            request=request,
            data={"path": request.path, "capability": capability},
        )
        raise PermissionDenied


# The files a county holds, in the order of a first load; the templates' lists last.
KIND_ORDER = (
    "registry",
    "rolls",
    "university",
    "outside",
    "poor_villages",
    "areas",
    "schools",
    "teachers",
)


def _kind_choices() -> list[tuple[str, Any]]:
    labels: dict[str, Any] = dict(ImportBatch.Kind.choices)
    return [(k, labels[k]) for k in KIND_ORDER if k in labels]


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind of file"), choices=_kind_choices)
    school_year = forms.IntegerField(
        label=gettext_lazy("School year"),
        min_value=2000,
        max_value=2100,
        required=False,
        help_text=gettext_lazy(
            "For a file without a school-year column (the national roll export): the year it "
            "was exported in, e.g. 2018 for 2018-2019. Empty: the working year."
        ),
    )
    strict = forms.BooleanField(
        label=gettext_lazy("All or nothing"),
        required=False,
        help_text=gettext_lazy(
            "Refuse the whole file if any row has an error, instead of setting those rows aside."
        ),
    )
    source = forms.CharField(
        label=gettext_lazy("Source"),
        max_length=100,
        required=False,
        help_text=gettext_lazy(
            "Who sent the file, e.g. the county poverty office; its column mapping is kept."
        ),
    )
    file = UploadField(label=gettext_lazy("File (.xlsx, .xls, .csv)"))

    def clean_file(self) -> object:
        f = self.cleaned_data["file"]
        if Path(f.name).suffix.lower() not in (".xlsx", ".xls", ".csv"):
            raise forms.ValidationError(_("Only .xlsx, .xls and .csv files can be imported."))
        return f


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    """List the imports the user may see, and upload a new file."""
    _require(request, P.IMPORT_DATA)
    form = UploadForm(
        request.POST or None,
        request.FILES or None,
        initial={"school_year": working_year(getattr(scope_of(request.user), "county_code", ""))},
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        batch = import_create(
            actor=request.user,
            kind=form.cleaned_data["kind"],
            path=upload,
            file_name=upload.name,
            source=form.cleaned_data["source"],
            school_year=form.cleaned_data["school_year"],
            strict=form.cleaned_data["strict"],
        )
        import_file.enqueue(batch.pk)
        return redirect("imports:detail", pk=batch.pk)
    imports_sweep()  # close imports whose worker died, so none shows "running" forever
    batches = scope_queryset(ImportBatch.objects.all(), request.user)[:50]
    return _page(
        request,
        "imports/list.html",
        {
            "form": form,
            "batches": batches,
            "kinds": ImportBatch.Kind.choices,
            "title": _("Imports"),
        },
    )


# What an import change is about, by model label (core refers to app models by label only).
CHANGE_ENTITIES = {
    "area": "registry.area",
    "household": "registry.household",
    "person": "registry.person",
    "school": "schools.school",
    "student": "schools.student",
    "enrolment": "schools.enrolment",
}
# Sealed values appear in change records under these names, never with their values.
SEALED_LABELS = {
    "id_number": gettext_lazy("resident ID"),
    "guardian_id_number": gettext_lazy("guardian ID"),
    "bank_account": gettext_lazy("benefits-card account"),
}


def _change_model(entity: str) -> type[Model] | None:
    label = CHANGE_ENTITIES.get(entity)
    return apps.get_model(label) if label else None


def _change_value(field: object, value: object) -> object:
    choices = dict(getattr(field, "flatchoices", None) or ())
    return choices.get(value, value) if isinstance(value, str) else value


def change_rows(changes: list[ImportChange]) -> list[dict[str, object]]:
    """Return import changes as the user reads them: record kind and field names in their
    language, choice values by their labels."""
    rows: list[dict[str, object]] = []
    for change in changes:
        model = _change_model(change.entity)
        fields = []
        for name, pair in change.changes.items():
            before, after = (list(pair) + [None, None])[:2]
            label: object = SEALED_LABELS.get(name, name)
            field = None
            if model is not None and name not in SEALED_LABELS:
                try:
                    field = model._meta.get_field(name)
                except FieldDoesNotExist:
                    pass
                label = getattr(field, "verbose_name", label)
            if field is not None:
                before, after = _change_value(field, before), _change_value(field, after)
            fields.append({"label": label, "before": before, "after": after})
        rows.append(
            {
                "entity": model._meta.verbose_name if model is not None else change.entity,
                "key": change.key,
                "fields": fields,
            }
        )
    return rows


@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one import: progress while it runs, then its counts, changes and report."""
    _require(request, P.IMPORT_DATA)
    batch = get_object_for_user(ImportBatch.objects.all(), request.user, pk=pk)
    changes = change_rows(list(batch.changes.all()[:200]))
    return _page(
        request,
        "imports/detail.html",
        {
            "batch": batch,
            "progress": read_progress(f"import-{batch.pk}"),
            "changes": changes,
            "running": batch.status in (ImportBatch.Status.PENDING, ImportBatch.Status.RUNNING),
            "title": str(batch),
        },
    )


@login_required
def import_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """Return an import's status and progress as JSON (the page polls it)."""
    _require(request, P.IMPORT_DATA)
    batch = get_object_for_user(ImportBatch.objects.all(), request.user, pk=pk)
    return JsonResponse(
        {
            "status": batch.status,
            "status_label": batch.get_status_display(),
            **read_progress(f"import-{batch.pk}"),
        }
    )


@login_required
def import_report(request: HttpRequest, pk: int) -> FileResponse:
    """Download an import's per-row error report (.xlsx)."""
    _require(request, P.IMPORT_DATA)
    batch = get_object_for_user(ImportBatch.objects.all(), request.user, pk=pk)
    if not batch.report_path or not Path(batch.report_path).exists():
        raise Http404
    return FileResponse(
        open(batch.report_path, "rb"),
        as_attachment=True,  # noqa: SIM115
        filename=f"import-{batch.pk}-report.xlsx",
    )


@login_required
@require_http_methods(["GET", "POST"])
def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    """Map a file's columns to our fields (proposed first), keep it for the source, run again."""
    _require(request, P.IMPORT_DATA)
    batch = get_object_for_user(ImportBatch.objects.all(), request.user, pk=pk)
    importer = importer_for(batch.kind)
    headers = batch.file_headers or []
    choices = [("", "—")] + [(h, h) for h in headers]
    fields = {
        f.name: forms.ChoiceField(
            label=f"{f.zh} ({f.en})",
            choices=choices,
            required=f.required,
            initial=(batch.proposed_mapping or batch.mapping).get(f.name, ""),
        )
        for f in importer.fields
    }
    form_class = type("MappingForm", (forms.Form,), fields)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        mapping = {k: v for k, v in form.cleaned_data.items() if v}
        if batch.source:
            mapping_save(actor=request.user, kind=batch.kind, source=batch.source, mapping=mapping)
        again = import_create(
            actor=request.user,
            kind=batch.kind,
            path=Path(batch.stored_path),
            file_name=batch.file_name,
            source=batch.source,
            mapping=mapping,
            school_year=batch.school_year,
            strict=batch.strict,
        )
        import_file.enqueue(again.pk)
        return redirect("imports:detail", pk=again.pk)
    return _page(
        request,
        "imports/mapping.html",
        {"batch": batch, "form": form, "title": _("Map the file's columns")},
    )


@login_required
def import_template(request: HttpRequest, kind: str) -> FileResponse:
    """Download the .xlsx template of a kind of file."""
    _require(request, P.IMPORT_DATA)
    if kind not in ImportBatch.Kind.values:
        raise Http404
    english = request.GET.get("lang") == "en"
    tmp = Path(tempfile.mkdtemp()) / f"{kind}-template.xlsx"
    write_template(kind, tmp, english=english)
    return FileResponse(open(tmp, "rb"), as_attachment=True, filename=tmp.name)  # noqa: SIM115
