"""One owner for each rule, checked in the source: the outbox does not know about leads, every
lead event is built by ``record_event``, every status write is ``change_lead_status``'s; and the
system's own status moves (release, reopen) behave as the pipeline's named moves."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import select

import crm
from crm.models import EventKind, Lead, LeadEvent, LeadStatus, StaffUser
from crm.platform.extensions import db
from tests.helpers import submit_reach_out
from tests.staff_helpers import csrf_token, enter_as, lead_state, make_staff

CRM = Path(crm.__file__).resolve().parent


def _modules(root: Path, under: str = ".") -> list[tuple[str, ast.Module]]:
    """(path such as "crm/mail/worker.py", its syntax tree) for each module of root/under."""
    return [
        (path.relative_to(root.parent).as_posix(), ast.parse(path.read_text(encoding="utf-8")))
        for path in sorted((root / under).rglob("*.py"))
    ]


def imports_of_leads(root: Path) -> list[str]:
    """``crm.leads`` imports anywhere in ``root/mail``, as "file: module"."""
    found = []
    for name, tree in _modules(root, "mail"):
        package = name.removesuffix(".py").replace("/", ".").rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    target = node.module or ""
                targets = [target, *(f"{target}.{alias.name}" for alias in node.names)]
            else:
                continue
            found += [
                f"{name}: {t}" for t in targets if t == "crm.leads" or t.startswith("crm.leads.")
            ]
    return found


def lead_event_constructors(root: Path) -> list[str]:
    """Calls of ``LeadEvent(...)`` outside crm/leads/operations.py (record_event's module)."""
    found = []
    for name, tree in _modules(root):
        if name == "crm/leads/operations.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if called == "LeadEvent":
                    found.append(f"{name}:{node.lineno}")
    return found


def lead_status_writes(root: Path) -> list[str]:
    """Writes of a lead's status outside crm/leads/pipeline.py: ``<lead>.status = ...`` (any
    name holding "lead"), ``setattr(<lead>, "status", ...)`` and ``update(Lead).values(status=)``.
    Creating a lead with its first status is not a change and is not counted."""
    found = []
    for name, tree in _modules(root):
        if name == "crm/leads/pipeline.py":
            continue
        for node in ast.walk(tree):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr == "status"
                    and "lead" in ast.unparse(target.value).lower()
                ):
                    found.append(f"{name}:{node.lineno}")
            if isinstance(node, ast.Call):
                source = ast.unparse(node)
                if (
                    isinstance(node.func, ast.Name)
                    and node.func.id == "setattr"
                    and len(node.args) >= 2
                    and "lead" in ast.unparse(node.args[0]).lower()
                    and ast.unparse(node.args[1]) in ("'status'", '"status"')
                ):
                    found.append(f"{name}:{node.lineno}")
                if (
                    isinstance(node.func, ast.Attribute)
                    and node.func.attr == "values"
                    and any(keyword.arg == "status" for keyword in node.keywords)
                    and "update(Lead)" in source
                ):
                    found.append(f"{name}:{node.lineno}")
    return found


def test_the_outbox_imports_nothing_from_the_leads():
    assert imports_of_leads(CRM) == []


def test_every_lead_event_is_built_by_record_event():
    assert lead_event_constructors(CRM) == []


def test_only_change_lead_status_writes_a_lead_status():
    assert lead_status_writes(CRM) == []


def test_the_checks_see_what_they_look_for(tmp_path):
    """Each check finds a planted offence, so an empty answer above means something."""
    root = tmp_path / "crm"
    (root / "mail").mkdir(parents=True)
    (root / "leads").mkdir()
    (root / "mail" / "digest.py").write_text(
        "from crm.leads.queries import visible_leads\nfrom ..leads import capture\n"
    )
    (root / "mail" / "worker.py").write_text(
        "def f(session, lead_id):\n    session.add(LeadEvent(lead_id=lead_id))\n"
    )
    (root / "leads" / "capture.py").write_text(
        "def f(lead, session):\n"
        "    lead.status = 'contacted'\n"
        "    setattr(lead, 'status', 'new')\n"
        "    session.execute(update(Lead).values(status='lost'))\n"
        "    email.status = 'failed'\n"  # an email's status is the outbox's business
    )
    assert imports_of_leads(root) == [
        "crm/mail/digest.py: crm.leads.queries",
        "crm/mail/digest.py: crm.leads.queries.visible_leads",
        "crm/mail/digest.py: crm.leads",
        "crm/mail/digest.py: crm.leads.capture",
    ]
    assert lead_event_constructors(root) == ["crm/mail/worker.py:2"]
    assert lead_status_writes(root) == [
        "crm/leads/capture.py:2",
        "crm/leads/capture.py:3",
        "crm/leads/capture.py:4",
    ]


