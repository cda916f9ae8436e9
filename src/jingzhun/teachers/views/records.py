"""Training (II.3.2) and exchanges (II.3.3): the year's figures per school, the records as a
filtered, paged and exportable list, and a form to record one through the services."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.core import permissions as P
from jingzhun.core import xlsx
from jingzhun.core.downloads import attachment as download
from jingzhun.core.errors import forbidden
from jingzhun.core.listing import ListParams, paginate
from jingzhun.core.scoping import scope_of
from jingzhun.schools.selectors import list_choices
from jingzhun.teachers import selectors, services
from jingzhun.teachers.forms import ExchangeForm, TrainingForm
from jingzhun.teachers.models import Exchange, Training
from jingzhun.teachers.selectors import roll_up
from jingzhun.teachers.views.common import (
    XLSX,
    calendar_year_of,
    may_record,
    page,
    percent,
    teachers_view,
)
from jingzhun.teachers.views.figures import filter_rows

CN_LEVELS = {"national": "国家级", "provincial": "省级", "municipal": "市级", "county": "县级"}
TRAINING_HEADERS = (
    "序号",
    "姓名",
    "乡镇",
    "学校",
    "培训项目",
    "级别",
    "开始日期",
    "结束日期",
    "学时",
)
TRAINING_SUM_HEADERS = (
    "乡镇",
    "学校",
    "培训人次",
    "在岗教师",
    "参训教师",
    "参训比例",
    "贫困村学校",
    "贫困村学校教师",
    "贫困村学校参训教师",
)
EXCHANGE_HEADERS = ("序号", "姓名", "派出学校", "接收学校", "开始日期", "结束日期", "状态")
SHARE_HEADERS = ("乡镇", "学校", "本校在岗教师", "交流到校教师", "交流教师占比", "达到10%")
EXCHANGE_SHOW = ("running", "ended")


def _date(day: Any) -> str:
    return day.isoformat() if day else ""


# --------------------------------------------------------------------------- training (II.3.2)


def _training_params(request: HttpRequest) -> tuple[int, ListParams]:
    year = calendar_year_of(request.GET, timezone.localdate().year)
    lp = ListParams.read(request.GET, statuses=Training.Level.values, extra=("year",))
    return year, lp


def filtered_trainings(user: Any, year: int, lp: ListParams) -> QuerySet[Training]:
    """Return the trainings starting in `year` the user may see, as the filters narrow them."""
    rows = lp.apply(
        selectors.training_list(user=user).filter(started_on__year=year),
        township="teacher__school__township__code",
        school="teacher__school_id",
        status="level",
        names=("teacher__name", "programme"),
    )
    return rows.select_related("teacher__school__township").order_by(
        "-started_on", "teacher__name", "pk"
    )


@teachers_view("GET", "HEAD")
def training(request: HttpRequest) -> HttpResponse:
    """Show the year's person-times against the plan's target, per school and township, and
    the trainings of the year (filtered, paged)."""
    user: Any = request.user
    year, lp = _training_params(request)
    summary = selectors.training_summary(user=user, year=year)
    rows = filter_rows(summary.rows, lp)
    totals = roll_up(rows, by="county")
    total = totals[0] if totals else None
    listed = paginate(request.GET, filtered_trainings(user, year, lp))
    return page(
        request,
        "teachers/training.html",
        {
            "title": _("Training"),
            "active": "training",
            "year": year,
            "summary": summary,
            "county_total": summary.total,
            "lp": lp,
            "filtered": lp.active,
            "choices": list_choices(
                user=user,
                params=lp,
                statuses=[(k, str(v)) for k, v in Training.Level.choices],
            ),
            "schools": paginate(request.GET, rows, param="spage"),
            "townships": roll_up(rows) if scope_of(user).level != "school" else [],
            "total": total,
            "trained_share": percent(total.trained_share if total else None),
            "poor_share": percent(total.poor_village_trained_share if total else None),
            "trainings": listed,
            "listed_total": listed.paginator.count,
            "may_record": may_record(user),
        },
    )


@teachers_view("GET", "HEAD")
def training_export(request: HttpRequest) -> HttpResponse:
    """Download the year's trainings as filtered on the page, and the figures per school."""
    user: Any = request.user
    year, lp = _training_params(request)
    trainings = [
        [
            n,
            t.teacher.name,
            t.teacher.school.township.name if t.teacher.school.township else "",
            t.teacher.school.name,
            t.programme,
            CN_LEVELS.get(t.level, ""),
            _date(t.started_on),
            _date(t.ended_on),
            t.hours,
        ]
        for n, t in enumerate(filtered_trainings(user, year, lp).iterator(chunk_size=1000), 1)
    ]
    summary = selectors.training_summary(user=user, year=year)
    rows = filter_rows(summary.rows, lp)

    def line(r: selectors.TrainingRow, township: str, school: str) -> list[Any]:
        share = r.trained_share
        return [
            township,
            school,
            r.person_times,
            r.teachers,
            r.trained_teachers,
            "" if share is None else round(share, 4),
            r.poor_village_schools,
            r.poor_village_teachers,
            r.poor_village_trained,
        ]

    target = f"目标{summary.target}人次" if summary.target is not None else "本年度无计划目标"
    sheets = [
        xlsx.Sheet(f"{year}年教师培训名单", TRAINING_HEADERS, trainings),
        xlsx.Sheet(
            f"{year}年培训人次（{target}）",
            TRAINING_SUM_HEADERS,
            [line(r, r.township_name, r.school_name) for r in rows]
            + [line(r, r.township_name, f"{r.schools}所") for r in roll_up(rows)]
            + [line(r, "合计", f"{r.schools}所") for r in roll_up(rows, by="county")],
        ),
    ]
    return download(xlsx.workbook(sheets), f"teacher-training-{year}.xlsx", XLSX)


