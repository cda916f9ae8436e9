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
from jingzhun.core.cache import cached
from jingzhun.core.listing import ListChoices, ListParams, paginate
from jingzhun.core.periods import SchoolYear
from jingzhun.core.progress import read_progress
from jingzhun.core.working_year import working_year
from jingzhun.identification import exports, selectors
from jingzhun.identification.models import (
    ChildStatus,
    IdentificationRun,
    ReviewCandidate,
    RunChange,
)
from jingzhun.identification.services import (
    RunRefused,
    identification_run_confirm,
    identification_run_discard,
    review_decide,
    rolls_check,
)
from jingzhun.identification.tasks import identify, progress_job
from jingzhun.identification.wording import why_listed
from jingzhun.schools.models import Stage
from jingzhun.schools.naming import class_name
from jingzhun.schools.selectors import list_choices

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


class StartForm(forms.Form):
    as_of = forms.DateField(
        label=gettext_lazy("As of"),
        # ISO, whatever the language: a date input holds only YYYY-MM-DD (zh-hans would
        # write 2018/10/08, which the browser drops, leaving a required field empty).
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=gettext_lazy(
            "Children are classified as of this date, against the rolls of its school year."
        ),
    )


def default_as_of(county_code: str, today: dt.date | None = None) -> dt.date:
    """Return today, or the nearest day of the county's working school year."""
    today = today or timezone.localdate()
    year = SchoolYear(working_year(county_code))
    return min(max(today, year.first_day), year.last_day)


RUN_STATUSES = IdentificationRun.Status.choices


@login_required
@require_http_methods(["GET", "POST"])
def runs(request: HttpRequest) -> HttpResponse:
    """List the county's runs; users who import data may start a new run (a preview)."""
    _require(request, P.VIEW)
    user = request.user
    county = user.scope.county_code  # type: ignore[union-attr]
    may_start = selectors.may_start_run(user)
    form = StartForm(initial={"as_of": default_as_of(county)})
    status = 200
    if request.method == "POST":
        if not may_start:
            _deny(request, P.IMPORT_DATA)
            raise PermissionDenied
        form = StartForm(request.POST)
        running = selectors.running_run(user=user)
        if running is not None and timezone.now() - running.started_at < STALE_RUN:
            messages.warning(request, _("A run is already in progress; wait for it to finish."))
            return redirect("identification:runs")
        if form.is_valid():
            as_of = form.cleaned_data["as_of"]
            try:
                rolls_check(county_code=county, as_of=as_of)
            except RunRefused as exc:
                form.add_error("as_of", exc)
            else:
                result = identify.enqueue(county, as_of.isoformat(), user.pk)
                messages.info(
                    request,
                    _(
                        "Identification started as of %(date)s. When it finishes it is a "
                        "preview: check its differences and confirm it."
                    )
                    % {"date": as_of.isoformat()},
                )
                return redirect(f"{reverse('identification:runs')}?task={result.id}")
        status = 400
    running = selectors.running_run(user=user)
    lp = ListParams.read(request.GET, statuses=[v for v, _label in RUN_STATUSES], extra=("task",))
    rows = selectors.filtered_runs(user=user, params=lp)
    page = paginate(request.GET, rows)
    choices = list_choices(
        user=user,
        params=lp,
        statuses=[(v, str(label)) for v, label in RUN_STATUSES],
        places=False,
        search=False,
    )
    return _page(
        request,
        "identification/runs.html",
        {
            "title": _("Identification runs"),
            "active": "runs",
            "runs": page,
            "lp": lp,
            "choices": choices,
            "total": page.paginator.count,
            "export_url": reverse("identification:runs-export"),
            "may_start": may_start,
            "form": form,
            "batches": selectors.input_batches(county_code=county) if may_start else [],
            "roll_counts": [
                (SchoolYear(y), n) for y, n in selectors.roll_counts(county_code=county)[:4]
            ]
            if may_start
            else [],
            "previews": list(selectors.preview_runs(user=user)[:5]),
            "current": selectors.latest_run(user=user),
            "running": running,
            "task": _task_param(request),
            "progress": read_progress(progress_job(county)) if running else {},
            "pending": selectors.candidate_list(user=user).count(),
        },
        status=status,
    )


