"""The query's rows as the export's cells, a batch of rows at a time, column by column.

A batch is turned into columns first (``zip``), and each column is shaped in one pass: a
column that is empty in the whole batch (campaign fields, appointments, for most leads) costs
one check, and the work per cell is an expression in a loop, not a function call per cell.
At a million rows that is half the time of shaping row by row.

Everything a cell needs besides its row (branch city and time zone, assignee names, labels)
is looked up in small dictionaries built once per export.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from crm.clinic.branches import branch_zone
from crm.leads.catalogue import INTERESTS
from crm.leads.export.cells import (
    FORMULA_TRIGGERS,
    neutralise,
    spreadsheet_phone,
    spreadsheet_phones,
)
from crm.leads.export.clock import BranchClock
from crm.leads.export.rows import PHONE_SEPARATOR
from crm.models import REFERENCE_FORMAT, STATUS_LABELS, AppointmentKind, Branch, LostReason
from crm.platform.i18n import LANGUAGES

# One list per column of ``HEADER``, all as long as the batch.
Columns = list[Sequence[Any]]
Shape = Callable[[Sequence[Sequence[Any]]], Columns]


def batch_shaper(branches: list[Branch], staff_names: dict[int, str], *, as_text: bool) -> Shape:
    """A function from a batch of query rows to the export's cells, one list per column in
    ``HEADER`` order.

    For a CSV (``as_text``), every cell is text: text a visitor or staff member typed is
    neutralised, times are text, a missing value is "". For an XLSX, text stays exactly as
    typed (its string cells never run as formulas), times are naive local datetimes and a
    missing time is None. Times are in the lead's branch time zone, phones in the spaced
    international form. An erased lead keeps its reference, dates and pipeline fields but
    none of the person's details.
    """
    text = neutralise if as_text else _as_typed
    texts = _neutralised if as_text else _typed
    city = {branch.id: text(branch.city) for branch in branches}
    clocks = {branch.id: BranchClock(branch_zone(branch)) for branch in branches}
    # Each a dictionary of every known key's cell ("" for none), asked with ``map`` in one
    # pass per column; a key that is not known is shown as stored (``_Labels``).
    assignee = _Labels({key: text(name) for key, name in staff_names.items()}, _blank)
    interest = _Labels({key: text(label) for key, label in INTERESTS.items()}, text)
    status = _Labels({key.value: label for key, label in STATUS_LABELS.items()}, text)
    lost = _Labels({reason.value: reason.label for reason in LostReason}, text)
    kinds = _Labels({kind.value: kind.label for kind in AppointmentKind}, _blank)
    languages = _Labels({code: each.english_name for code, each in LANGUAGES.items()}, text)
    zones = {clock.zone.key for clock in clocks.values()}
    # Branches in one zone (the usual case) share one clock: a time column is then read by
    # the clock in one loop.
    shared = BranchClock(next(iter(clocks.values())).zone) if len(zones) == 1 else None

    def times(branch_ids: Sequence[int], moments: Sequence[Any]) -> Sequence[Any]:
        if not any(moments):
            return [""] * len(moments) if as_text else moments
        if as_text:
            if shared is not None:
                return shared.texts(moments)
            return [
                clocks[b].text(m) if m else "" for b, m in zip(branch_ids, moments, strict=True)
            ]
        return [clocks[b].cell(m) if m else None for b, m in zip(branch_ids, moments, strict=True)]

    def labelled(keys: Sequence[Any], labels: _Labels) -> Sequence[str]:
        if not any(keys):
            return [""] * len(keys)
        return list(map(labels.__getitem__, keys))

    def shape(rows: Sequence[Sequence[Any]]) -> Columns:
        (
            lead_ids,
            created,
            names,
            phones,
            emails,
            branch_ids,
            interest_keys,
            status_keys,
            lost_keys,
            assignee_ids,
            responded,
            follow_ups,
            enquiries,
            erased,
            first_pages,
            utm_sources,
            utm_mediums,
            utm_campaigns,
            last_pages,
            messages,
            others,
            appointments_at,
            appointment_kinds,
            clinicians,
            attended,
            no_shows,
            language_codes,
        ) = zip(*rows, strict=True)
        if any(erased):
            names, phones, emails, messages, others = (
                [None if gone else value for value, gone in zip(column, erased, strict=True)]
                for column in (names, phones, emails, messages, others)
            )
        if as_text:
            enquiries, attended, no_shows = map(_counts, (enquiries, attended, no_shows))
        return [
            list(map(REFERENCE_FORMAT.__mod__, lead_ids)),
            times(branch_ids, created),
            texts(names),
            spreadsheet_phones(phones),
            texts(emails),
            list(map(city.__getitem__, branch_ids)),
            labelled(language_codes, languages),
            labelled(interest_keys, interest),
            labelled(status_keys, status),
            labelled(lost_keys, lost),
            labelled(assignee_ids, assignee),
            times(branch_ids, responded),
            times(branch_ids, follow_ups),
            enquiries,
            texts(first_pages),
            texts(last_pages),
            texts(utm_sources),
            texts(utm_mediums),
            texts(utm_campaigns),
            texts(messages),
            [_phone_list(joined, text) if joined else "" for joined in others]
            if any(others)
            else [""] * len(others),
            times(branch_ids, appointments_at),
            labelled(appointment_kinds, kinds),
            texts(clinicians),
            attended,
            no_shows,
        ]

    return shape


class _Labels(dict[Any, str]):
    """Cells by key: a label for each known key, "" for none (None, "" or 0), and for any
    other key what ``fallback`` makes of it (not kept: keys not known are the odd few)."""

    def __init__(self, known: dict[Any, str], fallback: Callable[[Any], str]) -> None:
        # A key's label, or as stored when its label is empty, as ``label or text(key)``.
        super().__init__({key: label or fallback(key) for key, label in known.items()})
        self.update({None: "", "": "", 0: ""})
        self.fallback = fallback

    def __missing__(self, key: Any) -> str:
        return self.fallback(key) if key else ""


class _CountTexts(dict[int, str]):
    """The text of a count: the small ones (nearly all) looked up, any other written out."""

    def __missing__(self, count: int) -> str:
        return str(count)


_COUNT_TEXTS = _CountTexts({count: str(count) for count in range(100)})


def _counts(column: Sequence[int]) -> list[str]:
    # Most leads have no appointment outcome: a column of zeros is one check.
    if not any(column):
        return ["0"] * len(column)
    return list(map(_COUNT_TEXTS.__getitem__, column))


def _blank(_key: Any) -> str:
    return ""


def _neutralised(values: Sequence[str | None]) -> list[str]:
    """``neutralise`` of each text, "" for none, written out for a column."""
    if not any(values):
        return [""] * len(values)
    return [
        ("'" + value if value[:1] in FORMULA_TRIGGERS else value) if value else ""
        for value in values
    ]


def _typed(values: Sequence[str | None]) -> list[str]:
    return [value or "" for value in values]


def _phone_list(joined: str, text: Callable[[str], str]) -> str:
    """Each number as the Phone column shows it; several in one cell are text, not a number."""
    phones = [spreadsheet_phone(phone) for phone in sorted(set(joined.split(PHONE_SEPARATOR)))]
    return phones[0] if len(phones) == 1 else text(", ".join(phones))


def _as_typed(value: str) -> str:
    return value