def _school_of_form(request: HttpRequest, *, data: Any) -> int | None:
    """Return the school whose teachers the form offers: the principal's, else the one chosen."""
    scope = scope_of(request.user)
    if scope.level == "school":
        return scope.school_id
    text = str(data.get("school", ""))
    if not (text.isdigit() and len(text) < 12):
        return None
    return selectors.get_school(user=request.user, school_id=int(text)).pk


def _teacher_choices(request: HttpRequest, school_id: int | None) -> list[tuple[int, str]]:
    if school_id is None:
        return []
    return [
        (t.pk, f"{t.name} {t.id_masked}")
        for t in selectors.teachers_in_post(user=request.user, school_id=school_id)
    ]


@teachers_view("GET", "POST")
def training_new(request: HttpRequest) -> HttpResponse:
    """Record one teacher's attendance of a training (one person-time) through the service."""
    user: Any = request.user
    if not may_record(user):
        return forbidden(request, P.EDIT_SCHOOLS)
    data = request.POST if request.method == "POST" else request.GET
    school_id = _school_of_form(request, data=data)
    form = TrainingForm(
        request.POST if request.method == "POST" else None,
        teachers=_teacher_choices(request, school_id),
        initial={"teacher": request.GET.get("teacher", "")},
    )
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        teacher = selectors.get_teacher(user=user, teacher_id=values["teacher"])
        try:
            saved = services.training_create(
                actor=user,
                teacher=teacher,
                programme=values["programme"],
                level=values["level"],
                started_on=values["started_on"],
                ended_on=values["ended_on"],
                hours=values["hours"] or 0,
            )
        except PermissionDenied:
            return forbidden(request, P.EDIT_SCHOOLS)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request,
                _("The training of %(name)s is recorded.") % {"name": teacher.name},
            )
            return redirect(f"{reverse('teachers:training')}?year={saved.started_on.year}")
    return page(
        request,
        "teachers/record_form.html",
        {
            "title": _("Record a training"),
            "active": "training",
            "form": form,
            "school_id": school_id,
            "schools": (
                selectors.school_choices(user=user) if scope_of(user).level != "school" else []
            ),
            "back": reverse("teachers:training"),
            "form_id": "jz-training-form",
        },
    )


