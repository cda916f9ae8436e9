"""Routes of the identification pages (mounted at /identification/)."""

from __future__ import annotations

from django.urls import path

from jingzhun.identification import selectors
from jingzhun.identification import views as v

app_name = "identification"
urlpatterns = [
    path("", v.runs, name="runs"),
    path("runs/export.xlsx", v.runs_export, name="runs-export"),
    path("runs/<int:run_id>/confirm/", v.run_confirm, name="run-confirm"),
    path("runs/<int:run_id>/discard/", v.run_discard, name="run-discard"),
    path("runs/<int:run_id>/changes.xlsx", v.run_changes_export, name="run-changes-export"),
    path("candidates/export.xlsx", v.candidates_export, name="candidates-export"),
    path("runs/progress/", v.run_progress, name="run-progress"),
    path("runs/<int:run_id>/", v.run_detail, name="run"),
    path("runs/<int:run_id>/export.xlsx", v.run_export, {"fmt": "xlsx"}, name="run-export"),
    path("runs/<int:run_id>/export.csv", v.run_export, {"fmt": "csv"}, name="run-export-csv"),
    path("candidates/", v.candidates, name="candidates"),
    path("candidates/<int:candidate_id>/", v.candidate_detail, name="candidate"),
    path("coverage/", v.coverage, name="coverage"),
]
# One route per ledger (no free-form parameter): /ledgers/school-age/, /suspected/, /dropped/.
for _slug in selectors.LEDGERS:
    urlpatterns += [
        path(f"ledgers/{_slug}/", v.ledger, {"slug": _slug}, name=f"ledger-{_slug}"),
        path(
            f"ledgers/{_slug}/export.xlsx",
            v.ledger_export,
            {"slug": _slug},
            name=f"ledger-{_slug}-export",
        ),
    ]
