"""Identification pages: runs and their changes, the review queue, the ledgers, coverage.

Every page renders inside the back office's layout; every read goes through
:mod:`jingzhun.identification.selectors` (scoped), every write through
:mod:`jingzhun.identification.services` or a task that calls them.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe
from django_tasks.exceptions import TaskResultDoesNotExist, TaskResultMismatch

from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.progress import read_progress
from jingzhun.identification import exports, selectors
from jingzhun.identification.models import ChildStatus, IdentificationRun, RunChange
from jingzhun.identification.services import review_decide
from jingzhun.identification.tasks import identify, progress_job
from jingzhun.identification.wording import why_listed
from jingzhun.registry.models import Household
from jingzhun.schools.models import Enrolment, School, Stage

PAGE_SIZE = 50
# A run still "running" after this long is taken to have died with its worker.
STALE_RUN = dt.timedelta(hours=6)


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render a page inside the back office's layout (sidebar, language switcher)."""
    nav = [
        ("runs", _("Runs"), reverse("identification:runs")),
        ("candidates", _("Review queue"), reverse("identification:candidates")),
        *(
            (f"ledger-{slug}", ledger.title, reverse(f"identification:ledger-{slug}"))
            for slug, ledger in selectors.LEDGERS.items()
        ),
        ("coverage", _("Coverage"), reverse("identification:coverage")),
    ]
    return render(
        request,
        template,
        {**admin.site.each_context(request), "jz_nav": nav, **context},
        status=status,
    )


def _deny(request: HttpRequest, capability: str) -> None:
    audit_record(
        actor=request.user,
        action="access.denied",
        request=request,
        data={"path": request.path, "capability": capability},
    )


def _require(request: HttpRequest, capability: str) -> None:
    if not request.user.can(capability):  # type: ignore[union-attr]
        _deny(request, capability)
        raise PermissionDenied


def _paginate(request: HttpRequest, items: Any, param: str = "page") -> Page[Any]:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get(param))


# --------------------------------------------------------------------------- runs


@login_required
@require_http_methods(["GET", "POST"])
def runs(request: HttpRequest) -> HttpResponse:
    """List the county's runs; users who import data may start a new run."""
    _require(request, P.VIEW)
    user = request.user
    if request.method == "POST":
        if not selectors.may_start_run(user):
            _deny(request, P.IMPORT_DATA)
            raise PermissionDenied
        running = selectors.running_run(user=user)
        if running is not None and timezone.now() - running.started_at < STALE_RUN:
            messages.warning(request, _("A run is already in progress; wait for it to finish."))
        else:
            county = user.scope.county_code  # type: ignore[union-attr]
            result = identify.enqueue(county, timezone.localdate().isoformat(), user.pk)
            messages.info(request, _("Identification started. This page shows its progress."))
            return redirect(f"{reverse('identification:runs')}?task={result.id}")
        return redirect("identification:runs")
    county = user.scope.county_code  # type: ignore[union-attr]
    running = selectors.running_run(user=user)
    return _page(
        request,
        "identification/runs.html",
        {
            "title": _("Identification runs"),
            "active": "runs",
            "runs": _paginate(request, selectors.run_list(user=user).select_related("started_by")),
            "may_start": selectors.may_start_run(user),
            "running": running,
            "task": _task_param(request),
            "progress": read_progress(progress_job(county)) if running else {},
            "pending": selectors.candidate_list(user=user).count(),
        },
    )


def _task_param(request: HttpRequest) -> str:
    task = request.GET.get("task", "")
    return task if len(task) <= 64 and task.replace("-", "").isalnum() else ""


def _task_finished(task_id: str) -> bool:
    """Return whether a queued run has finished (or cannot be found, which ends waiting)."""
    try:
        return bool(identify.get_result(task_id).is_finished)
    except (NotImplementedError, TaskResultDoesNotExist, TaskResultMismatch, ValidationError):
        return True


@login_required
@require_safe
def run_progress(request: HttpRequest) -> JsonResponse:
    """Return whether a run of the user's county is running, and its progress (polled).

    With ``?task=`` (the job a user started), also whether that job has finished.
    """
    _require(request, P.VIEW)
    user = request.user
    running = selectors.running_run(user=user)
    latest = selectors.run_list(user=user).first()
    county = user.scope.county_code  # type: ignore[union-attr]
    task = _task_param(request) if selectors.may_start_run(user) else ""
    return JsonResponse(
        {
            "running": running is not None,
            "run": latest.pk if latest is not None else None,
            "status": latest.status if latest is not None else "",
            **({"task_finished": _task_finished(task)} if task else {}),
            **(read_progress(progress_job(county)) if running is not None else {}),
        }
    )


