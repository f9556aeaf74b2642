"""The ``crm`` command line: seeding and staff accounts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from crm.accounts.staff import password_matches
from crm.cli import cli
from crm.models import Branch, Enquiry, Lead, LeadStatus, StaffUser
from crm.platform.extensions import db


def test_seed_adds_missing_branches_and_is_idempotent(runner, app):
    with app.app_context():
        db.session.execute(Branch.__table__.delete())
        db.session.commit()
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    assert "Branches added: bengaluru, hyderabad" in first.output
    second = runner.invoke(args=["seed"])
    assert "Branches already present." in second.output
    with app.app_context():
        assert db.session.scalars(select(Branch.slug).order_by(Branch.slug)).all() == [
            "bengaluru",
            "hyderabad",
        ]


def test_seed_does_not_overwrite_a_branch_the_clinic_edited(runner, app):
    with app.app_context():
        branch = db.session.scalar(select(Branch).where(Branch.slug == "hyderabad"))
        branch.phone = "+914011112222"
        db.session.commit()
    runner.invoke(args=["seed"])
    with app.app_context():
        assert db.session.scalar(select(Branch.phone).where(Branch.slug == "hyderabad")) == (
            "+914011112222"
        )


def test_seed_demo_creates_staff_once_and_a_living_crm(runner, app):
    result = runner.invoke(args=["seed", "--demo", "--demo-leads", "60"])
    assert result.exit_code == 0, result.output
    accounts = re.findall(r"^\s+(admin|manager|agent)\s+(\S+)\s+(\S+)\s+\(", result.output, re.M)
    assert len(accounts) == 5
    assert "Demo leads added: 120" in result.output
    with app.app_context():
        role, email, password = accounts[1]
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
        assert user.role == role and password_matches(user, password)
        # every stage of the pipeline shows in each branch, however few leads were asked for
        stages = db.session.execute(select(Branch.slug, Lead.status).join(Lead).distinct()).all()
        for slug in ("bengaluru", "hyderabad"):
            shown = {status for branch, status in stages if branch == slug}
            assert shown == {status.value for status in LeadStatus}
        per_branch = db.session.execute(
            select(Branch.slug, func.count(Lead.id)).join(Lead).group_by(Branch.slug)
        ).all()
        assert dict(per_branch) == {"bengaluru": 60, "hyderabad": 60}
        assert db.session.scalar(select(func.count(Enquiry.id))) >= 120

    again = runner.invoke(args=["seed", "--demo"])
    assert "already exist" in again.output
    assert "Demo leads skipped" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count(StaffUser.id))) == 5


def test_users_create_reads_the_password_from_stdin(runner, app):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Asha@Clinic.Example",
            "--name",
            "Asha Rao",
            "--role",
            "agent",
            "--branch",
            "hyderabad",
            "--password-stdin",
        ],
        input="correct horse battery\n",
    )
    assert result.exit_code == 0, result.output
    assert "correct horse" not in result.output
    with app.app_context():
        user = db.session.scalar(select(StaffUser))
        assert user.email == "asha@clinic.example"
        assert user.branch.slug == "hyderabad"
        assert password_matches(user, "correct horse battery")
        assert user.password_hash.startswith("scrypt:")


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--role", "agent", "--branch", "hyderabad"], "short\n", "at least 12 characters"),
        (["--role", "agent"], "long enough password\n", "needs a branch"),
        (
            ["--role", "admin", "--branch", "hyderabad"],
            "long enough password\n",
            "do not give them one",
        ),
        (
            ["--role", "manager", "--branch", "mumbai"],
            "long enough password\n",
            "no branch 'mumbai'",
        ),
    ],
)
def test_users_create_refuses_bad_accounts_clearly(runner, app, args, stdin, message):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "x@clinic.example",
            "--name",
            "X",
            *args,
            "--password-stdin",
        ],
        input=stdin,
    )
    assert result.exit_code != 0
    assert message in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(StaffUser.id))) == 0


def test_users_create_refuses_a_duplicate_email(runner, app):
    args = [
        "users",
        "create",
        "--email",
        "x@clinic.example",
        "--name",
        "X",
        "--role",
        "admin",
        "--password-stdin",
    ]
    assert runner.invoke(args=args, input="long enough password\n").exit_code == 0
    again = runner.invoke(args=args, input="long enough password\n")
    assert again.exit_code != 0 and "already exists" in again.output


def test_the_crm_command_includes_flask_and_migration_commands(runner):
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ["db", "run", "seed", "users"]:
        assert re.search(rf"^\s+{command}\s", result.output, re.M), command
