"""Stored UTC instants as a branch's wall-clock time, quickly enough for a million rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_HOUR = timedelta(hours=1)
_MINUTE = timedelta(minutes=1)
_MEMO_HOURS = 10_000  # rows come in creation order, so a small memo stays warm

# For an offset of ``shift`` minutes past the hour: each UTC minute ("07") as (0, local
# minute) within the local hour it starts in, or (1, local minute) in the hour after.
_MINUTES = [
    {f"{utc:02d}": ((utc + shift) // 60, f"{(utc + shift) % 60:02d}") for utc in range(60)}
    for shift in range(60)
]


class BranchClock:
    """Stored UTC instants as a branch's wall-clock time.

    A ZoneInfo conversion and formatting cost microseconds per value. A zone's offset only
    changes at its transitions, so it is looked up once per UTC hour and reused for every time
    in that hour; an hour with a transition inside it is converted value by value.

    For a CSV's text, an hour whose offset is whole minutes also keeps its local text up to the
    hour (and the next hour's, for minutes that carry over): a stored time's text is then that
    text and its minute, from two dictionary lookups, without parsing or formatting a date.
    """

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._offsets: dict[str, timedelta | None] = {}
        # "2026-11-23 08:" (a stored UTC hour) -> local "2026-11-23 13:", "2026-11-23 14:"
        # and the minutes' table for the offset's minutes past the hour.
        self._texts: dict[str, tuple[str, str, dict[str, tuple[int, str]]]] = {}

    def wall(self, moment: datetime | str) -> datetime:
        """The local date and time, without a time zone (what a spreadsheet shows)."""
        if not isinstance(moment, str):
            return moment.astimezone(self.zone).replace(tzinfo=None)
        utc = datetime.fromisoformat(moment)
        hour = moment[:13]  # "2026-11-23 08"
        try:
            offset = self._offsets[hour]
        except KeyError:
            offset = self._hour_offset(hour, utc)
        if offset is None:
            return utc.replace(tzinfo=UTC).astimezone(self.zone).replace(tzinfo=None)
        return utc + offset

    def text(self, moment: datetime | str) -> str:
        """``2026-11-23 14:05``."""
        if isinstance(moment, str):
            hour = self._texts.get(moment[:14])
            if hour is not None:
                minute = hour[2].get(moment[14:16])
                if minute is not None:
                    return hour[minute[0]] + minute[1]
            return self._slow_text(moment)
        return self.wall(moment).isoformat(" ", "minutes")

    def texts(self, moments: Sequence[datetime | str | None]) -> list[str]:
        """``text`` of each time, "" for none: ``text`` written out for a whole column, as a
        call per value costs as much as the lookups."""
        hours = self._texts
        cells = []
        append = cells.append
        for moment in moments:
            if not moment:
                append("")
                continue
            if moment.__class__ is str:
                hour = hours.get(moment[:14])
                if hour is not None:
                    minute = hour[2].get(moment[14:16])
                    if minute is not None:
                        append(hour[minute[0]] + minute[1])
                        continue
            append(self.text(moment))
        return cells

    def cell(self, moment: datetime | str) -> datetime:
        """For a spreadsheet cell: whole seconds, as a person would have typed it."""
        return self.wall(moment).replace(microsecond=0)

    def _slow_text(self, moment: str) -> str:
        utc = datetime.fromisoformat(moment)
        try:
            offset = self._offsets[moment[:13]]
        except KeyError:
            offset = self._hour_offset(moment[:13], utc)
        if offset is None:
            return self.wall(moment).isoformat(" ", "minutes")
        if moment[13:14] == ":" and not offset % _MINUTE:
            self._remember_text(moment[:14], utc, offset)
        return (utc + offset).isoformat(" ", "minutes")

    def _remember_text(self, key: str, utc: datetime, offset: timedelta) -> None:
        # With whole minutes of offset, a time's local minute is its UTC minute shifted: the
        # seconds never carry into it.
        start = utc.replace(minute=0, second=0, microsecond=0) + offset
        shift = start.minute
        here = start.replace(minute=0).isoformat(" ", "minutes")[:-2]
        after = (start.replace(minute=0) + _HOUR).isoformat(" ", "minutes")[:-2]
        if len(self._texts) >= _MEMO_HOURS:
            self._texts.clear()
        self._texts[key] = (here, after, _MINUTES[shift])

    def _hour_offset(self, key: str, utc: datetime) -> timedelta | None:
        start = utc.replace(minute=0, second=0, microsecond=0, tzinfo=UTC)
        first = start.astimezone(self.zone).utcoffset()
        last = (start + _HOUR - timedelta(microseconds=1)).astimezone(self.zone).utcoffset()
        offset = first if first == last else None
        if len(self._offsets) >= _MEMO_HOURS:
            self._offsets.clear()
        self._offsets[key] = offset
        return offset