@login_required
@require_safe
def runs_export(request: HttpRequest) -> FileResponse:
    """Download the runs of the list's filters (.xlsx)."""
    _require(request, P.VIEW)
    user = request.user
    lp = ListParams.read(request.GET, statuses=[v for v, _label in RUN_STATUSES])
    return _download(
        lambda path: exports.export_runs(user=user, path=path, params=lp),
        "identification-runs.xlsx",
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


CHANGE_KINDS = RunChange.Kind.choices


@login_required
@require_safe
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    """Show one run: its counts, the changes since the previous run, and discrepancies.

    A preview also shows its inputs and its differences from the current run, with the
    buttons to confirm (a held run needs an extra tick) or to discard it.
    """
    _require(request, P.VIEW)
    user = request.user
    run = selectors.get_run(user=user, run_id=run_id)
    lp = ListParams.read(request.GET, statuses=[v for v, _label in CHANGE_KINDS])
    changes = paginate(request.GET, selectors.filtered_changes(user=user, run=run, params=lp))
    discrepancies = _paginate(
        request, selectors.discrepancy_list(user=user, run=run), param="dpage"
    )
    is_preview = run.status == IdentificationRun.Status.PREVIEW
    return _page(
        request,
        "identification/run_detail.html",
        {
            "title": _("Identification run %(run)s") % {"run": run},
            "active": "runs",
            "run": run,
            "school_year": SchoolYear(run.school_year),
            "categories": selectors.category_counts(user=user, run=run),
            "change_counts": selectors.change_counts(user=user, run=run),
            "changes": changes,
            "change_rows": exports.change_values(list(changes.object_list)),
            "lp": lp,
            "choices": list_choices(
                user=user,
                params=lp,
                statuses=[(v, str(label)) for v, label in CHANGE_KINDS],
            ),
            "export_url": reverse("identification:run-changes-export", args=[run.pk]),
            "discrepancies": discrepancies,
            "running": run.status == IdentificationRun.Status.RUNNING,
            "progress": read_progress(progress_job(run.county_code))
            if run.status == IdentificationRun.Status.RUNNING
            else {},
            "children": selectors.status_list(user=user, run=run).count(),
            "has_rows": run.status
            in (IdentificationRun.Status.DONE, IdentificationRun.Status.PREVIEW),
            "is_preview": is_preview,
            "may_confirm": is_preview and selectors.may_start_run(user),
            "diff_categories": _diff_categories(run) if run.diff else [],
            "moved_out_percent": round(100 * float(run.diff.get("moved_out_share", 0)), 1),
            "hold_percent": round(100 * float(run.diff.get("hold_share", 0)), 1),
            "batches": run.inputs.get("batches", []),
        },
    )


def _diff_categories(run: IdentificationRun) -> list[tuple[str, int, int]]:
    labels = dict(ChildStatus.Category.choices)
    return [
        (str(labels.get(code, code)), before, after)
        for code, (before, after) in run.diff.get("categories", {}).items()
        if before or after
    ]


@login_required
@require_http_methods(["POST"])
def run_confirm(request: HttpRequest, run_id: int) -> HttpResponse:
    """Confirm a preview: it becomes the county's current run (audited)."""
    _require(request, P.VIEW)
    user = request.user
    run = selectors.get_run(user=user, run_id=run_id)
    if not selectors.may_start_run(user):
        _deny(request, P.IMPORT_DATA)
        raise PermissionDenied
    try:
        identification_run_confirm(
            actor=user, run_id=run.pk, checked_held=request.POST.get("checked_held") == "1"
        )
    except RunRefused as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Run %(n)s is confirmed: the ledgers, coverage and casework now read it.")
            % {"n": run.pk},
        )
    return redirect("identification:run", run_id=run.pk)


@login_required
@require_http_methods(["POST"])
def run_discard(request: HttpRequest, run_id: int) -> HttpResponse:
    """Discard a preview; the current run stays as it was."""
    _require(request, P.VIEW)
    user = request.user
    run = selectors.get_run(user=user, run_id=run_id)
    if not selectors.may_start_run(user):
        _deny(request, P.IMPORT_DATA)
        raise PermissionDenied
    try:
        identification_run_discard(actor=user, run_id=run.pk)
    except RunRefused as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Run %(n)s is discarded.") % {"n": run.pk})
    return redirect("identification:run", run_id=run.pk)


