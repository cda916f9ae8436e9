"""The policy what-if pages: drafts of the aid rule book and their comparison with the current one.

County users read; the aid centre (P.AID_MANAGE at county level) makes, edits and deletes
drafts. Every write is previewed, then confirmed, and audited; only RuleDraft is written.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from jingzhun.aid.rulebook import RuleBookError
from jingzhun.core import permissions as P
from jingzhun.core.downloads import attachment
from jingzhun.core.errors import forbidden
from jingzhun.core.listing import paginate
from jingzhun.core.scoping import get_object_for_user, scope_of
from jingzhun.core.working_year import school_year_asked
from jingzhun.core.xlsx import Sheet, workbook
from jingzhun.dashboard import whatif
from jingzhun.dashboard.common import page
from jingzhun.dashboard.models import RuleDraft

ACTIVE = "what-if"


def _draft(request: HttpRequest, draft_id: int) -> RuleDraft:
    return get_object_for_user(RuleDraft.objects.all(), request.user, pk=draft_id)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def what_if(request: HttpRequest) -> HttpResponse:
    """List the county's drafts; the aid centre makes a new one (a copy of the current book)."""
    user: Any = request.user
    if not whatif.may_read(user):
        return forbidden(request, P.VIEW)
    data = request.POST if request.method == "POST" else request.GET
    year = school_year_asked(data, user)
    source, based_on = whatif.current_source(user=user, school_year=year)
    name = str(data.get("name", "")).strip()[:100] or whatif.default_name(
        year, timezone.localdate()
    )
    preview = False
    if request.method == "POST":
        if not whatif.may_edit(user):
            return forbidden(request, P.AID_MANAGE)
        if request.POST.get("confirm") == "1":
            try:
                draft = whatif.draft_create(
                    actor=user, school_year=year, name=name, request=request
                )
            except PermissionDenied:
                return forbidden(request, P.AID_MANAGE)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("Draft made: %(name)s.") % {"name": draft.name})
                return redirect("centre:what-if-draft", draft_id=draft.pk)
        else:
            preview = True
    drafts = whatif.draft_list(user=user).select_related("created_by")
    return page(
        request,
        "dashboard/whatif/list.html",
        {
            "title": _("Policy what-if"),
            "active": ACTIVE,
            "year": year,
            "based_on": based_on,
            "has_book": bool(source),
            "name": name,
            "preview": preview,
            "may_edit": whatif.may_edit(user),
            "drafts": paginate(request.GET, drafts),
        },
    )


def _posted_amounts(request: HttpRequest, draft: RuleDraft) -> tuple[dict[str, Decimal], list[str]]:
    """Return the amounts the amount form gives, and an error per amount that is not one."""
    amounts: dict[str, Decimal] = {}
    problems = []
    for rule in whatif.rule_amounts(draft.text):
        raw = str(request.POST.get(f"amount:{rule['id']}", "")).strip()
        if not raw or raw == rule["amount"]:
            continue
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = Decimal("-1")
        if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
            problems.append(
                _("Rule %(id)s, amount: %(value)s is not an amount of yuan (e.g. 1250.00).")
                % {"id": rule["id"], "value": raw}
            )
            continue
        amounts[rule["id"]] = value
    return amounts, problems


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def what_if_draft(request: HttpRequest, draft_id: int) -> HttpResponse:
    """Edit a draft (its YAML or its amounts); saving checks it, previews the change, then saves."""
    user: Any = request.user
    if not whatif.may_read(user):
        return forbidden(request, P.VIEW)
    draft = _draft(request, draft_id)
    text, name = draft.text, draft.name
    problems: list[tuple[str, int, str]] = []
    form_errors: list[str] = []
    step = "edit"
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if request.method == "POST":
        if not whatif.may_edit(user):
            return forbidden(request, P.AID_MANAGE)
        name = str(request.POST.get("name", draft.name)).strip()[:100] or draft.name
        if action == "delete":
            step = "delete"
        elif action == "delete-confirm":
            try:
                whatif.draft_delete(actor=user, draft=draft, request=request)
            except PermissionDenied:
                return forbidden(request, P.AID_MANAGE)
            messages.success(request, _("Draft deleted: %(name)s.") % {"name": name})
            return redirect("centre:what-if")
        elif action in ("preview", "amounts", "save"):
            if action == "amounts":
                amounts, form_errors = _posted_amounts(request, draft)
                text = whatif.set_amounts(draft.text, amounts)
            else:
                text = str(request.POST.get("text", "")).replace("\r\n", "\n")
            if not form_errors:
                try:
                    whatif.check_draft(text, draft.school_year)
                except RuleBookError as exc:
                    problems = list(exc.errors)
            if problems or form_errors:
                step = "edit"
            elif action == "save" and request.POST.get("digest") == whatif.digest(text):
                try:
                    whatif.draft_save(
                        actor=user, draft=draft, text=text, name=name, request=request
                    )
                except PermissionDenied:
                    return forbidden(request, P.AID_MANAGE)
                except RuleBookError as exc:  # pragma: no cover - checked just above
                    problems = list(exc.errors)
                else:
                    messages.success(request, _("Draft saved: %(name)s.") % {"name": draft.name})
                    return redirect("centre:what-if-draft", draft_id=draft.pk)
            else:
                step = "preview"
    return page(
        request,
        "dashboard/whatif/draft.html",
        {
            "title": _("Draft rule book: %(name)s") % {"name": draft.name},
            "active": ACTIVE,
            "draft": draft,
            "name": name,
            "text": text,
            "digest": whatif.digest(text),
            "rules": whatif.rule_amounts(text),
            "changes": whatif.amount_changes(draft.text, text) if step == "preview" else [],
            "unchanged": step == "preview" and text == draft.text,
            "problems": problems,
            "form_errors": form_errors,
            "n_problems": len(problems) + len(form_errors),
            "step": step,
            "may_edit": whatif.may_edit(user),
        },
        status=400 if problems or form_errors else 200,
    )


