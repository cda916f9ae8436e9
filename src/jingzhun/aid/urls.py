"""Routes of the student aid pages (mounted at /aid/)."""

from __future__ import annotations

from django.urls import path

from jingzhun.aid.views import batches, coverage, notices, overview, review

app_name = "aid"
urlpatterns = [
    path("", overview.overview, name="overview"),
    path("progress/", overview.compute_progress, name="progress"),
    path("rulebook/", overview.rulebook, name="rulebook"),
    path("rulebook/edit/", overview.rulebook_edit, name="rulebook-edit"),
    path("entitlements/", review.entitlements, name="entitlements"),
    path("entitlements.xlsx", review.entitlements_download, name="entitlements-xlsx"),
    path("students/<int:student_id>/", review.student, name="student"),
    path("review/", review.review, name="review"),
    path("notices/", notices.notices, name="notices"),
    path("notices/<int:notice_id>/", notices.notice_detail, name="notice"),
    path(
        "notices/<int:notice_id>/notice.pdf",
        notices.notice_download,
        {"fmt": "pdf"},
        name="notice-pdf",
    ),
    path(
        "notices/<int:notice_id>/notice.xlsx",
        notices.notice_download,
        {"fmt": "xlsx"},
        name="notice-xlsx",
    ),
    path("batches/", batches.batches, name="batches"),
    path("batches/<int:payment_batch_id>/", batches.batch_detail, name="batch"),
    path(
        "batches/<int:payment_batch_id>/payments.xlsx",
        batches.batch_download,
        name="batch-xlsx",
    ),
    path(
        "batches/<int:payment_batch_id>/bank.xlsx",
        batches.bank_file,
        {"fmt": "xlsx"},
        name="bank-xlsx",
    ),
    path(
        "batches/<int:payment_batch_id>/bank.csv",
        batches.bank_file,
        {"fmt": "csv"},
        name="bank-csv",
    ),
    path("allocations/", batches.allocations, name="allocations"),
    path("loans/", batches.loans, name="loans"),
    path("adjustments/", coverage.adjustments, name="adjustments"),
    path("coverage/", coverage.coverage, name="coverage"),
    path("coverage.xlsx", coverage.coverage_download, name="coverage-xlsx"),
]
