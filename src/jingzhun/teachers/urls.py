"""Routes of the teacher pages (mounted at /teachers/)."""

from __future__ import annotations

from django.urls import path

from jingzhun.teachers.views import allowance, figures, records, roster, roster_edit

app_name = "teachers"
urlpatterns = [
    path("", roster.roster, name="roster"),
    path("roster.xlsx", roster.roster_export, name="roster-xlsx"),
    path("new/", roster_edit.teacher_new, name="teacher-new"),
    path("leave/", roster_edit.teacher_leave, name="teacher-leave"),
    path("service/new/", roster_edit.service_new, name="service-new"),
    path("staffing/", figures.staffing, name="staffing"),
    path("staffing.xlsx", figures.staffing_export, name="staffing-xlsx"),
    path("training/", records.training, name="training"),
    path("training.xlsx", records.training_export, name="training-xlsx"),
    path("training/new/", records.training_new, name="training-new"),
    path("exchanges/", records.exchanges, name="exchanges"),
    path("exchanges.xlsx", records.exchanges_export, name="exchanges-xlsx"),
    path("exchanges/new/", records.exchange_new, name="exchange-new"),
    path("titles/", figures.titles, name="titles"),
    path("titles.xlsx", figures.titles_export, name="titles-xlsx"),
    path("titles/long-service.xlsx", figures.long_service_export, name="long-service-xlsx"),
    path("titles/long-service.pdf", figures.long_service_pdf, name="long-service-pdf"),
    path("coverage/", figures.coverage, name="coverage"),
    path("coverage.xlsx", figures.coverage_export, name="coverage-xlsx"),
    path("allowance/", allowance.allowance, name="allowance"),
    path("allowance.xlsx", allowance.allowance_export, name="allowance-xlsx"),
]
