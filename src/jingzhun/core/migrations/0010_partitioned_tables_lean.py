"""PostgreSQL: the partitioned tables lose what every bulk write paid for and no read used.

* The foreign keys *out of* them (an enrolment's school, class and import, a person's
  household, a payment's batch and school). Django made them DEFERRABLE INITIALLY DEFERRED,
  so each written row queued one check per key that ran, row by row, at commit: 4.5 s for
  300,000 enrolments, thirteen times the insert itself. The writers take these values from
  rows they have just read or written, the ORM keeps its on_delete rules, and ``jingzhun
  check-integrity`` checks every such reference set-wise, as it checks those into the tables.
* The ``varchar_pattern_ops`` ("_like") copies of the blind-index indexes: a keyed hash is
  only ever compared whole, never searched by prefix; each copy cost as much per row as the
  index itself.

Nothing happens on SQLite. core/partitions.py and docs/scaling.md say more.
"""

from typing import Any

from django.db import migrations


def lean(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    from jingzhun.core.partitions import drop_blind_like_indexes, drop_outbound_foreign_keys

    drop_outbound_foreign_keys()
    drop_blind_like_indexes()


class Migration(migrations.Migration):
    dependencies = [("core", "0009_partition_by_county")]

    operations = [migrations.RunPython(lean, migrations.RunPython.noop, elidable=False)]
