"""The columns of an export: one SQL query of plain tuples, each shaped into a row of cells.

The query returns tuples, not ORM objects, and joins each lead to its first and last enquiry by
id (enquiries are immutable and numbered in arrival order), so a million rows cost one pass.
Everything else a row needs (branch city and time zone, assignee names, labels) is looked up in
small dictionaries built once per export.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select, String, case, func, select, type_coerce
from sqlalchemy.orm import aliased

from crm.clinic.branches import branch_zone
from crm.leads.catalogue import INTERESTS
from crm.leads.export.cells import neutralise, spreadsheet_phone
from crm.models import (
    STATUS_LABELS,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Branch,
    Clinician,
    Enquiry,
    Lead,
    LostReason,
)
from crm.platform.i18n import LANGUAGES

HEADER = (
    "Reference",
    "Created (branch time)",
    "Name",
    "Phone",
    "Email",
    "Branch",
    # The language of the latest enquiry: who should call back, and in what.
    "Language",
    "Interest",
    "Status",
    "Lost reason",
    "Assignee",
    "First response at (branch time)",
    "Next follow-up (branch time)",
    "Enquiries",
    "First source page",
    "Last source page",
    # First touch: the campaign that brought the person to us, as Lead.source records it.
    "UTM source (first enquiry)",
    "UTM medium (first enquiry)",
    "UTM campaign (first enquiry)",
    "Latest message",
    # Numbers the person gave with their enquiries besides the lead's own (after a merge).
    "Other phones",
    # The earliest booked appointment still to come, and the outcomes of those that came.
    "Next appointment (branch time)",
    "Next appointment kind",
    "Next appointment clinician",
    "Appointments attended",
    "No-shows",
)

# Between the numbers in "Other phones"; never part of a phone number.
PHONE_SEPARATOR = " "

Shape = Callable[[Row[Any]], list[Any]]


def lead_rows(scope: Select[tuple[Lead]], now: datetime) -> Select[Any]:
    """The export's columns for the leads of ``scope``, in reference order; "next appointment"
    means the first booked one starting at or after ``now``."""
    first = aliased(Enquiry, name="first_enquiry")
    last = aliased(Enquiry, name="last_enquiry")
    upcoming = aliased(Appointment, name="next_appointment")
    next_id = (
        select(Appointment.id)
        .where(
            Appointment.lead_id == Lead.id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.starts_at >= now,
        )
        .order_by(Appointment.starts_at, Appointment.id)
        .limit(1)
        .correlate(Lead)
        .scalar_subquery()
    )
    # Counted once over the appointments with an outcome and joined by lead: one grouped pass,
    # not a count per lead.
    outcomes = (
        select(
            Appointment.lead_id,
            _count_of(AppointmentStatus.ATTENDED).label("attended"),
            _count_of(AppointmentStatus.NO_SHOW).label("no_shows"),
        )
        .where(Appointment.status.in_([AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW]))
        .group_by(Appointment.lead_id)
        .subquery("outcomes")
    )

    def edge(aggregate: Any) -> Any:
        return (
            select(aggregate(Enquiry.id))
            .where(Enquiry.lead_id == Lead.id)
            .correlate(Lead)
            .scalar_subquery()
        )

    # The last enquiry's message when it has one (most leads): a lookup by lead only for a
    # lead of several enquiries whose latest message came with an earlier one.
    latest_message = case(
        (last.message.is_not(None), last.message),
        (
            Lead.enquiry_count > 1,
            select(Enquiry.message)
            .where(Enquiry.lead_id == Lead.id, Enquiry.message.is_not(None))
            .order_by(Enquiry.id.desc())
            .limit(1)
            .correlate(Lead)
            .scalar_subquery(),
        ),
        else_=None,
    )
    given = (
        select(Enquiry.phone.label("phone"))
        .where(
            Enquiry.lead_id == Lead.id,
            Enquiry.phone.is_not(None),
            Enquiry.phone != Lead.phone,
        )
        .distinct()
        .correlate(Lead)
        .subquery()
    )
    other_phones = case(
        # A lead of one enquiry has only its own number: no lookup for most leads.
        (
            Lead.enquiry_count > 1,
            select(func.aggregate_strings(given.c.phone, PHONE_SEPARATOR)).scalar_subquery(),
        ),
        else_=None,
    )
    return (
        scope.with_only_columns(
            Lead.id,
            _plain(Lead.created_at),
            Lead.name,
            Lead.phone,
            Lead.email,
            Lead.branch_id,
            Lead.interest,
            Lead.status,
            Lead.lost_reason,
            Lead.assignee_id,
            _plain(Lead.first_response_at),
            _plain(Lead.next_follow_up_at),
            Lead.enquiry_count,
            Lead.erased_at.is_not(None),
            first.source_page.label("first_source_page"),
            first.utm_source,
            first.utm_medium,
            first.utm_campaign,
            last.source_page.label("last_source_page"),
            latest_message.label("latest_message"),
            other_phones.label("other_phones"),
            _plain(upcoming.starts_at).label("next_appointment_at"),
            upcoming.kind.label("next_appointment_kind"),
            Clinician.name.label("next_appointment_clinician"),
            func.coalesce(outcomes.c.attended, 0).label("appointments_attended"),
            func.coalesce(outcomes.c.no_shows, 0).label("no_shows"),
            last.language.label("language"),
        )
        .select_from(Lead)
        .outerjoin(first, first.id == edge(func.min))
        .outerjoin(last, last.id == edge(func.max))
        .outerjoin(upcoming, upcoming.id == next_id)
        .outerjoin(Clinician, Clinician.id == upcoming.clinician_id)
        .outerjoin(outcomes, outcomes.c.lead_id == Lead.id)
        .order_by(Lead.id)
    )


def _count_of(status: AppointmentStatus) -> Any:
    return func.sum(case((Appointment.status == status, 1), else_=0))


def row_shaper(branches: list[Branch], staff_names: dict[int, str], *, as_text: bool) -> Shape:
    """A function from one query row to the export's cells, in ``HEADER`` order.

    For a CSV (``as_text``), text a visitor or staff member typed is neutralised and times are
    text; for an XLSX, text stays exactly as typed (its string cells never run as formulas) and
    times are naive local datetimes. Times are in the lead's branch time zone, phones in the
    spaced international form. An erased lead keeps its reference, dates and pipeline fields
    but none of the person's details.
    """
    text = neutralise if as_text else _as_typed
    city = {branch.id: text(branch.city) for branch in branches}
    clocks = {branch.id: BranchClock(branch_zone(branch)) for branch in branches}
    stamps = {
        branch_id: clock.text if as_text else clock.cell for branch_id, clock in clocks.items()
    }
    assignee = {person_id: text(name) for person_id, name in staff_names.items()}
    interest = {key: text(label) for key, label in INTERESTS.items()}
    status = {key.value: label for key, label in STATUS_LABELS.items()}
    lost = {reason.value: reason.label for reason in LostReason}
    kinds = {kind.value: kind.label for kind in AppointmentKind}
    languages = {code: language.english_name for code, language in LANGUAGES.items()}

    def shape(row: Row[Any]) -> list[Any]:
        (
            lead_id,
            created,
            name,
            phone,
            email,
            branch_id,
            interest_key,
            status_key,
            lost_key,
            assignee_id,
            responded,
            follow_up,
            enquiries,
            erased,
            first_page,
            utm_source,
            utm_medium,
            utm_campaign,
            last_page,
            message,
            others,
            appointment_at,
            appointment_kind,
            clinician,
            attended,
            no_shows,
            language,
        ) = row
        stamp = stamps[branch_id]
        if erased:
            name = phone = email = message = others = None
        return [
            f"L-{lead_id:06d}",
            stamp(created),
            text(name) if name else "",
            spreadsheet_phone(phone) if phone else "",
            text(email) if email else "",
            city[branch_id],
            (languages.get(language) or text(language)) if language else "",
            (interest.get(interest_key) or text(interest_key)) if interest_key else "",
            status.get(status_key) or text(status_key),
            (lost.get(lost_key) or text(lost_key)) if lost_key else "",
            assignee.get(assignee_id, "") if assignee_id else "",
            stamp(responded) if responded else None,
            stamp(follow_up) if follow_up else None,
            enquiries,
            text(first_page) if first_page else "",
            text(last_page) if last_page else "",
            text(utm_source) if utm_source else "",
            text(utm_medium) if utm_medium else "",
            text(utm_campaign) if utm_campaign else "",
            text(message) if message else "",
            _phone_list(others, text) if others else "",
            stamp(appointment_at) if appointment_at else None,
            kinds.get(appointment_kind, "") if appointment_kind else "",
            text(clinician) if clinician else "",
            attended,
            no_shows,
        ]

    return shape


def _phone_list(joined: str, text: Callable[[str], str]) -> str:
    """Each number as the Phone column shows it; several in one cell are text, not a number."""
    phones = [spreadsheet_phone(phone) for phone in sorted(set(joined.split(PHONE_SEPARATOR)))]
    return phones[0] if len(phones) == 1 else text(", ".join(phones))


def _as_typed(value: str) -> str:
    return value


def _plain(column: Any) -> Any:
    """A time column as the database driver returns it, without ``UTCDateTime``'s processing.

    At a million rows the per-value processing (parse, then attach UTC) is a large share of
    the export. PostgreSQL's driver returns aware datetimes; SQLite returns the UTC text it
    stores, which ``BranchClock`` reads directly.
    """
    return type_coerce(column, String())


_HOUR = timedelta(hours=1)
_MEMO_HOURS = 10_000  # rows come in creation order, so a small memo stays warm


class BranchClock:
    """Stored UTC instants as a branch's wall-clock time, quickly enough for a million rows.

    A ZoneInfo conversion and formatting cost microseconds per value. A zone's offset only
    changes at its transitions, so it is looked up once per UTC hour and reused for every time
    in that hour; an hour with a transition inside it is converted value by value.
    """

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._offsets: dict[str, timedelta | None] = {}

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
            # ``wall`` written out for stored text, the common case: this runs for most
            # cells of a time column, and a call costs as much as the arithmetic.
            try:
                offset = self._offsets[moment[:13]]
            except KeyError:
                offset = self._hour_offset(moment[:13], datetime.fromisoformat(moment))
            if offset is not None:
                return (datetime.fromisoformat(moment) + offset).isoformat(" ", "minutes")
        return self.wall(moment).isoformat(" ", "minutes")

    def cell(self, moment: datetime | str) -> datetime:
        """For a spreadsheet cell: whole seconds, as a person would have typed it."""
        return self.wall(moment).replace(microsecond=0)

    def _hour_offset(self, key: str, utc: datetime) -> timedelta | None:
        start = utc.replace(minute=0, second=0, microsecond=0, tzinfo=UTC)
        first = start.astimezone(self.zone).utcoffset()
        last = (start + _HOUR - timedelta(microseconds=1)).astimezone(self.zone).utcoffset()
        offset = first if first == last else None
        if len(self._offsets) >= _MEMO_HOURS:
            self._offsets.clear()
        self._offsets[key] = offset
        return offset
