"""Routes of the duty pages (mounted at /duty/)."""

from __future__ import annotations

from django.urls import path

from jingzhun.duty import views as v

app_name = "duty"
urlpatterns = [
    path("", v.ledger, name="ledger"),
    path("ledger.xlsx", v.ledger_export, name="ledger-xlsx"),
    path("open-cases/", v.open_cases, name="open-cases"),
    path("cases/<int:case_id>/", v.case_detail, name="case"),
    path("cases/<int:case_id>/return-notice.pdf", v.return_notice, name="return-notice"),
    path("steps/<int:step_id>/evidence/", v.step_evidence, name="step-evidence"),
    path("assignments/", v.assignments, name="assignments"),
    path("assignments/letters.pdf", v.assignment_letters, name="letters"),
    path("assignments/<int:assignment_id>/", v.assignment_detail, name="assignment"),
    path("assignments/<int:assignment_id>/letter.pdf", v.assignment_letter, name="letter"),
    path("coverage/", v.coverage, name="coverage"),
    path("reports/monthly/", v.report, {"kind": "monthly"}, name="report-monthly"),
    path("reports/monthly.xlsx", v.report_export, {"kind": "monthly"}, name="report-monthly-xlsx"),
    path("reports/quarterly/", v.report, {"kind": "quarterly"}, name="report-quarterly"),
    path(
        "reports/quarterly.xlsx",
        v.report_export,
        {"kind": "quarterly"},
        name="report-quarterly-xlsx",
    ),
]
