"""Routes of the fund ledger pages (mounted at /funds/)."""

from __future__ import annotations

from django.urls import path

from jingzhun.funds import views, views_donations, views_projects

app_name = "funds"
urlpatterns = [
    path("", views.home, name="home"),
    path("balances.xlsx", views.balances_export, name="balances-xlsx"),
    path("journal/", views.journal, name="journal"),
    path("journal.xlsx", views.journal_export, name="journal-xlsx"),
    path("journal/<int:journal_entry_id>/", views.entry, name="entry"),
    path("trial-balance/", views.trial_balance, name="trial-balance"),
    path("trial-balance.xlsx", views.trial_balance_export, name="trial-balance-xlsx"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("reconciliation.xlsx", views.reconciliation_export, name="reconciliation-xlsx"),
    path("trace/", views.trace, name="trace"),
    path("overpayments/", views.overpayments, name="overpayments"),
    *views_donations.urlpatterns,
    *views_projects.urlpatterns,
]
