"""The fund ledger's opening: allocations recorded before the ledger become opening entries, and
the batches already approved, sent and settled post what they moved; then the journal is made
append-only in the database itself (UPDATE, DELETE and, on PostgreSQL, TRUNCATE refused), as the
audit log is.
"""

from collections import defaultdict
from decimal import Decimal

from django.db import migrations
from django.utils import timezone

TABLES = ("funds_journalentry", "funds_journalline")
ZERO = Decimal("0.00")


def _code(kind, programme, year):
    return f"{kind}:{year}:{programme}"


def open_ledger(apps, schema_editor):
    Allocation = apps.get_model("funds", "Allocation")
    PaymentBatch = apps.get_model("funds", "PaymentBatch")
    Payment = apps.get_model("funds", "Payment")
    Account = apps.get_model("funds", "Account")
    Entry = apps.get_model("funds", "JournalEntry")
    Line = apps.get_model("funds", "JournalLine")
    Day = apps.get_model("funds", "AccountDay")
    accounts = {}

    def account(county, kind, programme="", year=None):
        code = kind if kind in ("opening", "pool") else _code(kind, programme, year)
        key = (county, code)
        if key not in accounts:
            accounts[key], _ = Account.objects.get_or_create(
                county_code=county,
                code=code,
                defaults={
                    "kind": kind,
                    "programme": programme,
                    "school_year": year if kind not in ("opening", "pool") else None,
                },
            )
        return accounts[key]

    def post(county, kind, key, on, source, memo, legs):
        entry = Entry.objects.create(
            county_code=county, kind=kind, key=key, posted_on=on, source=source, memo=memo[:200]
        )
        Line.objects.bulk_create(
            Line(entry=entry, account=a, debit=d, credit=c, posted_on=on) for a, d, c in legs
        )

    def move(batch, kind, key, frm, to, totals, when):
        legs = []
        for programme, total in sorted(totals.items()):
            if total:
                legs.append((account(batch.county_code, to, programme, batch.school_year), total, ZERO))
                legs.append((account(batch.county_code, frm, programme, batch.school_year), ZERO, total))
        if legs:
            post(batch.county_code, kind, key, when, f"funds.batch:{batch.pk}", batch.reference, legs)

    def local(moment):
        return timezone.localdate(moment) if moment else timezone.localdate()

    for a in Allocation.objects.order_by("id"):
        on = local(a.recorded_at)
        post(
            a.county_code,
            "opening",
            f"opening-allocation:{a.pk}",
            on,
            f"funds.allocation:{a.pk}",
            a.note,
            [
                (account(a.county_code, "programme", a.programme, a.school_year), a.amount, ZERO),
                (account(a.county_code, "opening"), ZERO, a.amount),
            ],
        )
    for batch in PaymentBatch.objects.exclude(status="draft").order_by("id"):
        def totals(**filters):
            out = defaultdict(lambda: ZERO)
            for p in Payment.objects.filter(batch=batch, **filters).values("programme", "amount"):
                out[p["programme"]] += p["amount"]
            return out

        move(batch, "approval", f"batch-approve:{batch.pk}", "programme", "payable", totals(), local(batch.approved_at))
        if batch.status in ("sent", "reconciled"):
            move(batch, "sent", f"batch-sent:{batch.pk}", "payable", "bank", totals(), local(batch.sent_at))
            move(batch, "paid", f"opening-paid:{batch.pk}", "bank", "paid", totals(status="paid"), local(batch.sent_at))
            move(batch, "returned", f"opening-failed:{batch.pk}", "bank", "programme", totals(status="failed"), local(batch.sent_at))
    # Balances and day totals from the lines just written.
    balances = defaultdict(lambda: ZERO)
    days = defaultdict(lambda: [ZERO, ZERO])
    for line in Line.objects.values("account_id", "debit", "credit", "posted_on"):
        balances[line["account_id"]] += line["debit"] - line["credit"]
        day = days[(line["account_id"], line["posted_on"])]
        day[0] += line["debit"]
        day[1] += line["credit"]
    for pk, balance in balances.items():
        Account.objects.filter(pk=pk).update(balance=balance)
    Day.objects.bulk_create(
        Day(account_id=pk, day=on, debit=d, credit=c) for (pk, on), (d, c) in days.items()
    )


def append_only(apps, schema_editor):
    for table in TABLES:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$ "
                f"BEGIN RAISE EXCEPTION '{table}: the journal is append-only; post a reversal'; "
                "END; $$ LANGUAGE plpgsql"
            )
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
            )
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
            )
        else:
            for verb in ("UPDATE", "DELETE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table}: the journal is append-only; "
                    "post a reversal'); END"
                )


def allow_change(apps, schema_editor):
    for table in TABLES:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
        else:
            for verb in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")


class Migration(migrations.Migration):
    dependencies = [("funds", "0004_ledger")]
    operations = [
        migrations.RunPython(open_ledger, migrations.RunPython.noop),
        migrations.RunPython(append_only, allow_change),
    ]
