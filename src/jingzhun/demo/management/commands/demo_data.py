"""``jingzhun demo-data``: write the files a county (or a province) would have."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from jingzhun.demo.generator import MessRates, generate


class Command(BaseCommand):
    help = "Write a synthetic county or province: areas, schools, registry, rolls and the truth."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2018)
        parser.add_argument("--scale", choices=["county", "province", "tiny"], default="county")
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument(
            "--layout",
            choices=["standard", "national"],
            default="standard",
            help="standard: the import formats; national: the files national systems export.",
        )
        parser.add_argument(
            "--school-year",
            type=int,
            default=None,
            help="First year of the school year to generate (2026 for 2026-2027); "
            "default: the current school year.",
        )
        parser.add_argument(
            "--excel-number-rate",
            type=float,
            default=0.0,
            help="Share of roll IDs written as Excel numbers (the import rejects them).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(stage: str, done: int, total: int) -> None:
            self.stderr.write(f"{stage}: {done}/{total}")

        paths = generate(
            seed=options["seed"],
            scale=options["scale"],
            out=options["out"],
            mess=MessRates(excel_number=options["excel_number_rate"]),
            progress=progress,
            layout=options["layout"],
            school_year=options["school_year"],
        )
        for kind, path in paths.items():
            self.stdout.write(f"{kind}: {path}")
