"""Routes of the student aid pages (mounted at /aid/)."""

from __future__ import annotations

from django.urls import path

from jingzhun.aid import views as v

app_name = "aid"
urlpatterns = [
    path("", v.overview, name="overview"),
    path("progress/", v.compute_progress, name="progress"),
    path("rulebook/", v.rulebook, name="rulebook"),
    path("rulebook/edit/", v.rulebook_edit, name="rulebook-edit"),
    path("entitlements/", v.entitlements, name="entitlements"),
    path("students/<int:student_id>/", v.student, name="student"),
    path("review/", v.review, name="review"),
    path("notices/", v.notices, name="notices"),
    path("notices/<int:notice_id>/", v.notice_detail, name="notice"),
    path(
        "notices/<int:notice_id>/notice.pdf", v.notice_download, {"fmt": "pdf"}, name="notice-pdf"
    ),
    path(
        "notices/<int:notice_id>/notice.xlsx",
        v.notice_download,
        {"fmt": "xlsx"},
        name="notice-xlsx",
    ),
    path("batches/", v.batches, name="batches"),
    path("batches/<int:payment_batch_id>/", v.batch_detail, name="batch"),
    path(
        "batches/<int:payment_batch_id>/bank.xlsx",
        v.bank_file,
        {"fmt": "xlsx"},
        name="bank-xlsx",
    ),
    path("batches/<int:payment_batch_id>/bank.csv", v.bank_file, {"fmt": "csv"}, name="bank-csv"),
    path("allocations/", v.allocations, name="allocations"),
    path("loans/", v.loans, name="loans"),
    path("adjustments/", v.adjustments, name="adjustments"),
    path("coverage/", v.coverage, name="coverage"),
    path("coverage.xlsx", v.coverage_download, name="coverage-xlsx"),
]
