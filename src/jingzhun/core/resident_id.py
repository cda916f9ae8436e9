"""The resident ID number (身份证号, GB 11643) as a value type."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from jingzhun.core.crypto import mask_id
from jingzhun.core.normalize import check_id_number


@dataclass(frozen=True)
class ResidentId:
    """A checked 18-character resident ID. Its text is sensitive: show :meth:`masked`."""

    value: str

    @classmethod
    def parse(cls, text: str) -> ResidentId:
        """Normalise and check a typed ID; raise ValueError with an error code if it is invalid."""
        return cls(check_id_number(text))

    @property
    def area_code(self) -> str:
        return self.value[:6]

    @property
    def birth_date(self) -> dt.date:
        v = self.value
        return dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))

    @property
    def sex(self) -> str:
        """Return 'M' or 'F' from the 17th digit (odd is male)."""
        return "M" if int(self.value[16]) % 2 else "F"

    def masked(self) -> str:
        return mask_id(self.value)

    def __str__(self) -> str:
        return self.masked()

    def __repr__(self) -> str:
        return f"ResidentId({self.masked()!r})"


def birth_month(day: dt.date | None) -> str:
    """Return how the platform shows a birth date: year and month only ('2010-05').

    The day, with the county, the sex and the masked ID beside it, would leave a few hundred
    possible ID numbers; without it about 15,000 (see core.crypto.mask_id). Nobody's work
    needs the day on a screen, in an export or from the API; the age is computed server-side.
    """
    return f"{day.year:04d}-{day.month:02d}" if day else ""