@login_required
@require_safe
def run_changes_export(request: HttpRequest, run_id: int) -> FileResponse:
    """Download a run's changes with the filters of its page (.xlsx)."""
    _require(request, P.VIEW)
    user = request.user
    run = selectors.get_run(user=user, run_id=run_id)
    lp = ListParams.read(request.GET, statuses=[v for v, _label in CHANGE_KINDS])
    return _download(
        lambda path: exports.export_changes(user=user, run=run, path=path, params=lp),
        f"identification-{run.pk}-changes.xlsx",
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
    """List the probable links of the user's jurisdiction (waiting for review by default)."""
    _require(request, P.VIEW)
    user = request.user
    data = request.GET.copy()
    if data.get("show") == "decided" and not data.get("status"):
        data["status"] = selectors.DECIDED  # the queue's old "decided" link
    lp = ListParams.read(data, statuses=[v for v, _label in selectors.candidate_statuses()])
    rows = selectors.filtered_candidates(user=user, params=lp)
    page = paginate(request.GET, rows)
    return _page(
        request,
        "identification/candidates.html",
        {
            "title": _("Review queue"),
            "active": "candidates",
            "candidates": page,
            "decided": bool(lp.status) and lp.status != ReviewCandidate.Decision.PENDING,
            "lp": lp,
            "choices": list_choices(user=user, params=lp, statuses=selectors.candidate_statuses()),
            "total": page.paginator.count,
            "export_url": reverse("identification:candidates-export"),
            "pending": selectors.candidate_list(user=user).count(),
        },
    )


@login_required
@require_safe
def candidates_export(request: HttpRequest) -> FileResponse:
    """Download the candidates of the list's filters (.xlsx)."""
    _require(request, P.VIEW)
    user = request.user
    lp = ListParams.read(request.GET, statuses=[v for v, _label in selectors.candidate_statuses()])
    return _download(
        lambda path: exports.export_candidates(user=user, path=path, params=lp),
        "identification-candidates.xlsx",
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


def _ledger_params(request: HttpRequest, book: selectors.Ledger) -> tuple[ListParams, str]:
    statuses = [v for v, _label in selectors.ledger_categories(book)]
    lp = ListParams.read(request.GET, statuses=statuses, extra=("group",))
    group = lp.extra.get("group", "township")
    return lp, group if group in ("township", "school") else "township"


@login_required
@require_safe
def ledger(request: HttpRequest, slug: str) -> HttpResponse:
    """Show one dropout-control ledger of the current run, by township or by school."""
    _require(request, P.VIEW)
    user = request.user
    book = selectors.LEDGERS[slug]
    run = selectors.latest_run(user=user)
    lp, group = _ledger_params(request, book)
    context: dict[str, Any] = {
        "title": book.title,
        "active": f"ledger-{slug}",
        "ledger": book,
        "run": run,
        "lp": lp,
        "group": group,
        "group_query": {
            "township": lp.query(group="township"),
            "school": lp.query(group="school"),
        },
        "export_url": reverse(f"identification:ledger-{slug}-export"),
    }
    if run is not None:
        rows = paginate(
            request.GET,
            selectors.ledger_rows(user=user, run=run, ledger=book, params=lp, group=group),
        )
        stages = dict(Stage.choices)
        for status in rows:  # one page of rows
            status.stage_label = stages.get(status.stage, status.stage)
            status.class_label = class_name(
                status.stage,
                status.grade,
                status.enrolment.school_class.name
                if status.enrolment is not None and status.enrolment.school_class is not None
                else "",
            )
            status.why, status.evidence = why_listed(
                category=status.category,
                birth_date=status.person.birth_date,
                school_year=run.school_year,
                school_status=status.person.school_status,
                education=status.person.education,
                id_status=status.person.id_status,
            )
        context.update(
            rows=rows,
            total=rows.paginator.count,
            groups=selectors.ledger_groups(user=user, run=run, ledger=book),
            choices=list_choices(
                user=user,
                params=lp,
                school_year=run.school_year,
                statuses=selectors.ledger_categories(book),
            ),
        )
    return _page(request, "identification/ledger.html", context)


@login_required
@require_safe
def ledger_export(request: HttpRequest, slug: str) -> HttpResponseBase:
    """Download a ledger of the current run (.xlsx), with exactly the filters of the page."""
    _require(request, P.VIEW)
    user = request.user
    book = selectors.LEDGERS[slug]
    run = selectors.latest_run(user=user)
    if run is None:
        messages.warning(request, _("There is no confirmed identification run yet."))
        return redirect(f"identification:ledger-{slug}")
    lp, group = _ledger_params(request, book)
    return _download(
        lambda path: exports.export_ledger(
            user=user, run=run, ledger=book, path=path, params=lp, group=group
        ),
        f"ledger-{slug}-{run.as_of}.xlsx",
    )


# --------------------------------------------------------------------------- coverage

# ``?export=xlsx`` on the coverage page downloads the villages its filters keep.
EXPORT_PARAM, EXPORT_XLSX = "export", "xlsx"


def _coverage_lists(
    cov: selectors.Coverage, lp: ListParams
) -> tuple[list[selectors.CoverageRow], list[selectors.CoverageRow]]:
    """Return the townships and the villages the filters keep.

    A township keeps itself and its villages (by area code); the search keeps the villages
    whose name or code holds the text. Both lists are the selector's: scoped to the user.
    """
    townships, villages = cov.townships, cov.villages
    if lp.township:
        townships = [r for r in townships if r.code.startswith(lp.township)]
        villages = [r for r in villages if r.code.startswith(lp.township)]
    if lp.q:
        needle = lp.q.casefold()
        villages = [r for r in villages if needle in r.name.casefold() or needle in r.code]
    return townships, villages


def _coverage_sum(rows: list[selectors.CoverageRow], name: str) -> selectors.CoverageRow:
    """Return one row adding up *rows* (the total of what the filters keep)."""
    return selectors.CoverageRow(
        code="",
        name=name,
        school_age=sum(r.school_age for r in rows),
        school_age_known=sum(r.school_age_known for r in rows),
        all_ages=sum(r.all_ages for r in rows),
        all_ages_known=sum(r.all_ages_known for r in rows),
    )


def _township_choices(cov: selectors.Coverage) -> list[tuple[str, str]]:
    """The townships to filter by: those of the user's coverage, when there are several."""
    return [(r.code, r.name) for r in cov.townships] if len(cov.townships) > 1 else []


def _share(value: Any) -> float | None:
    return None if value is None else float(value)


def _coverage_export(
    request: HttpRequest, run: IdentificationRun, cov: selectors.Coverage, lp: ListParams
) -> FileResponse:
    """Download the villages the page's filters keep, every page of them (.xlsx)."""
    user = request.user
    _townships, villages = _coverage_lists(cov, lp)
    township_names = {r.code: r.name for r in cov.townships}
    headers = [
        _("Township"),
        _("Code"),
        _("Village"),
        _("Aged 6–15"),
        _("Known"),
        _("Coverage"),
        _("Aged 3–22"),
        _("Known"),
        _("Coverage"),
    ]
    rows = [
        [
            township_names.get(r.code[: selectors.TOWNSHIP_CODE_LENGTH], ""),
            r.code,
            r.name,
            r.school_age,
            r.school_age_known,
            _share(r.school_age_share),
            r.all_ages,
            r.all_ages_known,
            _share(r.all_ages_share),
        ]
        for r in villages
    ]

    def write(path: Path) -> None:
        n = exports.write_table(path, headers, rows, title=_("Identification coverage"))
        audit_record(
            actor=user,
            action="export.identification_coverage",
            request=request,
            data={"rows": n, "run": run.pk, "filters": lp.query()},
        )

    return _download(write, f"identification-coverage-{run.as_of}.xlsx")


@login_required
@require_safe
def coverage(request: HttpRequest) -> HttpResponseBase:
    """Show identification coverage per village, township and in total (latest run).

    The villages are filtered (township, search), paged and totalled; ``?export=xlsx``
    downloads the villages the filters keep.
    """
    _require(request, P.VIEW)
    user = request.user
    run = selectors.latest_run(user=user)
    lp = ListParams.read(request.GET)
    if run is None:
        if request.GET.get(EXPORT_PARAM) == EXPORT_XLSX:
            messages.warning(request, _("There is no confirmed identification run yet."))
            return redirect("identification:coverage")
        return _page(
            request,
            "identification/coverage.html",
            {"title": _("Identification coverage"), "active": "coverage", "run": None},
        )
    # Figures of a run, cached per scope and change of the data (jingzhun.core.cache).
    cov = cached(
        "identification.coverage",
        user=user,
        parts=(run.pk,),
        compute=lambda: selectors.coverage(user=user, run=run),
    )
    if request.GET.get(EXPORT_PARAM) == EXPORT_XLSX:
        return _coverage_export(request, run, cov, lp)
    townships, villages = _coverage_lists(cov, lp)
    page = paginate(request.GET, villages)
    return _page(
        request,
        "identification/coverage.html",
        {
            "title": _("Identification coverage"),
            "active": "coverage",
            "run": run,
            "coverage": cov,
            "townships": townships,
            "villages": page,
            "village_total": _coverage_sum(
                villages, _("Total of the rows filtered") if lp.active else _("Total")
            ),
            "lp": lp,
            "choices": ListChoices(townships=_township_choices(cov)),
            "total": page.paginator.count,
            "list_query": lp.query(),
            "export_query": lp.query(**{EXPORT_PARAM: EXPORT_XLSX}),
        },
    )
