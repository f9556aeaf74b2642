"""The days a staff filter may name: the same range for the inbox, the exports and the CLI.

Leads exist only from the clinic's first years on, and a year such as 0001 or 9999 is a typo
or a probe. Outside this range a day is a field error, never a query: at the edges of Python's
calendar, turning a local day into a UTC moment (or adding the day after) overflows.
"""

from __future__ import annotations

from datetime import date

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
OUT_OF_RANGE = f"Please choose a day between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}."


def day_in_range(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY
