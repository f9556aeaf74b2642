"""The lead pipeline: which status may follow which, and what a move requires."""

from __future__ import annotations

from crm.models import OPEN_STATUSES, LeadStatus

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


class TransitionRefused(ValueError):
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


def is_open(status: str) -> bool:
    return LeadStatus(status) in OPEN_STATUSES