def _form_errors(form: Any, exc: ValidationError) -> None:
    """Show a service's refusal on the form: by field where it names one of the form's."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# --------------------------------------------------------------------------- exchanges (II.3.3)


def _exchange_params(request: HttpRequest) -> ListParams:
    return ListParams.read(request.GET, statuses=EXCHANGE_SHOW)


def filtered_exchanges(user: Any, lp: ListParams) -> QuerySet[Exchange]:
    """Return the exchanges the user may see (from or to their schools), as filtered."""
    rows = selectors.exchange_list(user=user)
    if lp.township:
        rows = rows.filter(
            Q(to_school__township__code__startswith=lp.township)
            | Q(from_school__township__code__startswith=lp.township)
        )
    if lp.school_id:
        rows = rows.filter(Q(to_school_id=lp.school_id) | Q(from_school_id=lp.school_id))
    today = timezone.localdate()
    if lp.status == "running":
        rows = rows.filter(Exchange.at_q(today))
    elif lp.status == "ended":
        rows = rows.filter(ended_on__lt=today)
    rows = lp.apply(rows, names=("teacher__name",))
    return rows.select_related("teacher", "from_school", "to_school").order_by(
        "-started_on", "teacher__name", "pk"
    )


def _exchange_status(x: Exchange) -> str:
    today = timezone.localdate()
    if x.started_on > today:
        return "planned"
    if x.ended_on is not None and x.ended_on < today:
        return "ended"
    return "running"


@teachers_view("GET", "HEAD")
def exchanges(request: HttpRequest) -> HttpResponse:
    """Show each poor-village school's share of exchanged teachers against the target, and
    the exchanges (filtered, paged)."""
    user: Any = request.user
    lp = _exchange_params(request)
    rows = filter_rows(selectors.exchange_shares(user=user), lp)
    totals = roll_up(rows, by="county")
    listed = paginate(request.GET, filtered_exchanges(user, lp))
    status_labels = {
        "planned": _("Not started"),
        "running": _("Running"),
        "ended": _("Ended"),
    }
    return page(
        request,
        "teachers/exchanges.html",
        {
            "title": _("Exchanges"),
            "active": "exchanges",
            "lp": lp,
            "choices": list_choices(
                user=user,
                params=lp,
                statuses=[("running", _("Running")), ("ended", _("Ended"))],
            ),
            "target": settings.TEACHER_EXCHANGE_MIN_PERCENT,
            "schools": paginate(request.GET, rows, param="spage"),
            "townships": roll_up(rows) if scope_of(user).level != "school" else [],
            "total": totals[0] if totals else None,
            "exchanges": listed,
            "exchange_lines": [
                {"x": x, "status": status_labels[_exchange_status(x)]} for x in listed.object_list
            ],
            "listed_total": listed.paginator.count,
            "may_record": may_record(user),
        },
    )


@teachers_view("GET", "HEAD")
def exchanges_export(request: HttpRequest) -> HttpResponse:
    """Download the exchanges as filtered on the page, and the shares per school."""
    user: Any = request.user
    lp = _exchange_params(request)
    cn_status = {"planned": "未开始", "running": "交流中", "ended": "已结束"}
    listed = [
        [
            n,
            x.teacher.name,
            x.from_school.name,
            x.to_school.name,
            _date(x.started_on),
            _date(x.ended_on),
            cn_status[_exchange_status(x)],
        ]
        for n, x in enumerate(filtered_exchanges(user, lp).iterator(chunk_size=1000), 1)
    ]
    rows = filter_rows(selectors.exchange_shares(user=user), lp)

    def line(r: selectors.ExchangeRow, township: str, school: str, met: str) -> list[Any]:
        share = r.share
        return [
            township,
            school,
            r.teachers,
            r.exchanged_in,
            "" if share is None else round(share, 4),
            met,
        ]

    sheets = [
        xlsx.Sheet("教师交流名单", EXCHANGE_HEADERS, listed),
        xlsx.Sheet(
            "贫困村学校交流教师占比",
            SHARE_HEADERS,
            [
                line(r, r.township_name, r.school_name, "是" if r.meeting_target else "否")
                for r in rows
            ]
            + [
                line(r, r.township_name, f"{r.schools}所", f"{r.meeting_target}所达到")
                for r in roll_up(rows)
            ]
            + [
                line(r, "合计", f"{r.schools}所", f"{r.meeting_target}所达到")
                for r in roll_up(rows, by="county")
            ],
        ),
    ]
    day = timezone.localdate().isoformat()
    return download(xlsx.workbook(sheets), f"teacher-exchanges-{day}.xlsx", XLSX)


@teachers_view("GET", "POST")
def exchange_new(request: HttpRequest) -> HttpResponse:
    """Record a teacher sent to teach at a poor-village school, through the service."""
    user: Any = request.user
    if not may_record(user):
        return forbidden(request, P.EDIT_SCHOOLS)
    data = request.POST if request.method == "POST" else request.GET
    school_id = _school_of_form(request, data=data)
    form = ExchangeForm(
        request.POST if request.method == "POST" else None,
        teachers=_teacher_choices(request, school_id),
        schools=selectors.school_choices(user=user, poor_village=True),
        initial={"teacher": request.GET.get("teacher", "")},
    )
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        teacher = selectors.get_teacher(user=user, teacher_id=values["teacher"])
        to_school = selectors.get_school(
            user=user, school_id=values["to_school"], poor_village=True
        )
        try:
            services.exchange_create(
                actor=user,
                teacher=teacher,
                to_school=to_school,
                started_on=values["started_on"],
                ended_on=values["ended_on"],
            )
        except PermissionDenied:
            return forbidden(request, P.EDIT_SCHOOLS)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request,
                _("The exchange of %(name)s to %(school)s is recorded.")
                % {"name": teacher.name, "school": to_school.name},
            )
            return redirect("teachers:exchanges")
    return page(
        request,
        "teachers/record_form.html",
        {
            "title": _("Record an exchange"),
            "active": "exchanges",
            "form": form,
            "school_id": school_id,
            "schools": (
                selectors.school_choices(user=user) if scope_of(user).level != "school" else []
            ),
            "back": reverse("teachers:exchanges"),
            "form_id": "jz-exchange-form",
        },
    )
