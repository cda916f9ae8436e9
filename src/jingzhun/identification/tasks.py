"""Background jobs of identification (django-tasks)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django_tasks import task

from jingzhun.core.progress import Progress
from jingzhun.identification import services


def progress_job(county_code: str) -> str:
    """Return the name under which a county's run reports its progress."""
    return f"identify-{county_code}"


@task()
def identify(county_code: str, as_of_iso: str, user_id: int | None) -> int:
    """Compute a preview run for a county as of a date in the worker; return the run's id.

    The preview becomes the current run only when an officer confirms it on its page.
    """
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    run = services.identification_run(
        actor=user,
        county_code=county_code,
        as_of=dt.date.fromisoformat(as_of_iso),
        # The fuzzy stage, once services provides it; exact matching only until then.
        fuzzy=getattr(services, "default_fuzzy_stage", None),
        progress=Progress(progress_job(county_code)),
        confirm=False,
    )
    return int(run.pk)


@task()
def identify_province_county(part_id: int) -> str:
    """Run one county of a province run (province.py): its own run, confirmed unless held.

    Returns the county's state; the state, counts or error are also on its part's record.
    """
    from jingzhun.identification.province import province_county_run

    return str(province_county_run(part_id).state)
