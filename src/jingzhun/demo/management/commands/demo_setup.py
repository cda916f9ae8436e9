"""``jingzhun demo-setup``: generate the demo county, import it the way a county does, add users.

Run twice, it reuses what is there: files are generated once, re-imports change nothing,
and existing demo users keep their passwords.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role
from jingzhun.accounts.services import user_create
from jingzhun.core.importing import import_create, import_run
from jingzhun.core.models import ImportBatch
from jingzhun.core.progress import Progress
from jingzhun.demo.generator import generate
from jingzhun.identification.services import fuzzy_stage_factory, identification_run
from jingzhun.registry.models import Area
from jingzhun.schools.models import School, SchoolClass

ORDER = ["areas", "schools", "registry", "rolls"]
DEMO_AS_OF = dt.date(2018, 10, 8)


class Command(BaseCommand):
    help = "Generate and import the demo county, and create one demo account per role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2018)
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--scale", default="county", choices=["county", "tiny"])

    def handle(self, *args: Any, **options: Any) -> None:
        out: Path = options["out"]
        marker = out / ".complete"
        if marker.exists():
            paths = {k: next(out.glob(f"{k}.*")) for k in ORDER}
            self.stdout.write(f"Reusing demo files in {out}")
        else:
            self.stdout.write(f"Generating the demo county in {out} ...")
            paths = generate(seed=options["seed"], scale=options["scale"], out=out)
            marker.write_text("ok")
        for kind in ORDER:
            path = paths[kind]
            batch = import_create(
                actor=None, kind=kind, path=path, file_name=path.name, source="demo"
            )
            batch = import_run(batch=batch, echo=lambda line: self.stderr.write(f"  {line}"))
            self.stdout.write(
                f"import {kind}: {batch.status}; created {batch.rows_created}, updated "
                f"{batch.rows_updated}, unchanged {batch.rows_unchanged}, warnings {batch.warnings}"
            )
            if batch.status != ImportBatch.Status.DONE:
                raise CommandError(
                    f"The demo {kind} file was not imported: {batch.message} {batch.report_path}"
                )
        self._identify()
        self._users(options["seed"])

    def _identify(self) -> None:
        """Run the main job: identification as of the demo's school year (2018-2019)."""
        county = Area.objects.filter(level="county").order_by("code").first()
        if county is None:
            raise CommandError("No county was imported.")
        progress = Progress(
            f"identify-{county.code}", echo=lambda line: self.stderr.write(f"  {line}")
        )
        run = identification_run(
            actor=None,
            county_code=county.code,
            as_of=DEMO_AS_OF,
            fuzzy=fuzzy_stage_factory(retrain=False),
            progress=progress,
        )
        shown = ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items()))
        self.stdout.write(f"identification run #{run.pk} as of {run.as_of}: {shown}")

    def _users(self, seed: int) -> None:
        county = Area.objects.filter(level="county").order_by("code").first()
        if county is None:
            raise CommandError("No county was imported.")
        township = Area.objects.filter(parent=county, level="township").order_by("code").first()
        schools = School.objects.filter(township=township).order_by("code")
        school = schools.filter(kind__in=["primary", "nine_year"]).first() or schools.first()
        klass = (
            SchoolClass.objects.filter(school=school)
            .order_by("-school_year", "grade", "name")
            .first()
        )
        wanted: list[tuple[str, Role, dict[str, Any]]] = [
            ("admin", Role.COUNTY_ADMIN, {"area": county}),
            ("aid", Role.AID_OFFICER, {"area": county}),
            ("leader", Role.BUREAU_LEADER, {"area": county}),
            ("township", Role.TOWNSHIP_OFFICER, {"area": township}),
            ("principal", Role.PRINCIPAL, {"school": school}),
            ("teacher", Role.CLASS_TEACHER, {"school_class": klass}),
            ("inspector", Role.INSPECTOR, {"area": county}),
        ]
        self.stdout.write("\nDemo accounts (user / password / role / jurisdiction):")
        for username, role, jurisdiction in wanted:
            # Demo passwords are fixed per seed so that a second `make demo` prints the same ones.
            password = f"demo-{username}-{seed}"
            if not User.objects.filter(username=username).exists():
                user_create(
                    actor=None,
                    username=username,
                    password=password,
                    role=role,
                    is_superuser=(role == Role.COUNTY_ADMIN),
                    **jurisdiction,
                )
            user = User.objects.select_related("area", "school", "school_class__school").get(
                username=username
            )
            where = user.school_class or user.school or user.area
            self.stdout.write(f"  {username:<10} {password:<24} {role.label}  {where}")
