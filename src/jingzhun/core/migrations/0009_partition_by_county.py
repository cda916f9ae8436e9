"""PostgreSQL: the large tables become tables PARTITION BY LIST (county_code).

Persons, students, enrolments, entitlements and payments; a DEFAULT partition and one per
county code their rows hold. Nothing happens on SQLite. It runs after every app's migrations
of the time: a later migration must not add a database foreign key into these tables
(``db_constraint=False``; core/partitions.py and docs/scaling.md say why).
"""

from typing import Any

from django.db import migrations


def partition(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    from jingzhun.core.partitions import PARTITIONED_TABLES, partition_table

    for table in PARTITIONED_TABLES:
        partition_table(table)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0008_audit_keyed_chain"),
        ("accounts", "0007_api_token_expiry_required"),
        ("aid", "0005_entitlement_county_code"),
        ("duty", "0005_child_place_base"),
        ("funds", "0003_payment_county_code"),
        ("identification", "0006_link_county_code"),
        ("registry", "0004_person_county_code"),
        ("schools", "0004_enrolment_county_code"),
    ]

    operations = [migrations.RunPython(partition, migrations.RunPython.noop, elidable=False)]