# --- The system's named moves, through the pages and the form ------------------------------------


def _status_events(app, lead_id):
    with app.app_context():
        return [
            (event.detail, event.actor_id)
            for event in db.session.scalars(
                select(LeadEvent)
                .where(LeadEvent.lead_id == lead_id, LeadEvent.kind == EventKind.STATUS)
                .order_by(LeadEvent.id)
            )
        ]


def test_releasing_from_spam_is_a_named_move_on_the_timeline(client, app):
    assert submit_reach_out(client, json=True).status_code == 201
    manager = make_staff(app, "manager", "bengaluru", name="Bina Manager")
    staff = enter_as(app.test_client(), app, manager)
    with app.app_context():
        lead_id = db.session.scalar(select(Lead.id))
    response = staff.post(
        f"/staff/leads/{lead_id}/status",
        data={"csrf_token": csrf_token(staff), "status": "spam", "version": 1},
    )
    assert response.status_code == 303
    before = lead_state(app, lead_id)

    response = staff.post(
        f"/staff/leads/{lead_id}/release",
        data={"csrf_token": csrf_token(staff), "version": before["version"]},
    )
    assert response.status_code == 303
    after = lead_state(app, lead_id)
    # Marking it spam was a first response, so it comes back as contacted, not new.
    assert after["status"] == LeadStatus.CONTACTED
    assert after["version"] == before["version"] + 1
    with app.app_context():
        manager_id = db.session.scalar(select(StaffUser.id).where(StaffUser.name == "Bina Manager"))
    assert _status_events(app, lead_id)[-1] == (
        {"from": "spam", "to": "contacted", "reason": "released from spam"},
        manager_id,
    )
    page = staff.get(f"/staff/leads/{lead_id}").get_data(as_text=True)
    assert "(released from spam)" in page

    # Released, it is an ordinary new lead: a second release is refused and changes nothing.
    again = staff.post(
        f"/staff/leads/{lead_id}/release",
        data={"csrf_token": csrf_token(staff), "version": after["version"]},
    )
    assert "Only a lead marked as spam can be released." in again.get_data(as_text=True)
    assert lead_state(app, lead_id) == after


def test_a_returning_enquiry_reopens_a_lost_lead_by_the_named_move(client, app):
    assert submit_reach_out(client, json=True).status_code == 201
    with app.app_context():
        lead = db.session.scalars(select(Lead)).one()
        lead.status = LeadStatus.LOST  # set up as a lost lead: the test's own arrangement
        lead.lost_reason = "price"
        db.session.commit()
        lead_id, version = lead.id, lead.version
    assert submit_reach_out(client, json=True).status_code == 201
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        assert (lead.status, lead.lost_reason, lead.version) == (
            LeadStatus.CONTACTED,
            None,
            version + 1,
        )
    assert _status_events(app, lead_id) == [
        ({"from": "lost", "to": "contacted", "reason": "returned with an enquiry"}, None)
    ]


@pytest.mark.parametrize(
    ("move", "current", "target"),
    [
        ("release", "new", "contacted"),  # only a spam lead is released
        ("release", "spam", "visited"),  # and only to new or contacted
        ("reopen", "spam", "contacted"),  # a returning enquiry reopens lost leads only
    ],
)
def test_a_named_move_outside_its_row_is_refused_and_changes_nothing(app, move, current, target):
    from crm.leads.pipeline import SystemMove, TransitionRefused, change_lead_status
    from crm.platform.database import utcnow
    from tests.staff_helpers import make_lead

    lead_id = make_lead(app)
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        lead.status = current  # the test's own arrangement
        db.session.commit()
        version = lead.version
        with pytest.raises(TransitionRefused):
            change_lead_status(db.session, None, lead, target, now=utcnow(), move=SystemMove(move))
        assert (lead.status, lead.version) == (current, version)
        db.session.rollback()
    assert _status_events(app, lead_id) == []
