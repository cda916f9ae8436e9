"""``jingzhun map_import FILE [--county CODE] [--dry-run]``: load the county's map from a
GeoJSON file or a zipped shapefile, replacing the county's boundaries and school points."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jingzhun.dashboard import geo


class Command(BaseCommand):
    help = (
        "Import the county's map (GeoJSON FeatureCollection or zipped ESRI shapefile in "
        "WGS 84 / CGCS 2000 longitude-latitude; docs/map-formats.md). Replaces the county's "
        "features; nothing is replaced when a feature is in error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--county", default="", help="the county's 6-digit code")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and report, change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}") from exc
        try:
            raw = geo.read_map_file(data, path.name)
            county = options["county"] or geo.infer_county(raw)
            plan = geo.plan_import(raw, county_code=county, source=path.name)
        except geo.MapFileError as exc:
            raise CommandError(str(exc)) from exc
        counts = ", ".join(f"{k} {n}" for k, n in sorted(plan.counts.items())) or "none"
        self.stdout.write(f"{path.name} for county {county}: {counts}")
        missing: dict[str, int] = {}
        for kind, _code, _name in plan.missing:
            missing[kind] = missing.get(kind, 0) + 1
        if missing:
            self.stdout.write(
                "without a shape: " + ", ".join(f"{k} {n}" for k, n in sorted(missing.items()))
            )
        if plan.errors:
            for line in plan.errors:
                self.stderr.write(line)
            if plan.more_errors:
                self.stderr.write(f"... and {plan.more_errors} more errors")
            raise CommandError(f"{len(plan.errors) + plan.more_errors} errors: nothing replaced.")
        if options["dry_run"]:
            self.stdout.write(f"dry run: would replace {plan.replaces} features; nothing changed.")
            return
        n = geo.apply_import(plan, actor=None)
        self.stdout.write(f"imported {n} features (replaced {plan.replaces}).")
