"""Routes of the school-condition pages (mounted at /projects/)."""

from __future__ import annotations

from django.urls import path

from jingzhun.projects.views import conditions, projects, quotas

app_name = "projects"
urlpatterns = [
    path("", projects.task_book, name="task-book"),
    path("list/", projects.project_list, name="list"),
    path("list.xlsx", projects.project_list_export, name="list-xlsx"),
    path("new/", projects.project_new, name="new"),
    path("<int:project_id>/", projects.project_detail, name="detail"),
    path("nodes/<int:node_id>/close/", projects.node_close, name="node-close"),
    path("nodes/<int:node_id>/evidence/", projects.node_evidence, name="node-evidence"),
    path("schools/", conditions.schools, name="schools"),
    path("schools/survey/", conditions.survey_new, name="survey-new"),
    path("coverage/", conditions.coverage, name="coverage"),
    path("coverage.xlsx", conditions.coverage_export, name="coverage-xlsx"),
    path("quotas/", quotas.quotas, name="quotas"),
    path("quotas.xlsx", quotas.quotas_export, name="quotas-xlsx"),
    path("quotas/schools/", quotas.quality_schools, name="quality-schools"),
]
