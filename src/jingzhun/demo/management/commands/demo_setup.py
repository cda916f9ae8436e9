"""``jingzhun demo-setup``: generate the demo county, import it the way a county does, add users.

The county lives in the current school year (or ``--school-year``), as of today (clamped into
that school year), so a newcomer meets work that is due now: aid for the current semester, and
dropout cases opened earlier this semester, some overdue, some due this week, most in time.

Run twice, it reuses what is there: files are generated once per layout and school year,
re-imports change nothing, and existing demo users keep their passwords.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count
from django.utils import timezone

from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role
from jingzhun.accounts.services import user_create
from jingzhun.aid import services as aid
from jingzhun.aid.models import AidNotice, Entitlement
from jingzhun.aid.rulebook import shipped_source
from jingzhun.core.importing import import_create, import_run, importer_for
from jingzhun.core.models import ImportBatch
from jingzhun.core.periods import SchoolYear, Semester
from jingzhun.core.progress import Progress
from jingzhun.demo.dashboard_coverage import coverage_demo
from jingzhun.demo.dashboard_map import map_demo
from jingzhun.demo.generator import generate
from jingzhun.demo.generator.later import Absence, LaterChild, absences, later_dropouts
from jingzhun.demo.national import (
    NATIONAL_FILES,
    STAFF_FILE,
    TEACHERS_FILE,
    VILLAGE_SCHOOLS_FILE,
)
from jingzhun.demo.oversight import build_oversight
from jingzhun.demo.projects import projects_demo
from jingzhun.demo.teachers import teachers_demo
from jingzhun.duty.models import CaseStep, DropoutCase
from jingzhun.duty.services import (
    case_report_absence,
    case_resolve,
    case_step_record,
    case_verify,
    cases_open_from_identification,
    chain_derive,
    due_on,
)
from jingzhun.funds import services as funds
from jingzhun.funds.models import Allocation, PaymentBatch
from jingzhun.identification.models import IdentificationRun
from jingzhun.identification.services import fuzzy_stage_factory, identification_run
from jingzhun.registry.models import Area
from jingzhun.schools.models import Enrolment, School, SchoolClass
from jingzhun.schools.naming import class_of
from jingzhun.teachers import services as teachers
from jingzhun.teachers.models import AllowanceLine

# The staff roster is loaded only where its importer is registered (see _import).
ORDER = ["areas", "schools", "registry", "rolls", "staff", "teachers"]
# The national layout: the files a county really holds, in the order a clerk loads them; the
# county's village-school list places its village schools once the poor villages are known.
NATIONAL_ORDER = [kind for kind, _name in NATIONAL_FILES] + [
    VILLAGE_SCHOOLS_FILE[0],
    STAFF_FILE[0],
    TEACHERS_FILE[0],
]
# A file whose import kind is not its own name.
IMPORT_KINDS = {"village_schools": "schools"}
# The files imported for the county named (the others tell their county themselves).
COUNTY_GIVEN = {"teachers"}
# How far back this semester's casework starts: the first run found the cases then.
HISTORY_DAYS = 35
# What became of the cases opened then, by turn: in time (a step recorded lately), overdue
# (nothing recorded since), or due this week (the last step so long ago that it falls due
# in the next five days).
CASE_PATTERN = (
    "in_time",
    "overdue",
    "due_this_week",
    "in_time",
    "in_time",
    "due_this_week",
    "in_time",
    "overdue",
    "in_time",
    "in_time",
)


def demo_as_of(today: dt.date, school_year: int) -> dt.date:
    """Return the demo's as-of day: today, clamped into the school year."""
    year = SchoolYear(school_year)
    return min(max(today, year.first_day), year.last_day)


