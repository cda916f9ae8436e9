"""Routes of the duty pages (mounted at /duty/)."""

from __future__ import annotations

from django.urls import path

from jingzhun.duty.views import cases, chain, reports, staff

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
    path("assignments.xlsx", chain.assignments_export, name="assignments-xlsx"),
    path("assignments/bulk/", chain.assign_bulk, name="assign-bulk"),
    path("assignments/template.xlsx", chain.bulk_template, name="bulk-template"),
    path("assignments/upload/", chain.bulk_upload, name="bulk-upload"),
    path("chain/derive/", chain.chain_derive, name="chain-derive"),
    path("people/search/", chain.people_search, name="people-search"),
    path("targets/search/", chain.targets_search, name="targets-search"),
    path("staff/", staff.staff_list, name="staff"),
    path("staff.xlsx", staff.staff_export, name="staff-xlsx"),
    path("staff/new/", staff.staff_edit, name="staff-new"),
    path("staff/<int:staff_id>/", staff.staff_edit, name="staff-edit"),
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
