"""``jingzhun demo-setup``: generate the demo county, import it the way a county does, add users.

Run twice, it reuses what is there: files are generated once, re-imports change nothing,
and existing demo users keep their passwords.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count

from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role
from jingzhun.accounts.services import user_create
from jingzhun.aid import services as aid
from jingzhun.aid.models import AidNotice, Entitlement
from jingzhun.core.importing import import_create, import_run
from jingzhun.core.models import ImportBatch
from jingzhun.core.progress import Progress
from jingzhun.demo.generator import generate
from jingzhun.demo.national import NATIONAL_FILES
from jingzhun.duty.services import cases_open_from_identification
from jingzhun.funds import services as funds
from jingzhun.funds.models import Allocation, PaymentBatch
from jingzhun.identification.services import fuzzy_stage_factory, identification_run
from jingzhun.registry.models import Area
from jingzhun.schools.models import School, SchoolClass

ORDER = ["areas", "schools", "registry", "rolls"]
# The national layout: the files a county really holds, in the order a clerk loads them.
NATIONAL_ORDER = [kind for kind, _name in NATIONAL_FILES]
DEMO_AS_OF = dt.date(2018, 10, 8)


class Command(BaseCommand):
    help = "Generate and import the demo county, and create one demo account per role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2018)
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--scale", default="county", choices=["county", "tiny"])
        parser.add_argument(
            "--layout",
            default="national",
            choices=["national", "standard"],
            help="national: the files national systems export (default); standard: templates.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        out: Path = options["out"]
        marker = out / ".complete"
        layout = options["layout"]
        order = NATIONAL_ORDER if layout == "national" else ORDER
        if marker.exists() and marker.read_text() == layout:
            paths = {k: next(out.glob(f"{k.replace('_', '-')}.*")) for k in order}
            self.stdout.write(f"Reusing demo files in {out}")
        else:
            self.stdout.write(f"Generating the demo county in {out} ...")
            paths = generate(seed=options["seed"], scale=options["scale"], out=out, layout=layout)
            marker.write_text(layout)
        for kind in order:
            path = paths[kind]
            batch = import_create(
                actor=None, kind=kind, path=path, file_name=path.name, source="demo"
            )
            # The national roll export carries no school year: it is the demo's.
            batch.school_year = DEMO_AS_OF.year
            batch.save(update_fields=["school_year"])
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
        self._compute_aid()
        self._users(options["seed"])
        self._aid_cycle()
        self._cases()

    def _county(self) -> Area:
        """Return the demo county (the first by code), which the imports created."""
        county = Area.objects.filter(level="county").order_by("code").first()
        if county is None:
            raise CommandError("No county was imported.")
        return county

    def _identify(self) -> None:
        """Run the main job: identification as of the demo's school year (2018-2019)."""
        county = self._county()
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

    def _compute_aid(self) -> None:
        """Compute the autumn 2018 entitlements (the second half of the main job)."""
        county = self._county()
        progress = Progress(f"aid-{county.code}", echo=lambda line: self.stderr.write(f"  {line}"))
        result = aid.aid_compute(
            actor=None,
            county_code=county.code,
            school_year=DEMO_AS_OF.year,
            semester="autumn",
            progress=progress,
        )
        shown = ", ".join(f"{k} {v}" for k, v in sorted(result.counts.items()))
        self.stdout.write(f"aid 2018 autumn: {shown}")

    def _aid_cycle(self) -> None:
        """Take the demo principal's school through review, notice and approval to a batch."""
        county = self._county()
        officer = User.objects.get(username="aid")
        principal = User.objects.get(username="principal")
        school = principal.school
        assert school is not None
        year, semester = DEMO_AS_OF.year, "autumn"
        if not AidNotice.objects.filter(
            school=school, school_year=year, semester=semester
        ).exists():
            for klass in SchoolClass.objects.filter(school=school, school_year=year):
                aid.entitlement_class_check(
                    actor=principal, school_class_id=klass.pk, school_year=year, semester=semester
                )
            aid.entitlement_school_review(
                actor=principal, school_id=school.pk, school_year=year, semester=semester
            )
            notice = aid.notice_post(
                actor=principal,
                school_id=school.pk,
                school_year=year,
                semester=semester,
                starts_on=dt.date(2018, 9, 17),
            )
            aid.notice_approve(
                actor=officer, notice_id=notice.pk, today=notice.ends_on + dt.timedelta(days=1)
            )
        if not Allocation.objects.filter(county_code=county.code, school_year=year).exists():
            # The demo county's allocations cover the whole semester's cash entitlements.
            cash = Entitlement.objects.filter(school_year=year, kind="cash").values_list(
                "programme", "amount"
            )
            totals: dict[str, Any] = {}
            for programme, amount in cash:
                totals[programme] = totals.get(programme, 0) + amount
            for programme, total in sorted(totals.items()):
                funds.allocation_record(
                    actor=officer, school_year=year, programme=programme, amount=total * 2
                )
        key = "demo-2018-autumn-1"
        if (
            not PaymentBatch.objects.filter(idempotency_key=key).exists()
            and not aid.payable(county.code, year, semester).exists()
        ):
            self.stdout.write("no approved cash aid to pay yet: no payment batch made")
            return
        batch = aid.aid_batch_create(
            actor=officer, school_year=year, semester=semester, idempotency_key=key
        )
        if batch.status == PaymentBatch.Status.DRAFT:
            funds.payment_batch_approve(actor=officer, batch_id=batch.pk)
        self.stdout.write(
            f"payment batch {batch.reference}: {batch.control['count']} payments, "
            f"{batch.control['amount']} yuan, {len(batch.gaps)} without a bank card"
        )

    def _cases(self) -> None:
        """Open a dropout case for every compulsory-age child the run found out of school."""
        county = self._county()
        result = cases_open_from_identification(actor=None, county_code=county.code)
        self.stdout.write(
            f"dropout cases: opened {result.opened}, new episodes {result.reopened}, "
            f"already open {result.already_open}"
        )

    def _users(self, seed: int) -> None:
        county = self._county()
        township = Area.objects.filter(parent=county, level="township").order_by("code").first()
        # The demo principal runs the school with the most cash aid, so the aid cycle has content.
        cash = dict(
            Entitlement.objects.filter(kind="cash")
            .values_list("school_id")
            .annotate(n=Count("id"))
            .values_list("school_id", "n")
        )
        schools = sorted(
            School.objects.filter(township=township), key=lambda s: (-cash.get(s.pk, 0), s.code)
        )
        school = next((s for s in schools if s.kind in ("primary", "nine_year")), None) or (
            schools[0] if schools else None
        )
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
