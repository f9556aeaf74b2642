"""Retention: personal data is kept no longer than the purpose needs (run daily from cron).

A lead that ended lost or spam and has not been touched for ``RETENTION_DAYS`` is anonymised
exactly as an erasure would. Open leads and patients (visited) are never purged here. Sent
emails lose their bodies after ``OUTBOX_SENT_RETENTION_DAYS``: the row stays (kind, status,
times, message id) so a lead's timeline can still say that an email went out, and when.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from crm.leads.anonymise import Identifiers, apply_anonymisation, plan_anonymisation
from crm.models import Enquiry, Lead, LeadStatus, OutboxEmail, OutboxStatus
from crm.platform.database import utcnow, write_transaction
from crm.platform.extensions import db

PURGED_STATUSES = (LeadStatus.LOST, LeadStatus.SPAM)
# Small transactions: the intake and staff keep writing while a large backlog is purged.
BATCH_SIZE = 100


@dataclass
class RetentionReport:
    leads_cutoff: datetime
    emails_cutoff: datetime
    dry_run: bool
    leads: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    email_bodies: int = 0

    def lines(self, *, limit: int = 100) -> list[str]:
        would = self.dry_run
        cutoff = self.leads_cutoff.strftime("%Y-%m-%d %H:%M UTC")
        if self.leads:
            shown = ", ".join(self.leads[:limit])
            more = f" and {len(self.leads) - limit} more" if len(self.leads) > limit else ""
            verb = "Would anonymise" if would else "Anonymised"
            lines = [
                f"{verb} {len(self.leads)} lost or spam "
                f"{'lead' if len(self.leads) == 1 else 'leads'} untouched since {cutoff}: "
                f"{shown}{more}.",
                "  rows "
                + ("that would change: " if would else "changed: ")
                + ", ".join(f"{table} {self.counts[table]}" for table in sorted(self.counts)),
            ]
        else:
            lines = [f"No lost or spam lead has been left untouched since {cutoff}."]
        emails_cutoff = self.emails_cutoff.strftime("%Y-%m-%d %H:%M UTC")
        verb = "Would delete" if would else "Deleted"
        lines.append(
            f"{verb} the {'body' if self.email_bodies == 1 else 'bodies'} of "
            f"{self.email_bodies} {'email' if self.email_bodies == 1 else 'emails'} "
            f"sent (or given up on) before {emails_cutoff}."
        )
        return lines


def purge_expired(*, now: datetime | None = None, dry_run: bool = False) -> RetentionReport:
    """Anonymise expired leads and empty old sent emails; a dry run only reports."""
    now = now or utcnow()
    config = current_app.config
    report = RetentionReport(
        leads_cutoff=now - timedelta(days=int(config["RETENTION_DAYS"])),
        emails_cutoff=now - timedelta(days=int(config["OUTBOX_SENT_RETENTION_DAYS"])),
        dry_run=dry_run,
    )
    if dry_run:
        _purge_leads_dry(report)
        report.email_bodies = db.session.scalar(
            select(func.count()).select_from(OutboxEmail).where(_old_sent_body(report))
        )
        db.session.rollback()
        return report
    _purge_leads(report, now)
    with write_transaction() as session:
        result = session.execute(
            update(OutboxEmail)
            .where(_old_sent_body(report))
            .values(text_body="", html_body=None)
            .execution_options(synchronize_session=False)
        )
        report.email_bodies = result.rowcount
    return report


def _expired(report: RetentionReport):  # type: ignore[no-untyped-def]
    return select(Lead).where(
        Lead.status.in_(PURGED_STATUSES),
        Lead.erased_at.is_(None),
        Lead.updated_at <= report.leads_cutoff,
    )


def _purge_leads(report: RetentionReport, now: datetime) -> None:
    while True:
        with write_transaction() as session:
            # A lead a member of staff is changing right now is skipped, and its change (a
            # reopening, say) decides whether a later run purges it.
            leads = list(
                session.scalars(
                    _expired(report)
                    .order_by(Lead.id)
                    .limit(BATCH_SIZE)
                    .with_for_update(skip_locked=True)
                )
            )
            if not leads:
                return
            plan = plan_anonymisation(session, leads, spare=_still_used(session, leads))
            apply_anonymisation(
                session,
                plan,
                now=now,
                actor_id=None,
                detail={"reason": "retention", "via": "retention"},
            )
            report.leads.extend(lead.reference for lead in leads)
            report.counts.update(plan.counts())


def _purge_leads_dry(report: RetentionReport) -> None:
    session = db.session()
    last_id = 0
    while True:
        leads = list(
            session.scalars(
                _expired(report).where(Lead.id > last_id).order_by(Lead.id).limit(BATCH_SIZE)
            )
        )
        if not leads:
            return
        plan = plan_anonymisation(session, leads, spare=_still_used(session, leads))
        report.leads.extend(lead.reference for lead in leads)
        report.counts.update(plan.counts())
        last_id = leads[-1].id


def _still_used(session: Session, leads: list[Lead]) -> Identifiers:
    """Phones and addresses of these people that a lead staying in the CRM also holds."""
    ids = [lead.id for lead in leads]
    phones = {lead.phone for lead in leads if lead.phone}
    emails = {lead.email.lower() for lead in leads if lead.email}
    emails |= {
        email.lower()
        for email in session.scalars(select(Enquiry.email).where(Enquiry.lead_id.in_(ids)))
        if email
    }
    phones |= {
        phone
        for phone in session.scalars(select(Enquiry.phone).where(Enquiry.lead_id.in_(ids)))
        if phone
    }
    staying = (Lead.erased_at.is_(None), Lead.id.not_in(ids))
    kept_phones = set(
        session.scalars(select(Lead.phone).where(*staying, Lead.phone.in_(sorted(phones))))
    ) | set(
        session.scalars(
            select(Enquiry.phone)
            .join(Lead, Lead.id == Enquiry.lead_id)
            .where(*staying, Enquiry.phone.in_(sorted(phones)))
        )
    )
    kept_emails = {
        email.lower()
        for email in session.scalars(
            select(Lead.email).where(*staying, func.lower(Lead.email).in_(sorted(emails)))
        )
        if email
    } | {
        email.lower()
        for email in session.scalars(
            select(Enquiry.email)
            .join(Lead, Lead.id == Enquiry.lead_id)
            .where(*staying, func.lower(Enquiry.email).in_(sorted(emails)))
        )
        if email
    }
    return Identifiers(phones=frozenset(kept_phones), emails=frozenset(kept_emails))


def _old_sent_body(report: RetentionReport):  # type: ignore[no-untyped-def]
    """Bodies of emails sent, or given up on, before the cutoff: neither will be sent again
    (a failed one is retried by hand within days, not months)."""
    return (
        OutboxEmail.status.in_([OutboxStatus.SENT, OutboxStatus.FAILED])
        & (func.coalesce(OutboxEmail.sent_at, OutboxEmail.created_at) <= report.emails_cutoff)
        & or_(OutboxEmail.text_body != "", OutboxEmail.html_body.is_not(None))
    )
