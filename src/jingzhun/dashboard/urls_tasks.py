"""Routes of the command centre's tasks pages (see urls_centre)."""

from __future__ import annotations

from django.urls import URLPattern, path

from jingzhun.dashboard import views_tasks as v

urlpatterns: list[URLPattern] = [
    path("wall-chart/", v.wall_chart, name="wall-chart"),
    path("wall-chart.xlsx", v.wall_chart_xlsx, name="wall-chart-xlsx"),
    path("wall-chart.pdf", v.wall_chart_pdf, name="wall-chart-pdf"),
    path("task-books/", v.task_books, name="task-books"),
    path("task-books/township/<str:township_code>.pdf", v.task_book_pdf, name="task-book-pdf"),
    path("task-books/school/<int:school_id>.pdf", v.task_book_pdf, name="task-book-pdf"),
    path(
        "task-books/township/<str:township_code>/sign/",
        v.task_book_sign,
        name="task-book-sign",
    ),
    path("task-books/school/<int:school_id>/sign/", v.task_book_sign, name="task-book-sign"),
]
