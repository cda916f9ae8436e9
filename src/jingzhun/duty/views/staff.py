"""The staff directory: people the chain names, with or without a login.

Phones are shown whole only to those who name people along the chain (they must call them);
everyone else sees them masked (138****1234). Phones never go into a URL.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.accounts.models import StaffMember, User
from jingzhun.accounts.services import staff_link_user, staff_save
from jingzhun.core import permissions as P
from jingzhun.core.listing import ListParams, paginate
from jingzhun.core.scoping import get_object_for_user, scope_queryset
from jingzhun.duty import documents, selectors, selectors_ui
from jingzhun.duty.forms import LinkUserForm, StaffForm
from jingzhun.duty.views.chain import CN_STAFF_POSTS
from jingzhun.duty.views.common import XLSX, _download, _errors, _forbidden, _page, duty_view
from jingzhun.registry.models import Area
from jingzhun.schools.models import School, SchoolClass
from jingzhun.schools.naming import class_of, class_of_zh
from jingzhun.schools.selectors import list_choices

STAFF_HEADERS = (
    "序号",
    "姓名",
    "性别",
    "岗位",
    "学校",
    "班级",
    "乡镇",
    "行政村",
    "手机号码",
    "有无账号",
    "状态",
)


def may_see_phone(user: Any) -> bool:
    return P.user_can(user, P.DUTY_ASSIGN)


def staff_params(request: HttpRequest) -> ListParams:
    return ListParams.read(request.GET, statuses=StaffMember.Post.values)


def filtered_staff(user: Any, lp: ListParams) -> QuerySet[StaffMember]:
    rows = selectors_ui.staff_list(user=user)
    return lp.apply(
        rows,
        township="area_code",
        school="school_id",
        klass="school_class_id",
        status="post",
        names=("name",),
    ).order_by("area_code", "school__name", "name", "pk")


@duty_view("GET")
def staff_list(request: HttpRequest) -> HttpResponse:
    """List the directory the user may see, filtered and paged."""
    user: Any = request.user
    lp = staff_params(request)
    page = paginate(request.GET, filtered_staff(user, lp))
    whole = may_see_phone(user)
    return _page(
        request,
        "duty/staff_list.html",
        {
            "title": _("Staff directory"),
            "active": "staff",
            "lp": lp,
            "choices": list_choices(
                user=user,
                params=lp,
                statuses=[(k, str(label)) for k, label in StaffMember.Post.choices],
            ),
            "total": page.paginator.count,
            "rows": page,
            "lines": [
                {
                    "s": s,
                    "phone": s.phone if whole else s.phone_masked,
                    "class": class_of(s.school_class),
                }
                for s in page.object_list
            ],
            "may_edit": selectors.may_assign(user),
        },
    )


@duty_view("GET")
def staff_export(request: HttpRequest) -> HttpResponse:
    """Download the directory as filtered on the page (.xlsx); phones as the page shows them."""
    user: Any = request.user
    lp = staff_params(request)
    whole = may_see_phone(user)
    rows = [
        [
            n,
            s.name,
            {"M": "男", "F": "女"}.get(s.sex, ""),
            CN_STAFF_POSTS.get(s.post, ""),
            s.school.name if s.school else "",
            class_of_zh(s.school_class),
            s.township.name if s.township else "",
            s.village.name if s.village else "",
            s.phone if whole else s.phone_masked,
            "有" if s.user_id else "无",
            "在岗" if s.active else "停用",
        ]
        for n, s in enumerate(filtered_staff(user, lp).iterator(chunk_size=1000), start=1)
    ]
    content = documents.workbook([documents.Sheet("人员名录", STAFF_HEADERS, rows)])
    return _download(content, f"staff-{timezone.localdate().isoformat()}.xlsx", XLSX)


def _form_choices(user: Any) -> dict[str, Any]:
    return {
        "schools": selectors_ui.contact_schools(user=user),
        "townships": list(
            scope_queryset(Area.objects.filter(level=Area.Level.TOWNSHIP), user)
            .order_by("code")
            .values_list("pk", "name")
        ),
    }


def _resolve(user: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Turn the form's ids into objects the user may see (404 otherwise)."""
    values: dict[str, Any] = {k: data[k] for k in ("name", "sex", "phone", "post")}
    school_id = data.get("school")
    values["school"] = (
        get_object_for_user(School.objects.all(), user, pk=school_id) if school_id else None
    )
    class_id = data.get("school_class")
    values["school_class"] = (
        get_object_for_user(SchoolClass.objects.select_related("school"), user, pk=class_id)
        if class_id
        else None
    )
    township_id = data.get("township")
    values["township"] = (
        Area.objects.filter(pk=township_id, level=Area.Level.TOWNSHIP).first()
        if township_id
        else None
    )
    village_id = data.get("village")
    values["village"] = (
        Area.objects.filter(pk=village_id, level=Area.Level.VILLAGE).first() if village_id else None
    )
    return values


@duty_view("GET", "POST")
def staff_edit(request: HttpRequest, staff_id: int | None = None) -> HttpResponse:
    """Add a person to the directory, or change one; give them a login."""
    user: Any = request.user
    if not selectors.may_assign(user):
        return _forbidden(request, P.DUTY_ASSIGN)
    staff = selectors_ui.get_staff(user=user, staff_id=staff_id) if staff_id else None
    initial: dict[str, Any] = {}
    if staff is not None:
        initial = {
            "name": staff.name,
            "sex": staff.sex,
            "phone": staff.phone,
            "post": staff.post,
            "school": staff.school_id,
            "school_class": staff.school_class_id,
            "township": staff.township_id,
            "village": staff.village_id,
            "active": staff.active,
        }
    form = StaffForm(
        request.POST if request.method == "POST" and "name" in request.POST else None,
        initial=initial,
        **_form_choices(user),
    )
    link_form = LinkUserForm()
    if request.method == "POST":
        try:
            if "username" in request.POST and staff is not None:
                link_form = LinkUserForm(request.POST)
                if link_form.is_valid():
                    login = (
                        scope_queryset(User.objects.all(), user)
                        .filter(username=link_form.cleaned_data["username"])
                        .first()
                    )
                    if login is None:
                        raise Http404
                    staff_link_user(actor=user, staff_id=staff.pk, user_id=login.pk)
                    messages.success(request, _("The person can now log in."))
                    return redirect("duty:staff-edit", staff_id=staff.pk)
            elif form.is_valid():
                data = form.cleaned_data
                saved = staff_save(
                    actor=user,
                    staff_id=staff.pk if staff else None,
                    active=bool(data["active"]),
                    **_resolve(user, data),
                )
                messages.success(request, _("The staff directory is updated."))
                return redirect("duty:staff-edit", staff_id=saved.pk)
        except PermissionDenied:
            return _forbidden(request, P.MANAGE_USERS)
        except ValidationError as exc:
            _errors(request, exc)
    return _page(
        request,
        "duty/staff_form.html",
        {
            "title": staff.name if staff else _("Add a person"),
            "active": "staff",
            "staff": staff,
            "form": form,
            "link_form": link_form,
            "may_link": staff is not None and staff.user_id is None and user.can(P.MANAGE_USERS),
            "class_label": (
                f"{staff.school_class.school.name} {class_of(staff.school_class)}"
                if staff and staff.school_class
                else ""
            ),
            "village_label": staff.village.name if staff and staff.village else "",
            "assignments": (
                selectors.assignment_list(user=user).filter(holder=staff) if staff else []
            ),
        },
    )