def _comparison(request: HttpRequest, draft_id: int) -> tuple[RuleDraft, whatif.Comparison]:
    draft = _draft(request, draft_id)
    return draft, whatif.evaluate_draft(user=request.user, draft=draft)


@never_cache
@login_required
@require_http_methods(["GET"])
def what_if_result(request: HttpRequest, draft_id: int) -> HttpResponse:
    """Show the draft's comparison with the current book, side by side."""
    if not whatif.may_read(request.user):
        return forbidden(request, P.VIEW)
    draft, comparison = _comparison(request, draft_id)
    most = max([b.students_current for b in comparison.bands] + [1])
    return page(
        request,
        "dashboard/whatif/result.html",
        {
            "title": _("What-if: %(name)s") % {"name": draft.name},
            "active": ACTIVE,
            "draft": draft,
            "c": comparison,
            "transition_rows": [comparison.transition],
            "bands": [
                {"row": b, "loss": i < 3, "width": round(100 * b.students_current / most)}
                for i, b in enumerate(comparison.bands)
            ],
            "largest": [
                (_("Largest gains"), comparison.gains, "jz-gains"),
                (_("Largest losses"), comparison.losses, "jz-losses"),
            ],
            "may_edit": whatif.may_edit(request.user),
        },
    )


def _sheet(title: str, rows: list[whatif.Row], *, kind: bool = False) -> Sheet:
    headers = [
        _("Item"),
        *([_("Kind")] if kind else []),
        _("Students (current)"),
        _("Current book (yuan)"),
        _("Students (draft)"),
        _("Draft (yuan)"),
        _("Difference (yuan)"),
    ]
    return Sheet(
        title,
        headers,
        [
            [
                r.label,
                *([r.kind] if kind else []),
                r.students_current,
                str(r.current),
                r.students_draft,
                str(r.draft),
                str(r.difference),
            ]
            for r in rows
        ],
    )


@never_cache
@login_required
@require_http_methods(["GET"])
def what_if_xlsx(request: HttpRequest, draft_id: int) -> HttpResponse:
    """Download the comparison as a workbook: one sheet per table of the page."""
    if not whatif.may_read(request.user):
        return forbidden(request, P.VIEW)
    draft, c = _comparison(request, draft_id)
    if not c.ok:
        messages.error(request, _("The draft does not load; there is nothing to download."))
        return redirect("centre:what-if-result", draft_id=draft.pk)
    change_headers = [
        _("Student"),
        _("School"),
        _("Township"),
        _("Current book (yuan)"),
        _("Draft (yuan)"),
        _("Difference (yuan)"),
    ]
    sheets = [
        _sheet(_("By programme"), c.programmes, kind=True),
        _sheet(_("By stage"), c.stages),
        _sheet(_("By township"), c.townships),
        _sheet(_("By semester"), [*c.semesters, c.total, c.transition]),
        Sheet(
            _("Students who gain or lose"),
            [_("Change"), _("Students")],
            [
                [_("Gain"), c.gainers],
                [_("Lose"), c.losers],
                [_("Unchanged"), c.unchanged],
                *([b.label, b.students_current] for b in c.bands),
            ],
        ),
        Sheet(
            _("Largest changes"),
            change_headers,
            [
                [x.name, x.school, x.township, str(x.current), str(x.draft), str(x.difference)]
                for x in [*c.gains, *c.losses]
            ],
        ),
    ]
    scope = scope_of(request.user)
    filename = f"what-if-{scope.county_code}-{draft.school_year}-{draft.digest[:8]}.xlsx"
    return attachment(workbook(sheets), filename)
