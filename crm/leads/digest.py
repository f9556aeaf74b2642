"""The daily follow-up digest: each staff member's follow-ups due today or overdue, once a day.

"Today" is the person's own day: their branch's time zone, India for admins. The digest's
Message-ID is derived from the person and that date, and Message-IDs are unique in the outbox,
so a second run the same day (or two cron jobs racing) cannot queue a second digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from crm.clinic.branches import branch_zone
from crm.leads.queries import visible_leads
from crm.mail.compose import Message, render_message
from crm.mail.outbox import message_id_domain, queue_message
from crm.models import Branch, EmailKind, FollowUp, Lead, OutboxEmail, StaffUser
from crm.platform.database import utcnow, write_transaction
from crm.platform.extensions import db


@dataclass(frozen=True)
class DueFollowUp:
    follow_up_id: int
    lead_id: int
    lead_name: str
    lead_reference: str
    branch_city: str
    due_at: datetime
    note: str | None
    overdue: bool  # due before today began


@dataclass(frozen=True)
class DigestOutcome:
    queued: int
    already_sent: int
    nothing_due: int


def staff_zone(user: StaffUser) -> ZoneInfo:
    return branch_zone(user.branch)


def local_day(user: StaffUser, now: datetime) -> tuple[date, datetime, datetime]:
    """The person's date at ``now``, and when that day starts and ends, in UTC."""
    zone = staff_zone(user)
    today = now.astimezone(zone).date()
    start = datetime.combine(today, time.min, tzinfo=zone)
    end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=zone)
    return today, start.astimezone(now.tzinfo), end.astimezone(now.tzinfo)


def due_follow_ups(user: StaffUser, now: datetime) -> list[DueFollowUp]:
    """The person's open follow-ups due before the end of their today, oldest first.

    Read through the branch scope like every staff read: someone moved to another branch is
    not sent the old branch's leads. Follow-ups on erased leads are left out: there is nobody
    left to call.
    """
    _today, start, end = local_day(user, now)
    rows = db.session.execute(
        visible_leads(user)
        .join(FollowUp, FollowUp.lead_id == Lead.id)
        .join(Branch, Lead.branch_id == Branch.id)
        .with_only_columns(FollowUp, Lead, Branch.city)
        .where(
            FollowUp.assignee_id == user.id,
            FollowUp.done_at.is_(None),
            FollowUp.due_at < end,
            Lead.erased_at.is_(None),
        )
        .order_by(FollowUp.due_at, FollowUp.id)
    ).all()
    return [
        DueFollowUp(
            follow_up_id=follow_up.id,
            lead_id=lead.id,
            lead_name=lead.name,
            lead_reference=lead.reference,
            branch_city=city,
            due_at=follow_up.due_at,
            note=follow_up.note,
            overdue=follow_up.due_at < start,
        )
        for follow_up, lead, city in rows
    ]


def digest_message_id(user: StaffUser, today: date) -> str:
    return f"<followups-{user.id}-{today:%Y%m%d}@{message_id_domain()}>"


def followup_digest(
    user: StaffUser, items: list[DueFollowUp], *, today: date, zone: str
) -> Message:
    overdue = [item for item in items if item.overdue]
    due_today = [item for item in items if not item.overdue]
    counts = [f"{len(due_today)} due today"]
    if overdue:
        counts.append(f"{len(overdue)} overdue")
    return render_message(
        "followup_digest",
        f"Your follow-ups for {today:%a %d %b}: {', '.join(counts)}",
        user=user,
        overdue=overdue,
        due_today=due_today,
        today=today,
        zone=zone,
    )


def queue_followup_digests(now: datetime | None = None) -> DigestOutcome:
    """Queue one digest for every active staff member with follow-ups due; once per day each."""
    now = now or utcnow()
    has_open = exists().where(FollowUp.assignee_id == StaffUser.id, FollowUp.done_at.is_(None))
    staff = db.session.scalars(
        select(StaffUser).where(StaffUser.active.is_(True), has_open).order_by(StaffUser.id)
    ).all()
    queued = already_sent = nothing_due = 0
    for user in staff:
        items = due_follow_ups(user, now)
        if not items:
            nothing_due += 1
            continue
        today, _start, _end = local_day(user, now)
        if _queue_digest(user, items, today, now):
            queued += 1
        else:
            already_sent += 1
    return DigestOutcome(queued=queued, already_sent=already_sent, nothing_due=nothing_due)


def _queue_digest(user: StaffUser, items: list[DueFollowUp], today: date, now: datetime) -> bool:
    message_id = digest_message_id(user, today)
    zone = staff_zone(user)
    message = followup_digest(user, items, today=today, zone=str(zone))
    try:
        with write_transaction() as session:
            if session.scalar(select(OutboxEmail.id).where(OutboxEmail.message_id == message_id)):
                return False
            queue_message(
                session,
                message,
                kind=EmailKind.FOLLOWUP_DIGEST,
                to=user.email,
                not_before=now,
                message_id=message_id,
            )
    except IntegrityError:
        # Another run queued it between our check and our insert.
        return False
    return True
