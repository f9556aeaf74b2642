"""The lead pipeline: which status may follow which, and the one function that changes it.

Staff move a lead along ``TRANSITIONS``. The system also moves leads on its own, for named
reasons (``SYSTEM_MOVES``): a lead released from spam, a lost lead whose person writes again.
Both kinds of move go through ``change_lead_status``, which checks the move and writes the
status, lost reason, first response, ``updated_at``, version and the STATUS event together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from crm.leads.followups import close_open_follow_ups
from crm.leads.operations import WorkflowError, record_event
from crm.leads.response_time import working_minutes
from crm.models import OPEN_STATUSES, EventKind, Lead, LeadEvent, LeadStatus, LostReason, StaffUser

CLOSING = frozenset({LeadStatus.LOST, LeadStatus.SPAM})

# new → contacted → appointment_booked → visited; any open status → lost or spam;
# lost and spam can be reopened to contacted. visited is the end of the road.
TRANSITIONS: dict[LeadStatus, frozenset[LeadStatus]] = {
    LeadStatus.NEW: frozenset({LeadStatus.CONTACTED}) | CLOSING,
    LeadStatus.CONTACTED: frozenset({LeadStatus.APPOINTMENT_BOOKED}) | CLOSING,
    LeadStatus.APPOINTMENT_BOOKED: frozenset({LeadStatus.VISITED}) | CLOSING,
    LeadStatus.VISITED: frozenset(),
    LeadStatus.LOST: frozenset({LeadStatus.CONTACTED}),
    LeadStatus.SPAM: frozenset({LeadStatus.CONTACTED}),
}


class SystemMove(StrEnum):
    """A move the system makes for a named reason, outside what staff pick from ``TRANSITIONS``."""

    # Staff say a lead kept aside as spam is a real enquiry after all: it goes back in front of
    # them as new, or as contacted if someone had answered it before.
    RELEASE = "release"
    # The person behind a lost lead writes again: someone should get back to them.
    REOPEN = "reopen"
    # An appointment is booked for a lead: straight from new when the first call books it.
    BOOK = "book"
    # The lead's booked appointment is cancelled, or the patient did not come: back to calling.
    CANCEL_BOOKING = "cancel_booking"
    NO_SHOW = "no_show"


@dataclass(frozen=True)
class SystemMoveRule:
    sources: frozenset[LeadStatus]
    targets: frozenset[LeadStatus]
    reason: str  # said on the timeline: "Status: Spam → New. (released from spam)"


# Each named move, from which statuses to which. A feature that moves leads by itself (booking
# an appointment, a no-show) adds its row here and calls change_lead_status with it.
SYSTEM_MOVES: dict[SystemMove, SystemMoveRule] = {
    SystemMove.RELEASE: SystemMoveRule(
        frozenset({LeadStatus.SPAM}),
        frozenset({LeadStatus.NEW, LeadStatus.CONTACTED}),
        "released from spam",
    ),
    SystemMove.REOPEN: SystemMoveRule(
        frozenset({LeadStatus.LOST}),
        frozenset({LeadStatus.CONTACTED}),
        "returned with an enquiry",
    ),
    SystemMove.BOOK: SystemMoveRule(
        frozenset({LeadStatus.NEW, LeadStatus.CONTACTED}),
        frozenset({LeadStatus.APPOINTMENT_BOOKED}),
        "booked",
    ),
    SystemMove.CANCEL_BOOKING: SystemMoveRule(
        frozenset({LeadStatus.APPOINTMENT_BOOKED}),
        frozenset({LeadStatus.CONTACTED}),
        "appointment cancelled",
    ),
    SystemMove.NO_SHOW: SystemMoveRule(
        frozenset({LeadStatus.APPOINTMENT_BOOKED}),
        frozenset({LeadStatus.CONTACTED}),
        "no-show",
    ),
}


class TransitionRefused(WorkflowError):
    """The move is not part of the pipeline; the message says what is possible instead."""


def allowed_next(current: str) -> list[LeadStatus]:
    return sorted(TRANSITIONS[LeadStatus(current)], key=list(LeadStatus).index)


def check_transition(current: str, target: str, lost_reason: str | None) -> None:
    source = LeadStatus(current)
    try:
        destination = LeadStatus(target)
    except ValueError as error:
        raise TransitionRefused("Please choose a status.") from error
    if destination == source:
        raise TransitionRefused(f"The lead is already {destination.label.lower()}.")
    if destination not in TRANSITIONS[source]:
        options = ", ".join(status.label.lower() for status in allowed_next(source))
        if options:
            raise TransitionRefused(
                f"A lead that is {source.label.lower()} cannot become "
                f"{destination.label.lower()}; it can become: {options}."
            )
        raise TransitionRefused(
            f"A lead that is {source.label.lower()} is closed and cannot change status."
        )
    if destination == LeadStatus.LOST and not lost_reason:
        raise TransitionRefused("Please choose why the lead was lost.")


def check_lost_reason(lost_reason: str | None) -> LostReason | None:
    """One of the listed reasons, or None when none was given."""
    if not lost_reason:
        return None
    try:
        return LostReason(lost_reason)
    except ValueError as error:
        raise TransitionRefused("Please choose one of the listed reasons.") from error


def check_system_move(move: SystemMove, current: str, target: str) -> None:
    rule = SYSTEM_MOVES[move]
    if LeadStatus(current) not in rule.sources or LeadStatus(target) not in rule.targets:
        raise TransitionRefused(
            f"A lead that is {LeadStatus(current).label.lower()} cannot be moved to "
            f"{LeadStatus(target).label.lower()} this way ({move.value})."
        )


def change_lead_status(
    session: Session,
    actor: StaffUser | None,
    lead: Lead,
    target: str,
    *,
    now: datetime,
    move: SystemMove | None = None,
    lost_reason: str | None = None,
    note: str | None = None,
) -> LeadEvent:
    """Move ``lead`` to ``target``: the one place in crm/ that changes a lead's status.

    Without ``move`` it is a pipeline move (``TRANSITIONS``), as staff choose one; with a
    ``SystemMove`` the move must be in that move's row of ``SYSTEM_MOVES``. Anything else raises
    ``TransitionRefused`` (a ``WorkflowError``) and changes nothing. A move writes the status,
    the lost reason (kept only when lost), the first response time and its working minutes
    (on the first move out of new), ``updated_at`` and the version (forms shown before are
    now stale), records the STATUS event by ``actor`` (None: the system) and, when the lead
    closes, closes its follow-ups.
    The caller owns the transaction and has read the lead for update.
    """
    previous = LeadStatus(lead.status)
    reason = check_lost_reason(lost_reason)
    if move is None:
        check_transition(previous, target, reason)
    else:
        check_system_move(move, previous, target)
    lead.status = LeadStatus(target)
    lead.lost_reason = reason if lead.status == LeadStatus.LOST else None
    if previous == LeadStatus.NEW and lead.first_response_at is None:
        lead.first_response_at = now
        # Under the hours in force now: a later change of hours leaves past figures alone.
        lead.first_response_minutes = working_minutes(lead.branch, lead.created_at, now)
    lead.updated_at = now
    lead.version += 1
    detail: dict[str, Any] = {"from": previous, "to": lead.status}
    if move is not None:
        detail["reason"] = SYSTEM_MOVES[move].reason
    elif lead.lost_reason:
        detail["reason"] = lead.lost_reason
    if note:
        detail["note"] = note
    event = record_event(session, actor, lead, EventKind.STATUS, now, detail)
    if not lead.is_open:
        close_open_follow_ups(
            session, actor, lead, f"Closed: lead marked {lead.status.label.lower()}", now
        )
    return event


def is_open(status: str) -> bool:
    return LeadStatus(status) in OPEN_STATUSES
