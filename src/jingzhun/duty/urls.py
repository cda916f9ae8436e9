"""Routes of the duty pages (mounted at /duty/)."""

from __future__ import annotations

from django.urls import path

from jingzhun.duty.views import cases, chain, reports

app_name = "duty"
urlpatterns = [
    path("", cases.ledger, name="ledger"),
    path("ledger.xlsx", cases.ledger_export, name="ledger-xlsx"),
    path("open-cases/", cases.open_cases, name="open-cases"),
    path("cases/<int:case_id>/", cases.case_detail, name="case"),
    path("cases/<int:case_id>/return-notice.pdf", cases.return_notice, name="return-notice"),
    path("steps/<int:step_id>/evidence/", cases.step_evidence, name="step-evidence"),
    path("assignments/", chain.assignments, name="assignments"),
    path("assignments/letters.pdf", chain.assignment_letters, name="letters"),
    path("assignments/<int:assignment_id>/", chain.assignment_detail, name="assignment"),
    path("assignments/<int:assignment_id>/letter.pdf", chain.assignment_letter, name="letter"),
    path("coverage/", chain.coverage, name="coverage"),
    path("reports/monthly/", reports.report, {"kind": "monthly"}, name="report-monthly"),
    path(
        "reports/monthly.xlsx",
        reports.report_export,
        {"kind": "monthly"},
        name="report-monthly-xlsx",
    ),
    path("reports/quarterly/", reports.report, {"kind": "quarterly"}, name="report-quarterly"),
    path(
        "reports/quarterly.xlsx",
        reports.report_export,
        {"kind": "quarterly"},
        name="report-quarterly-xlsx",
    ),
]
