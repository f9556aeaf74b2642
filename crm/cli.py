"""The ``crm`` command: Flask's commands (run, db, shell, routes) plus the clinic's own."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup, FlaskGroup, ScriptInfo, with_appcontext

from crm import create_app

# Commands that never serve or link to a page: their app is built without the pages
# (``create_app(web=False)``), which are a third of a command's start-up.
DATA_COMMANDS = frozenset({"export"})


class ClinicGroup(FlaskGroup):
    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in DATA_COMMANDS:
            ctx.ensure_object(ScriptInfo).data["web"] = False
        return super().get_command(ctx, name)


def _create_app() -> Flask:
    context = click.get_current_context(silent=True)
    info = context.find_object(ScriptInfo) if context is not None else None
    return create_app(web=info.data.get("web", True) if info is not None else True)


@click.group(cls=ClinicGroup, create_app=_create_app, add_version_option=False)
def cli() -> None:
    """Run and manage the clinic's website and CRM."""


def register_commands(app: Flask) -> None:
    """Our commands live on ``app.cli``, so ``crm``, ``flask`` and test runners all see them."""
    from crm.backup.cli import backup_command, restore_command
    from crm.leads.appointment_cli import appointments_group
    from crm.leads.cli import followups_group, leads_group, retention_group
    from crm.leads.export.cli import export_command
    from crm.mail.cli import outbox_group

    app.cli.add_command(seed_command)
    app.cli.add_command(users_group)
    app.cli.add_command(export_command)
    app.cli.add_command(outbox_group)
    app.cli.add_command(followups_group)
    app.cli.add_command(leads_group)
    app.cli.add_command(retention_group)
    app.cli.add_command(appointments_group)
    # Flask-Migrate registered its "db" group on app.cli (migrate.init_app runs first).
    db_group = app.cli.commands["db"]
    assert isinstance(db_group, click.Group)
    db_group.add_command(backup_command)
    db_group.add_command(restore_command)


@click.command("seed")
@click.option("--demo", is_flag=True, help="Also create demo staff accounts and demo leads.")
@click.option("--demo-leads", default=150, show_default=True, help="Demo leads per branch.")
@with_appcontext
def seed_command(demo: bool, demo_leads: int) -> None:
    """Create the branches if missing (safe to run again); --demo adds a living demo CRM."""
    from crm.clinic.seed import seed_branches

    added = seed_branches()
    click.echo(f"Branches added: {', '.join(added)}" if added else "Branches already present.")
    if not demo:
        return
    from crm.leads.demo import seed_demo

    accounts, leads = seed_demo(leads_per_branch=demo_leads)
    if accounts:
        click.echo("Demo staff accounts (passwords are shown only this once):")
        for account in accounts:
            where = account.branch or "all branches"
            click.echo(f"  {account.role:<8} {account.email:<45} {account.password}  ({where})")
    else:
        click.echo("Demo staff accounts already exist; their passwords were shown when created.")
    if leads:
        click.echo(f"Demo leads added: {leads}")
    else:
        click.echo("Demo leads skipped: the database already has leads.")


@click.group("users", cls=AppGroup)
def users_group() -> None:
    """Manage staff accounts."""


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "manager", "agent"]))
@click.option("--branch", "branch_slug", help="Branch slug (not for admins).")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input (it never appears in the process list).",
)
@with_appcontext
def users_create(
    email: str, name: str, role: str, branch_slug: str | None, password_stdin: bool
) -> None:
    """Create a staff account."""
    from crm.accounts.staff import AccountError, create_staff_user

    if not password_stdin:
        raise click.UsageError("Pass --password-stdin and the password on standard input.")
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = create_staff_user(
            email=email, name=name, role=role, branch_slug=branch_slug, password=password
        )
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")
