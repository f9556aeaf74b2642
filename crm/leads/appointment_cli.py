"""``crm appointments remind [--dry-run]``."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from crm.leads.appointment_reminders import queue_reminders


@click.group("appointments", cls=AppGroup)
def appointments_group() -> None:
    """Appointment reminders."""


@appointments_group.command("remind")
@click.option("--dry-run", is_flag=True, help="Say what would be queued; queue nothing.")
@with_appcontext
def remind_command(dry_run: bool) -> None:
    """Queue tomorrow's reminders (each branch's tomorrow, in its own time zone)."""
    run = queue_reminders(dry_run=dry_run)
    verb = "would be queued" if dry_run else "queued"
    click.echo(
        f"Appointment reminders {verb}: {len(run.queued)}; "
        f"patients without an email address: {len(run.no_email)}."
    )
    if run.queued and not dry_run:
        click.echo("They go out with the next `crm outbox send`.")
