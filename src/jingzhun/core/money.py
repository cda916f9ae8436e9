"""Money: Decimal yuan with two places, never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import models

CENT = Decimal("0.01")


def to_yuan(value: Decimal | int | str) -> Decimal:
    """Return the value as Decimal yuan rounded half-up to the cent; floats are refused."""
    if isinstance(value, float):
        raise TypeError("Money is never a float; pass Decimal, int or str.")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def format_yuan(value: Decimal) -> str:
    """Return '1,250.00' style text for display."""
    return f"{to_yuan(value):,.2f}"


class MoneyField(models.DecimalField):
    """A decimal column in yuan with two places."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)