def _change_values(changes: list[RunChange]) -> list[dict[str, Any]]:
    """Return changes with their before/after values as people read them."""
    category = dict(ChildStatus.Category.choices)
    household = dict(Household.Status.choices)
    roll = dict(Enrolment.Status.choices)
    school_ids = {
        int(v)
        for c in changes
        if c.kind == RunChange.Kind.TRANSFER
        for v in (c.before, c.after)
        if v and v.isdigit()
    }
    schools = dict(School.objects.filter(pk__in=school_ids).values_list("pk", "name"))

    def show(kind: str, value: str) -> Any:
        if not value:
            return "—"
        if kind == RunChange.Kind.TRANSFER:
            return schools.get(int(value), value) if value.isdigit() else value
        if kind == RunChange.Kind.LEFT_POVERTY:
            return household.get(value, value)
        if kind == RunChange.Kind.GRADUATED:
            return roll.get(value, value)
        return category.get(value, value)

    return [
        {"change": c, "before": show(c.kind, c.before), "after": show(c.kind, c.after)}
        for c in changes
    ]


@login_required
@require_safe
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    """Show one run: its counts, the changes since the previous run, and discrepancies."""
    _require(request, P.VIEW)
    user = request.user
    run = selectors.get_run(user=user, run_id=run_id)
    changes = _paginate(request, selectors.change_list(user=user, run=run))
    discrepancies = _paginate(
        request, selectors.discrepancy_list(user=user, run=run), param="dpage"
    )
    return _page(
        request,
        "identification/run_detail.html",
        {
            "title": _("Identification run %(run)s") % {"run": run},
            "active": "runs",
            "run": run,
            "categories": selectors.category_counts(user=user, run=run),
            "change_counts": selectors.change_counts(user=user, run=run),
            "changes": changes,
            "change_rows": _change_values(list(changes.object_list)),
            "discrepancies": discrepancies,
            "running": run.status == IdentificationRun.Status.RUNNING,
            "progress": read_progress(progress_job(run.county_code))
            if run.status == IdentificationRun.Status.RUNNING
            else {},
            "children": selectors.status_list(user=user, run=run).count(),
        },
    )


