"""The operational map: the county's villages coloured by a measure, a village's page, and the
import of the county's boundaries and school points (preview, then confirm)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from jingzhun.core import permissions as P
from jingzhun.core.errors import forbidden
from jingzhun.core.pages import date_asked
from jingzhun.core.scoping import scope_of
from jingzhun.core.uploads import UploadField
from jingzhun.dashboard import geo, mapdraw
from jingzhun.dashboard.common import page

SESSION_KEY = "jz_map_upload"


def _may_view(user: Any) -> bool:
    return bool(user.can(P.VIEW)) and not scope_of(user).is_empty


@never_cache
@login_required
@require_http_methods(["GET"])
def map_page(request: HttpRequest) -> HttpResponse:
    """The county's map, its villages coloured by the measure asked (?colour=...)."""
    user: Any = request.user
    if not _may_view(user):
        return forbidden(request, P.VIEW)
    measure = request.GET.get("colour", "poor")
    if measure not in mapdraw.MEASURES:
        measure = "poor"
    on = date_asked(request.GET)
    villages = mapdraw.visible_villages(user)
    mapdraw.fill_figures(user, villages, on=on)
    drawing = mapdraw.draw(user, villages, measure=measure)
    scope = scope_of(user)
    return page(
        request,
        "dashboard/map/map.html",
        {
            "title": _("Map"),
            "active": "map",
            "measure": measure,
            "measures": mapdraw.measure_labels(),
            "drawing": drawing,
            "villages": len(villages),
            "on": on,
            "may_import": user.can(P.IMPORT_DATA) and scope.level == "county",
        },
    )


@never_cache
@login_required
@require_http_methods(["GET"])
def village_page(request: HttpRequest, village_code: str) -> HttpResponse:
    """One village's figures, as far as the user may see them (404 outside their jurisdiction)."""
    user: Any = request.user
    if not _may_view(user):
        return forbidden(request, P.VIEW)
    if not village_code.isdigit() or len(village_code) != 12:
        raise Http404
    on = date_asked(request.GET)
    data = mapdraw.village_page(user, village_code, on=on)
    if data is None:
        raise Http404
    return page(
        request,
        "dashboard/map/village.html",
        {
            "title": data.village.name,
            "active": "map",
            "v": data,
            "on": on,
            "duty_ledger": reverse("duty:ledger") + f"?township={data.township_code}",
            "school_age_ledger": reverse("identification:ledger-school-age")
            + f"?township={data.township_code}",
            "may_see_cases": user.can(P.VIEW),
        },
    )


class MapUploadForm(forms.Form):
    file = UploadField(label=gettext_lazy("Map file (.geojson, or a .zip of a shapefile)"))


def _staging_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "map-staging"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _staged(request: HttpRequest) -> dict[str, str] | None:
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict) or not str(data.get("token", "")).isalnum():
        return None
    return {k: str(v) for k, v in data.items()}


def _drop_staged(request: HttpRequest) -> None:
    data = _staged(request)
    if data:
        (_staging_dir() / f"{data['token']}.bin").unlink(missing_ok=True)
    request.session.pop(SESSION_KEY, None)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def map_import(request: HttpRequest) -> HttpResponse:
    """Upload the county's map, see what it would change, then confirm (replace all features)."""
    user: Any = request.user
    scope = scope_of(user)
    if not user.can(P.IMPORT_DATA) or scope.level != "county" or not scope.county_code:
        return forbidden(request, P.IMPORT_DATA)
    county = scope.county_code
    form = MapUploadForm()
    plan: geo.MapPlan | None = None
    file_error = ""
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action == "cancel":
        _drop_staged(request)
        return redirect("centre:map-import")
    if action == "confirm":
        staged = _staged(request)
        if staged is None or staged.get("token") != request.POST.get("token", ""):
            messages.error(request, _("The preview has expired: upload the file again."))
            return redirect("centre:map-import")
        path = _staging_dir() / f"{staged['token']}.bin"
        try:
            raw = geo.read_map_file(path.read_bytes(), staged["name"])
            plan = geo.plan_import(raw, county_code=county, source=staged["name"])
            if plan.ok:
                n = geo.apply_import(plan, actor=user, request=request)
                _drop_staged(request)
                messages.success(request, _("The map is imported: %(n)d features.") % {"n": n})
                return redirect("centre:map")
        except (OSError, geo.MapFileError) as exc:
            file_error = str(exc)
        _drop_staged(request)
    elif action == "preview":
        form = MapUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            name = Path(str(upload.name)).name[:150]
            data = upload.read()
            try:
                raw = geo.read_map_file(data, name)
                plan = geo.plan_import(raw, county_code=county, source=name)
            except geo.MapFileError as exc:
                file_error = str(exc)
            if plan is not None and plan.ok:
                _drop_staged(request)
                token = secrets.token_hex(16)
                (_staging_dir() / f"{token}.bin").write_bytes(data)
                request.session[SESSION_KEY] = {"token": token, "name": name}
    staged = _staged(request)
    kinds = dict(geo.MapFeature.Kind.choices)
    return page(
        request,
        "dashboard/map/import.html",
        {
            "title": _("Import the county's map"),
            "active": "map",
            "form": form,
            "plan": plan,
            "counts": [(str(kinds[k]), plan.counts.get(k, 0)) for k in kinds] if plan else [],
            "missing": [(str(kinds.get(k, k)), c, n) for k, c, n in plan.missing[:100]]
            if plan
            else [],
            "missing_more": max(0, len(plan.missing) - 100) if plan else 0,
            "file_error": file_error,
            "token": staged["token"] if (plan is not None and plan.ok and staged) else "",
        },
    )
