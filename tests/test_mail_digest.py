"""``crm followups remind``: each person's due and overdue follow-ups, once a day, by email."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crm.accounts.staff import create_staff_user
from crm.leads.digest import queue_followup_digests
from crm.models import Branch, FollowUp, Lead, OutboxEmail, StaffUser
from crm.platform.database import utcnow, write_transaction
from crm.platform.extensions import db
from tests.smtp import HOST, SMTPServer, free_port

INDIA = ZoneInfo("Asia/Kolkata")
PASSWORD = "a long enough password"


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def app_config(smtp_port: int) -> dict[str, object]:
    return {"MAIL_SERVER": HOST, "MAIL_PORT": smtp_port}


def staff(email: str, role: str = "agent", branch: str | None = "bengaluru") -> int:
    user = create_staff_user(
        email=email, name=email.split("@")[0].title(), role=role, branch_slug=branch,
        password=PASSWORD,
    )  # fmt: skip
    return user.id


def lead(name: str, branch: str = "bengaluru", *, erased: bool = False) -> int:
    with write_transaction() as session:
        branch_id = session.scalar(select(Branch.id).where(Branch.slug == branch))
        row = Lead(
            branch_id=branch_id,
            name=name,
            phone="" if erased else "+919845012345",
            status="contacted",
            erased_at=utcnow() if erased else None,
        )
        session.add(row)
        session.flush()
        return row.id


def follow_up(lead_id: int, assignee_id: int | None, due_at: datetime, **extra) -> int:
    with write_transaction() as session:
        row = FollowUp(lead_id=lead_id, assignee_id=assignee_id, due_at=due_at, **extra)
        session.add(row)
        session.flush()
        return row.id


def start_of_day(moment: datetime, zone: ZoneInfo) -> datetime:
    local = moment.astimezone(zone).date()
    return datetime.combine(local, time.min, tzinfo=zone).astimezone(UTC)


def linked_leads(text: str) -> set[int]:
    return {int(found) for found in re.findall(r"http://clinic\.test/staff/leads/(\d+)", text)}


def test_each_person_gets_exactly_their_due_and_overdue_follow_ups_once_a_day(
    runner, app, smtp_port
):
    with app.app_context():
        asha = staff("asha@clinic.example")
        bala = staff("bala@clinic.example")
        dev = staff("dev@clinic.example")
        esha = staff("esha@clinic.example", role="admin", branch=None)
        farah = staff("farah@clinic.example")
        with write_transaction() as session:
            session.get(StaffUser, dev).active = False

        today = start_of_day(utcnow(), INDIA)
        overdue = lead("Olga Overdue")
        early = lead("Esha Early")
        late = lead("Lata Late")
        tomorrow = lead("Tara Tomorrow")
        done = lead("Dina Done")
        erased = lead("", erased=True)
        balas = lead("Bhim Bala's")
        devs = lead("Divya Dev's")
        admins = lead("Harsha Hyderabad", branch="hyderabad")
        nobodys = lead("Nina Nobody's")
        farahs = lead("Farhan Later")

        follow_up(overdue, asha, today - timedelta(days=2), note="Call after 5 pm")
        follow_up(early, asha, today + timedelta(minutes=1))
        follow_up(late, asha, today + timedelta(hours=23, minutes=58))
        follow_up(tomorrow, asha, today + timedelta(days=1, minutes=1))
        follow_up(done, asha, today - timedelta(days=1), done_at=utcnow())
        follow_up(erased, asha, today - timedelta(days=1))
        follow_up(balas, bala, today - timedelta(hours=1))
        follow_up(devs, dev, today + timedelta(hours=1))
        follow_up(admins, esha, today + timedelta(hours=12))
        follow_up(nobodys, None, today + timedelta(hours=1))
        follow_up(farahs, farah, today + timedelta(days=3))

    first = runner.invoke(args=["followups", "remind"])
    assert first.exit_code == 0, first.output
    assert "queued: 3; already sent today: 0; staff with nothing due: 1." in first.output
    second = runner.invoke(args=["followups", "remind"])
    assert "queued: 0; already sent today: 3; staff with nothing due: 1." in second.output

    with SMTPServer(port=smtp_port) as server:
        assert "Sent 3," in runner.invoke(args=["outbox", "send"]).output
        # Sent or not, the day's digest is not queued again.
        third = runner.invoke(args=["followups", "remind"])
        assert "queued: 0; already sent today: 3" in third.output
        assert "Sent 0," in runner.invoke(args=["outbox", "send"]).output
        received = {message.rcpt_tos[0]: message for message in server.messages}

    assert sorted(received) == ["asha@clinic.example", "bala@clinic.example", "esha@clinic.example"]

    mail = received["asha@clinic.example"]
    assert re.fullmatch(
        r"Your follow-ups for \w{3} \d{2} \w{3}: 2 due today, 1 overdue", mail.message["Subject"]
    )
    text, html = mail.part("plain"), mail.part("html")
    assert linked_leads(text) == linked_leads(html) == {overdue, early, late}
    assert text.index("OVERDUE (1)") < text.index("Olga Overdue") < text.index("DUE TODAY (2)")
    assert text.index("Esha Early") < text.index("Lata Late")
    assert "Note: Call after 5 pm" in text
    for other in ("Tara Tomorrow", "Dina Done", "Bhim", "Divya", "Harsha", "Nina", "Farhan"):
        assert other not in text and other not in html

    mail = received["bala@clinic.example"]
    assert linked_leads(mail.part("plain")) == {balas}
    assert mail.message["Subject"].endswith(": 0 due today, 1 overdue")

    mail = received["esha@clinic.example"]
    assert linked_leads(mail.part("plain")) == {admins}
    assert "Hyderabad" in mail.part("plain")

    with app.app_context():
        # The next day brings a new digest for what is still open.
        outcome = queue_followup_digests(utcnow() + timedelta(days=1))
        # Farah's is still not due, and Dev, being inactive, gets nothing.
        assert (outcome.queued, outcome.already_sent, outcome.nothing_due) == (3, 0, 1)


def test_today_is_the_person_s_own_day(app_ctx):
    with write_transaction() as session:
        hyderabad = session.scalar(select(Branch).where(Branch.slug == "hyderabad"))
        hyderabad.time_zone = "America/New_York"
    india = staff("india@clinic.example")
    new_york = staff("ny@clinic.example", role="manager", branch="hyderabad")
    # 03:00 UTC on 10 March 2026: 08:30 on the 10th in India, 23:00 on the 9th in New York.
    now = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
    due = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)  # 10:30 in India, 01:00 tomorrow in New York
    for user, branch in ((india, "bengaluru"), (new_york, "hyderabad")):
        follow_up(lead("Same Time", branch), user, due)
        follow_up(lead("Yesterday", branch), user, datetime(2026, 3, 9, 4, 0, tzinfo=UTC))

    outcome = queue_followup_digests(now)
    assert (outcome.queued, outcome.nothing_due) == (2, 0)
    digests = {
        row.to_address: row
        for row in db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.kind == "followup_digest")
        )
    }
    assert digests["india@clinic.example"].subject == (
        "Your follow-ups for Tue 10 Mar: 1 due today, 1 overdue"
    )
    assert "Same Time" in digests["india@clinic.example"].text_body
    # In New York it is still the 9th: the morning one is due today, the other tomorrow.
    ny = digests["ny@clinic.example"]
    assert ny.subject == "Your follow-ups for Mon 09 Mar: 1 due today"
    assert "Yesterday" in ny.text_body and "Same Time" not in ny.text_body
    assert ny.message_id.startswith(f"<followups-{new_york}-20260309@")
    assert digests["india@clinic.example"].message_id.startswith(f"<followups-{india}-20260310@")

    # Half an hour later it is still the 9th in New York and the 10th in India: nothing new.
    assert queue_followup_digests(now + timedelta(minutes=30)).queued == 0
    # Five hours later it is the 10th there too: a new day, a new digest for New York only.
    later = queue_followup_digests(now + timedelta(hours=5))
    assert (later.queued, later.already_sent) == (1, 1)
    ids = db.session.scalars(
        select(OutboxEmail.message_id)
        .where(OutboxEmail.to_address == "ny@clinic.example")
        .order_by(OutboxEmail.id)
    ).all()
    assert [found.split("@")[0] for found in ids] == [
        f"<followups-{new_york}-20260309",
        f"<followups-{new_york}-20260310",
    ]


def test_someone_moved_to_another_branch_is_not_sent_the_old_branch_s_leads(app_ctx):
    mover = staff("mover@clinic.example")
    now = utcnow()
    old = follow_up(lead("Old Branch Person"), mover, now - timedelta(hours=1))
    with write_transaction() as session:
        person = session.get(StaffUser, mover)
        person.branch_id = session.scalar(select(Branch.id).where(Branch.slug == "hyderabad"))
    new = follow_up(lead("New Branch Person", "hyderabad"), mover, now - timedelta(hours=1))
    queue_followup_digests(now)
    digest = db.session.scalar(
        select(OutboxEmail).where(OutboxEmail.to_address == "mover@clinic.example")
    )
    assert linked_leads(digest.text_body) == {db.session.get(FollowUp, new).lead_id}
    assert db.session.get(FollowUp, old).lead_id not in linked_leads(digest.html_body)