def _download(write: Any, filename: str) -> FileResponse:
    """Write an export to a private temporary file and stream it; the file is gone afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="jz-export-"))
    try:
        path = folder / filename
        write(path)
        handle = path.open("rb")
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the open handle still reads the data
    return FileResponse(handle, as_attachment=True, filename=filename)


@login_required
@require_safe
def run_export(request: HttpRequest, run_id: int, fmt: str) -> FileResponse:
    """Download one row per registry child of a run (IDs masked), as the user may see it."""
    _require(request, P.VIEW)
    user = request.user
    run = selectors.get_run(user=user, run_id=run_id)
    return _download(
        lambda path: exports.export_identification(user=user, run=run, path=path),
        f"identification-{run.pk}-{run.as_of}.{fmt}",
    )


# --------------------------------------------------------------------------- review


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accept", gettext_lazy("Accept")), ("reject", gettext_lazy("Reject"))]
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason (optional)"), max_length=200, required=False
    )


@login_required
@require_safe
def candidates(request: HttpRequest) -> HttpResponse:
    """List the probable links waiting for review in the user's jurisdiction."""
    _require(request, P.VIEW)
    user = request.user
    decided = request.GET.get("show") == "decided"
    qs = selectors.candidate_list(user=user, pending_only=not decided)
    if decided:
        qs = qs.exclude(decision="pending").order_by("-decided_at", "-pk")
    return _page(
        request,
        "identification/candidates.html",
        {
            "title": _("Review queue"),
            "active": "candidates",
            "candidates": _paginate(request, qs.select_related("decided_by")),
            "decided": decided,
            "pending": selectors.candidate_list(user=user).count(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def candidate_detail(request: HttpRequest, candidate_id: int) -> HttpResponse:
    """Show a candidate side by side with the evidence; accept or reject it."""
    _require(request, P.VIEW)
    user = request.user
    candidate = selectors.get_candidate(user=user, candidate_id=candidate_id)
    may_decide = selectors.may_review(user)
    form = DecisionForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if not may_decide:
            _deny(request, "review")
            messages.error(request, _("Your role may look at candidates but not decide them."))
            status = 403
        elif form.is_valid():
            accept = form.cleaned_data["decision"] == "accept"
            try:
                review_decide(
                    actor=user,
                    candidate_id=candidate.pk,
                    accept=accept,
                    reason=form.cleaned_data["reason"],
                )
            except PermissionDenied:
                _deny(request, "review")
                messages.error(request, _("Your role may look at candidates but not decide them."))
                status = 403
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return redirect("identification:candidate", candidate_id=candidate.pk)
            else:
                messages.success(
                    request,
                    (
                        _("Accepted: %(person)s is the student %(student)s.")
                        if accept
                        else _("Rejected: %(person)s is not the student %(student)s.")
                    )
                    % {"person": candidate.person.name, "student": candidate.student.name},
                )
                return redirect("identification:candidates")
    return _page(
        request,
        "identification/candidate_detail.html",
        {
            "title": _("Review a probable link"),
            "active": "candidates",
            "candidate": candidate,
            "comparison": selectors.candidate_comparison(candidate),
            "evidence": selectors.evidence_rows(candidate.evidence),
            "form": form,
            "may_decide": may_decide and candidate.decision == "pending",
            "percent": round(candidate.probability * 100, 1),
        },
        status=status,
    )


# --------------------------------------------------------------------------- ledgers


def _ledger_filters(request: HttpRequest) -> dict[str, Any]:
    school = request.GET.get("school", "")
    group = request.GET.get("group", "township")
    return {
        "township": request.GET.get("township", "").strip()[:12],
        "school_id": int(school) if school.isdigit() else None,
        "group": group if group in ("township", "school") else "township",
    }


def _without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
@require_safe
def ledger(request: HttpRequest, slug: str) -> HttpResponse:
    """Show one dropout-control ledger of the latest run, by township or by school."""
    _require(request, P.VIEW)
    user = request.user
    book = selectors.LEDGERS[slug]
    run = selectors.latest_run(user=user)
    filters = _ledger_filters(request)
    context: dict[str, Any] = {
        "title": book.title,
        "active": f"ledger-{slug}",
        "ledger": book,
        "run": run,
        "filters": filters,
        "export_url": reverse(f"identification:ledger-{slug}-export"),
        "filter_query": _without_page(request),
    }
    if run is not None:
        rows = _paginate(request, selectors.ledger_rows(user=user, run=run, ledger=book, **filters))
        stages = dict(Stage.choices)
        for status in rows:  # one page of rows
            status.stage_label = stages.get(status.stage, status.stage)
            status.why, status.evidence = why_listed(
                category=status.category,
                birth_date=status.person.birth_date,
                school_year=run.school_year,
                school_status=status.person.school_status,
                education=status.person.education,
                id_status=status.person.id_status,
            )
        context.update(rows=rows, groups=selectors.ledger_groups(user=user, run=run, ledger=book))
    return _page(request, "identification/ledger.html", context)


@login_required
@require_safe
def ledger_export(request: HttpRequest, slug: str) -> HttpResponseBase:
    """Download a ledger of the latest run (.xlsx), with the filters of the page."""
    _require(request, P.VIEW)
    user = request.user
    book = selectors.LEDGERS[slug]
    run = selectors.latest_run(user=user)
    if run is None:
        messages.warning(request, _("There is no finished identification run yet."))
        return redirect(f"identification:ledger-{slug}")
    filters = _ledger_filters(request)
    return _download(
        lambda path: exports.export_ledger(user=user, run=run, ledger=book, path=path, **filters),
        f"ledger-{slug}-{run.as_of}.xlsx",
    )


# --------------------------------------------------------------------------- coverage


@login_required
@require_safe
def coverage(request: HttpRequest) -> HttpResponse:
    """Show identification coverage per village, township and in total (latest run)."""
    _require(request, P.VIEW)
    user = request.user
    run = selectors.latest_run(user=user)
    return _page(
        request,
        "identification/coverage.html",
        {
            "title": _("Identification coverage"),
            "active": "coverage",
            "run": run,
            "coverage": selectors.coverage(user=user, run=run) if run is not None else None,
        },
    )