class Command(BaseCommand):
    help = "Generate and import the demo county, and create one demo account per role."
    _absent: list[Absence]  # the absence reports drawn with the later dropouts
    _left: dict[int, dt.date]  # enrolment -> the day the pupil left school

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
        parser.add_argument(
            "--school-year",
            type=int,
            default=None,
            help="First year of the school year (2026 for 2026-2027); default: the current one.",
        )
        parser.add_argument(
            "--today",
            type=dt.date.fromisoformat,
            default=None,
            help="The day the demo takes as today (YYYY-MM-DD); default: today.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        out: Path = options["out"]
        marker = out / ".complete"
        layout = options["layout"]
        today = options["today"] or timezone.localdate()
        year = options["school_year"] or SchoolYear.of(today).start
        self.year = year
        self.as_of = demo_as_of(today, year)
        self.semester = str(Semester.of(self.as_of).kind)
        order = NATIONAL_ORDER if layout == "national" else ORDER
        # the marker records what the files are: reuse them only for the same layout and year
        wanted = f"{layout} {year}"
        found = {k: sorted(out.glob(f"{k.replace('_', '-')}.*")) for k in order}
        if marker.exists() and marker.read_text() == wanted and all(found.values()):
            paths = {k: found[k][0] for k in order}
            self.stdout.write(f"Reusing demo files in {out}")
        else:
            self.stdout.write(f"Generating the demo county for {year}-{year + 1} in {out} ...")
            marker.unlink(missing_ok=True)
            paths = generate(
                seed=options["seed"],
                scale=options["scale"],
                out=out,
                layout=layout,
                school_year=year,
            )
            marker.write_text(wanted)
        for kind in order:
            self._import(kind, paths[kind])
        first_run = not IdentificationRun.objects.filter(county_code=self._county().code).exists()
        history_on = max(SchoolYear(year).first_day, self.as_of - dt.timedelta(days=HISTORY_DAYS))
        # This semester's history: a first run some weeks ago found the out-of-school children
        # and their cases were opened then. Only on a fresh database, so a rerun adds nothing.
        history = first_run and history_on < self.as_of - dt.timedelta(days=10)
        if history:
            self._identify(history_on)
            self._cases()
            self._later_dropouts(history_on, options["seed"])
        self._identify(self.as_of)
        self._users(options["seed"], county_only=True)
        self._rule_book()
        self._compute_aid()
        self._users(options["seed"])
        self._aid_cycle()
        if history:
            self._absences()
            self._casework(history_on)
        self._cases()
        self._chain()
        self._teachers(options["seed"])
        self._allowance()
        self._projects(options["seed"])
        self._oversight(options["seed"])
        map_demo(
            actor=User.objects.get(username="admin"),
            county=self._county(),
            out=out,
            seed=options["seed"],
            echo=self.stdout.write,
        )
        self.stdout.write(f"coverage snapshots: {coverage_demo(county_code=self._county().code)}")

    def _import(self, kind: str, path: Path) -> None:
        try:
            importer_for(IMPORT_KINDS.get(kind, kind))
        except ValueError:
            self.stdout.write(f"import {kind}: skipped (no importer for {kind} files yet)")
            return
        batch = import_create(
            actor=None,
            kind=IMPORT_KINDS.get(kind, kind),
            path=path,
            file_name=path.name,
            source="demo",
        )
        # The national roll export carries no school year: it is the demo's.
        batch.school_year = self.year
        if kind in COUNTY_GIVEN:
            # as `jingzhun import --county` gives it: the roster names schools, and the county
            # seat's schools taken from the rolls have no township yet to tell the county by
            batch.county_code = self._county().code
        batch.save(update_fields=["school_year", "county_code"])
        batch = import_run(batch=batch, echo=lambda line: self.stderr.write(f"  {line}"))
        self.stdout.write(
            f"import {kind}: {batch.status}; created {batch.rows_created}, updated "
            f"{batch.rows_updated}, unchanged {batch.rows_unchanged}, warnings {batch.warnings}"
        )
        if batch.status != ImportBatch.Status.DONE:
            raise CommandError(
                f"The demo {kind} file was not imported: {batch.message} {batch.report_path}"
            )

    def _teachers(self, seed: int) -> None:
        """Record the roster's careers, trainings and exchanges (II.3), and show the figures."""
        result = teachers_demo(
            actor=User.objects.get(username="admin"),
            county=self._county(),
            school_year=self.year,
            as_of=self.as_of,
            seed=seed,
        )
        made = ", ".join(f"{y} {n}" for y, n in sorted(result.trainings.items()))
        self.stdout.write(
            f"teachers: {result.teachers}; recorded service periods {result.service_periods}, "
            f"trainings {made or 'none'}, exchanges {result.exchanges}"
        )
        times = ", ".join(f"{y} {n}" for y, n in sorted(result.person_times.items()))
        self.stdout.write(
            f"teachers (II.3): schools short of staff {result.short_schools}; training "
            f"person-times {times}; poor-village schools with 10% exchanged "
            f"{result.exchange_meeting} of {result.exchange_schools}; 20 years at village "
            f"schools {result.long_service}"
        )

    def _allowance(self) -> None:
        """The rural teacher living allowance (II.3.4): the month before last approved into a
        draft batch (the aid officer's to check and send); last month computed and confirmed
        by every school but the demo principal's and one more (their work waiting)."""
        county = self._county()
        officer = User.objects.get(username="aid")
        admin = User.objects.get(username="admin")
        principal = User.objects.get(username="principal")
        last = (self.as_of.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        before = (last - dt.timedelta(days=1)).replace(day=1)
        if not Allocation.objects.filter(
            county_code=county.code, programme=teachers.ALLOWANCE_PROGRAMME
        ).exists():
            for year in sorted({before.year if before.month >= 9 else before.year - 1, self.year}):
                funds.allocation_record(
                    actor=officer,
                    channel="county",
                    school_year=year,
                    programme=teachers.ALLOWANCE_PROGRAMME,
                    amount=Decimal("3000000.00"),
                )
        for month, leave in ((before, set()), (last, {principal.school_id})):
            if AllowanceLine.objects.filter(county_code=county.code, month=month).exists():
                continue
            run = teachers.allowance_compute(actor=officer, month=month)
            schools = sorted(
                set(
                    AllowanceLine.objects.filter(county_code=county.code, month=month).values_list(
                        "school_id", flat=True
                    )
                )
            )
            if leave:
                leave |= set(schools[-1:])  # a second school still to confirm
            for school_id in schools:
                if school_id not in leave:
                    teachers.allowance_review(actor=admin, month=month, school_id=school_id)
            line = f"allowance {month:%Y-%m}: {run.created} lines, {run.amount} yuan"
            if not leave:
                batch = teachers.allowance_approve(actor=officer, month=month)
                line += (
                    f"; batch {batch.reference} ({batch.status}), {len(batch.gaps)} without a card"
                )
            else:
                line += f"; {len(leave & set(schools))} schools still to confirm"
            self.stdout.write(line)

    def _projects(self, seed: int) -> None:
        """School conditions (II.2): the basic standard, the 2016 survey, the plan's projects."""
        result = projects_demo(
            actor=User.objects.get(username="admin"),
            county=self._county(),
            as_of=self.as_of,
            seed=seed,
        )
        self.stdout.write(
            f"school conditions: surveys {result.surveys}, projects {result.projects}, "
            f"accepted {result.accepted}, nodes closed late {result.late_nodes}, nodes open "
            f"past due {result.open_overdue}, quality high schools {result.quality_schools}"
        )

    def _oversight(self, seed: int) -> None:
        """Semiannual inspections (III.3): the current half-year's plan, visits, sample, findings."""
        result = build_oversight(
            actor=User.objects.get(username="admin"),
            county=self._county(),
            as_of=self.as_of,
            seed=seed,
        )
        self.stdout.write(
            f"inspections: plans {result.plans}, visits {result.visits}, students checked "
            f"{result.sampled}, findings {result.findings}, closed in time "
            f"{result.closed_in_time}, closed late {result.closed_late}, open past due "
            f"{result.open_overdue}"
        )

    def _county(self) -> Area:
        """Return the demo county (the first by code), which the imports created."""
        county = Area.objects.filter(level="county").order_by("code").first()
        if county is None:
            raise CommandError("No county was imported.")
        return county

    def _identify(self, as_of: dt.date) -> None:
        """Run the main job: identification as of a day of the demo's school year."""
        county = self._county()
        progress = Progress(
            f"identify-{county.code}", echo=lambda line: self.stderr.write(f"  {line}")
        )
        run = identification_run(
            actor=None,
            county_code=county.code,
            as_of=as_of,
            fuzzy=fuzzy_stage_factory(retrain=False),
            progress=progress,
        )
        shown = ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items()))
        self.stdout.write(f"identification run #{run.pk} as of {run.as_of}: {shown}")

    def _rule_book(self) -> None:
        """Give the year a confirmed rule book: the one shipped for it, else last year's carried
        forward by the aid officer and confirmed (the demo accepts the amounts as they are)."""
        county = self._county()
        officer = User.objects.get(username="aid")
        if aid.rulebook_latest(county.code, self.year) is None:
            try:
                shipped_source(self.year)
            except KeyError:
                version = aid.rulebook_carry_forward(actor=officer, school_year=self.year)
                self.stdout.write(f"rule book {self.year}: {version.reason}")
        if aid.rulebook_is_confirmed(county.code, self.year) is False:
            aid.rulebook_confirm(actor=officer, school_year=self.year)
            self.stdout.write(f"rule book {self.year}: confirmed by {officer.username}")

    def _compute_aid(self) -> None:
        """Compute the current semester's entitlements (the second half of the main job)."""
        county = self._county()
        progress = Progress(f"aid-{county.code}", echo=lambda line: self.stderr.write(f"  {line}"))
        result = aid.aid_compute(
            actor=None,
            county_code=county.code,
            school_year=self.year,
            semester=self.semester,
            progress=progress,
        )
        shown = ", ".join(f"{k} {v}" for k, v in sorted(result.counts.items()))
        self.stdout.write(f"aid {self.year} {self.semester}: {shown}")

    def _aid_cycle(self) -> None:
        """Leave aid work waiting for every demo account.

        The demo principal's school is left as it is: its classes to check (the demo teacher's
        among them), the school's list to review and its notice to post. A second school of the
        township (``principal2``) went through review, a notice and approval, and its cash aid
        waits in a draft payment batch for the aid officer to approve.
        """
        county = self._county()
        officer = User.objects.get(username="aid")
        principal = User.objects.get(username="principal2")
        school = principal.school
        assert school is not None
        year, semester = self.year, self.semester
        first_day = Semester.named(year, semester).first_day
        # posted about two weeks into the semester, as schools do; never after the as-of day
        starts_on = max(
            first_day,
            min(first_day + dt.timedelta(days=16), self.as_of - dt.timedelta(days=14)),
        )
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
                starts_on=starts_on,
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
            # Many channels in, one tap out: the year's money arrives from several channels
            # into the pooled account, then is allocated from it to each programme.
            need = sum((total * 2 for total in totals.values()), Decimal("0.00"))
            first_day = SchoolYear(year).first_day
            shares = (("central", 50), ("provincial", 25), ("county", 15), ("lottery", 10))
            received = Decimal("0.00")
            for n, (channel, share) in enumerate(shares):
                amount = (
                    need - received
                    if n == len(shares) - 1
                    else (need * share / 100).quantize(Decimal("0.01"))
                )
                received += amount
                funds.transfer_in_record(
                    actor=officer,
                    channel=channel,
                    amount=amount,
                    received_on=min(first_day + dt.timedelta(days=3 + n), self.as_of),
                    document=f"{year}年学生资助资金（{channel}）",
                )
            for programme, total in sorted(totals.items()):
                funds.allocation_record(
                    actor=officer,
                    school_year=year,
                    programme=programme,
                    amount=total * 2,
                    received_on=min(first_day + dt.timedelta(days=10), self.as_of),
                )
        key = f"demo-{year}-{semester}-1"
        if (
            not PaymentBatch.objects.filter(idempotency_key=key).exists()
            and not aid.payable(county.code, year, semester).exists()
        ):
            self.stdout.write("no approved cash aid to pay yet: no payment batch made")
            return
        batch = aid.aid_batch_create(
            actor=officer, school_year=year, semester=semester, idempotency_key=key
        )
        # left as a draft: the aid officer's to check and approve
        self.stdout.write(
            f"payment batch {batch.reference} ({batch.status}): {batch.control['count']} payments, "
            f"{batch.control['amount']} yuan, {len(batch.gaps)} without a bank card"
        )

    def _casework(self, opened_on: dt.date) -> None:
        """Record what was done on the cases opened ``opened_on``, so their due dates spread:
        by turn (CASE_PATTERN) in time, overdue, or due in the next five days.

        Steps go through the casework service, by the demo administrator, on past days; a due
        date follows from the last step as the plan's deadline rule sets it (duty.due_on).
        """
        today = self.as_of
        if today > timezone.localdate():
            return  # a school year still to come has no history yet
        admin = User.objects.get(username="admin")
        cases = list(
            DropoutCase.objects.filter(
                opened_on=opened_on, status=DropoutCase.Status.OPEN
            ).order_by("id")
        )
        if not cases or CaseStep.objects.filter(case__in=cases).exists():
            return
        probe = DropoutCase(last_step_on=opened_on)

        def due(step_on: dt.date) -> dt.date:
            probe.last_step_on = step_on
            return due_on(probe)

        days = [opened_on + dt.timedelta(days=n) for n in range((today - opened_on).days + 1)]
        this_week = [d for d in days if 1 <= (due(d) - today).days <= 5]
        recent = [d for d in days if due(d) > today + dt.timedelta(days=5)]
        counts = {"in_time": 0, "overdue": 0, "due_this_week": 0}
        for i, case in enumerate(cases):
            fate = CASE_PATTERN[i % len(CASE_PATTERN)]
            if fate == "due_this_week" and not this_week:
                fate = "in_time"
            if fate == "in_time" and not recent:
                fate = "overdue"
            counts[fate] += 1
            if fate == "overdue":
                continue  # nothing recorded since the case was opened
            last = this_week[i % len(this_week)] if fate == "due_this_week" else recent[-1]
            visit = min(last, opened_on + dt.timedelta(days=2 + i % 3))
            case_step_record(
                actor=admin,
                case_id=case.pk,
                kind=CaseStep.Kind.HOME_VISIT,
                text="入户走访，了解未入学原因。",
                happened_on=visit,
            )
            if last > visit:
                case_step_record(
                    actor=admin,
                    case_id=case.pk,
                    kind=CaseStep.Kind.PERSUASION,
                    text="会同村干部劝返，家长表示考虑。",
                    happened_on=last,
                )
        shown = ", ".join(f"{k} {v}" for k, v in counts.items())
        self.stdout.write(f"casework on the cases opened {opened_on}: {shown}")

    def _chain(self) -> None:
        """Fill the responsibility chain from the staff roster (the planted gaps stay open)."""
        county = self._county()
        result = chain_derive(
            actor=None, county_code=county.code, school_year=self.year, today=self.as_of
        )
        made = ", ".join(f"{k} {v}" for k, v in sorted(result.created.items()))
        gaps = ", ".join(f"{k} {v}" for k, v in sorted(result.gaps.items()))
        self.stdout.write(
            f"responsibility chain: made {made or 'none'}; without anyone to name: {gaps or 'none'}"
            f"; cases given a responsible person {result.cases_assigned}"
        )

    def _later_dropouts(self, first: dt.date, seed: int) -> None:
        """Some poor pupils leave school between the first run and today (the rolls' status
        changes since then), more often those with the early warning's signals: today's run
        finds them, and the warning's back-test of the first run's day has something to find."""
        entry = {"primary": 6, "junior": 12, "senior": 15, "vocational": 15}
        rows = Enrolment.objects.filter(
            county_code=self._county().code,
            school_year=self.year,
            status=Enrolment.Status.ENROLLED,
            stage__in=list(entry),
            school__location=School.Location.IN_COUNTY,
            student__link__isnull=False,
        ).values_list(
            "pk",
            "stage",
            "grade",
            "student__link__person__birth_date",
            "student__link__person__left_behind",
            "student__link__person__disability_kind",
        )
        children = []
        # the signals the county's files hold on the first run's day (boarding distance needs
        # village coordinates, which the national export lacks)
        for pk, stage, grade, birth, left_behind, disability in rows:
            age = self.year - birth.year - (1 if (birth.month, birth.day) > (8, 31) else 0)
            over = age - (entry[stage] + grade - 1) >= 1
            transition = (stage, grade) in (("primary", 6), ("junior", 3))
            found = (over, left_behind, bool(disability), transition)
            children.append(LaterChild(pk, sum(found)))
        drawn = later_dropouts(children, seed=seed, first=first, last=self.as_of)
        self._left = dict(drawn)
        self._absent = absences(
            children,
            {pk for pk, _day in drawn},
            seed=seed,
            start=SchoolYear(self.year).first_day,
            first=first,
        )
        for pk, day in drawn:
            Enrolment.objects.filter(pk=pk).update(
                status=Enrolment.Status.DROPPED_OUT, status_date=day
            )
        self.stdout.write(f"later dropouts (roll changes since {first}): {len(drawn)}")

    def _absences(self) -> None:
        """The class teachers' absence reports drawn with the later dropouts, recorded through
        the duty service the teacher's phone page uses (by the demo administrator, on past
        days). A pupil who came back has the return and the week's follow-up recorded and the
        case resolved; the township officer verifies those of their township."""
        admin = User.objects.get(username="admin")
        township = User.objects.filter(username="township").first()
        students = dict(
            Enrolment.objects.filter(pk__in={a.key for a in self._absent}).values_list(
                "pk", "student_id"
            )
        )
        reported = back = 0
        for a in self._absent:
            case = case_report_absence(
                actor=admin,
                student_id=students[a.key],
                days=a.days,
                note="班主任报告：连续缺课。",
                on=a.on,
            )
            reported += 1
            if a.back_on is None and a.key in self._left and case.last_step_on == a.on:
                # the pupil leaves school later: the teacher visits the family that day, and
                # keeps persuading (a step in the last days, as the other cases have)
                visit = min(self._left[a.key] + dt.timedelta(days=1), self.as_of)
                case_step_record(
                    actor=admin,
                    case_id=case.pk,
                    kind=CaseStep.Kind.HOME_VISIT,
                    text="家访：孩子已不来上学，了解原因。",
                    happened_on=visit,
                )
                talk = self.as_of - dt.timedelta(days=1 + reported % 5)
                if talk > visit:
                    case_step_record(
                        actor=admin,
                        case_id=case.pk,
                        kind=CaseStep.Kind.PERSUASION,
                        text="会同村干部劝返，家长表示考虑。",
                        happened_on=talk,
                    )
            if a.back_on is None or case.source != DropoutCase.Source.ABSENCE:
                continue  # leaves school later, or the report went on a case already open
            case_step_record(
                actor=admin,
                case_id=case.pk,
                kind=CaseStep.Kind.RETURNED,
                text="学生已返校上课。",
                happened_on=a.back_on,
            )
            week = a.back_on + dt.timedelta(days=7)
            case_step_record(
                actor=admin,
                case_id=case.pk,
                kind=CaseStep.Kind.FOLLOWUP_WEEK,
                text="返校一周，出勤正常。",
                happened_on=week,
            )
            enrolment = (
                Enrolment.objects.filter(student_id=students[a.key], status__in=Enrolment.ACTIVE)
                .values_list("pk", flat=True)
                .first()
            )
            case = case_resolve(
                actor=admin,
                case_id=case.pk,
                outcome=DropoutCase.Outcome.RETURNED,
                enrolment_id=enrolment,
                on=week,
            )
            back += 1
            if township is not None and case.village_code.startswith(township.scope.area_code):
                case_verify(actor=township, case_id=case.pk, today=week)
        self.stdout.write(f"absence reports before the first run: {reported}, came back {back}")

    def _cases(self) -> None:
        """Open a dropout case for every compulsory-age child the run found out of school."""
        county = self._county()
        result = cases_open_from_identification(actor=None, county_code=county.code)
        self.stdout.write(
            f"dropout cases: opened {result.opened}, new episodes {result.reopened}, "
            f"already open {result.already_open}"
        )

    @staticmethod
    def _user(seed: int, username: str, role: Role, jurisdiction: dict[str, Any]) -> str:
        """Create a demo account unless it exists; return its password."""
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
        return password

    def _users(self, seed: int, county_only: bool = False) -> None:
        """Create one demo account per role; only the administrator and the aid officer when
        ``county_only`` (the rule book and the casework need them before the rest exist)."""
        county = self._county()
        if county_only:
            self._user(seed, "admin", Role.COUNTY_ADMIN, {"area": county})
            self._user(seed, "aid", Role.AID_OFFICER, {"area": county})
            return
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
        others = [s for s in schools if s != school and cash.get(s.pk)]
        second = next((s for s in others if s.kind in ("primary", "nine_year")), None) or (
            others[0] if others else school
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
            ("principal2", Role.PRINCIPAL, {"school": second}),
            ("teacher", Role.CLASS_TEACHER, {"school_class": klass}),
            ("inspector", Role.INSPECTOR, {"area": county}),
        ]
        self.stdout.write("\nDemo accounts (user / password / role / jurisdiction):")
        for username, role, jurisdiction in wanted:
            password = self._user(seed, username, role, jurisdiction)
            user = User.objects.select_related("area", "school", "school_class__school").get(
                username=username
            )
            user_class = user.school_class
            # a class by its documents' name (三年级1班), with its school
            where = (
                f"{user_class.school.name} {class_of(user_class)}"
                if user_class
                else user.school or user.area
            )
            self.stdout.write(f"  {username:<10} {password:<24} {role.label}  {where}")
