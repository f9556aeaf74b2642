"""Date and time inputs that only ever show a value their input type accepts."""

from __future__ import annotations

from wtforms import DateField, DateTimeLocalField


class DateInputField(DateField):
    """An ``<input type="date">`` that shows the date it understood, or nothing.

    Echoing a value that did not parse (``?since=soon`` in an inbox link) gives invalid HTML,
    and a browser would blank it anyway; the field's error says what was wrong.
    """

    def _value(self) -> str:
        return self.data.isoformat() if self.data else ""


class DateTimeInputField(DateTimeLocalField):
    """An ``<input type="datetime-local">`` that shows the moment it understood, or nothing."""

    def _value(self) -> str:
        return self.data.isoformat(timespec="minutes") if self.data else ""
