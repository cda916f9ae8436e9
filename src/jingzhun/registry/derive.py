"""Areas taken from the registry itself, for a county that holds no area list.

The national export names each person's township and village (乡（镇）, 行政村) and its
户编号 starts with the 12-digit village code; the township is its first 9 digits and the
county its first 6. Areas the county already has are left as they are.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from django.utils.translation import gettext as _

from jingzhun.core.bulk import fetch_columns
from jingzhun.core.models import ImportChange
from jingzhun.registry.models import Area


def areas_derive(data: pa.Table, ctx: Any) -> tuple[int, int]:
    """Create the townships and villages a registry file names but the county lacks.

    Return (townships created, villages created). Poor-village flags from the file
    (是否贫困村) are set on new and existing villages alike.
    """
    codes = data.column("village_code").to_pylist()
    towns = data.column("township_name").to_pylist()
    villages = data.column("village_name").to_pylist()
    poor = data.column("village_is_poor").to_pylist()
    county_names = [n for n in data.column("county_name").to_pylist() if n]
    wanted: dict[str, tuple[str, str, bool | None]] = {}
    for code, town, village, is_poor in zip(codes, towns, villages, poor, strict=True):
        if code and code not in wanted:
            wanted[code] = (town or "", village or "", is_poor)
    known = {
        c: (pk, lvl) for c, pk, lvl in fetch_columns("SELECT code, id, level FROM registry_area")
    }
    created_towns = created_villages = 0
    changes: list[ImportChange] = []
    for code in sorted(wanted):
        town_name, village_name, is_poor = wanted[code]
        county_code, town_code = code[:6], code[:9]
        if county_code not in known:
            county = Area.objects.create(
                code=county_code,
                name=county_names[0] if county_names else county_code,
                level="county",
            )
            known[county_code] = (county.pk, "county")
        if town_code not in known and town_name:
            town = Area.objects.create(
                code=town_code, name=town_name, level="township", parent_id=known[county_code][0]
            )
            known[town_code] = (town.pk, "township")
            created_towns += 1
            changes.append(
                ImportChange(
                    batch=ctx.batch,
                    entity="area",
                    key=town_code,
                    action="derived",
                    changes={"name": town_name, "level": "township"},
                )
            )
        if code not in known and village_name and town_code in known:
            village = Area.objects.create(
                code=code,
                name=village_name,
                level="village",
                parent_id=known[town_code][0],
                is_poor=bool(is_poor),
            )
            known[code] = (village.pk, "village")
            created_villages += 1
            changes.append(
                ImportChange(
                    batch=ctx.batch,
                    entity="area",
                    key=code,
                    action="derived",
                    changes={"name": village_name, "level": "village"},
                )
            )
        elif is_poor and code in known:
            # A flag is only ever set here: an empty cell reads as "no", and a file without
            # the column must not clear what the poor-villages list set.
            Area.objects.filter(code=code, level="village", is_poor=False).update(is_poor=True)
    ImportChange.objects.bulk_create(changes, batch_size=1000)
    if created_towns or created_villages:
        ctx.progress(_("Areas taken from the registry"), force=True)
    return created_towns, created_villages
