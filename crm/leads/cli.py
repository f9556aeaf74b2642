"""``crm leads erase``, ``crm retention purge`` (the privacy operations on the command line) and
``crm followups remind``."""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext

from crm.accounts.staff import staff_by_email
from crm.models import StaffUser
from crm.platform.contact import InvalidContact
from crm.policy import can_erase

NO_MATCH_EXIT = 1


@click.group("leads", cls=AppGroup)
def leads_group() -> None:
    """Lead records."""


@leads_group.command("erase")
@click.option("--phone", help='The phone number the person gave, written any way ("98450 12345").')
@click.option("--email", help="The email address the person gave.")
@click.option(
    "--by",
    "by_email",
    metavar="ADMIN_EMAIL",
    help="Your administrator account, recorded on the erasure (the login name always is).",
)
@click.option("--dry-run", is_flag=True, help="Show what would be erased; change nothing.")
@with_appcontext
def erase_command(
    phone: str | None, email: str | None, by_email: str | None, dry_run: bool
) -> None:
    """Erase a person's details from every branch, on their request.

    Removes their name, phone number, email address, messages, staff notes about them and the
    emails to or about them (unsent ones are cancelled); keeps anonymous lead rows so figures
    stay right. Exits with status 1 when nothing holds that phone number or address.
    """
    from crm.leads.privacy import erase_person

    if (phone is None) == (email is None):
        raise click.UsageError("Give exactly one of --phone or --email.")
    actor = _admin(by_email) if by_email else None
    try:
        report = erase_person(
            phone=phone, email=email, actor=actor, operator=_operator(), dry_run=dry_run
        )
    except InvalidContact as error:
        hint = "--phone" if phone else "--email"
        raise click.BadParameter(str(error), param_hint=hint) from error
    if not report.matched:
        what = "phone number" if phone else "email address"
        click.echo(
            f"Nothing to erase: no lead, enquiry or email holds that {what} "
            "(it was erased before, or never given to us)."
        )
        raise SystemExit(NO_MATCH_EXIT)
    for line in report.lines():
        click.echo(line)


@leads_group.command("access")
@click.option("--phone", help='The phone number the person gave, written any way ("98450 12345").')
@click.option("--email", help="The email address the person gave.")
@click.option(
    "--by",
    "by_email",
    metavar="ADMIN_EMAIL",
    help="Your administrator account, recorded on the request (the login name always is).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the JSON to this new file and the readable page beside it (.html); "
    "without it, the JSON goes to standard output.",
)
@with_appcontext
def access_command(
    phone: str | None, email: str | None, by_email: str | None, output: Path | None
) -> None:
    """Everything held about a person at every branch, on their request (DPDP Act, s. 11).

    Leads, enquiries with the consent given, timelines, follow-ups and the emails sent to them;
    the request is recorded on each of their leads.
    """
    from crm.leads.access import access_html, access_person

    if (phone is None) == (email is None):
        raise click.UsageError("Give exactly one of --phone or --email.")
    actor = _admin(by_email) if by_email else None
    try:
        report = access_person(phone=phone, email=email, actor=actor, operator=_operator())
    except InvalidContact as error:
        hint = "--phone" if phone else "--email"
        raise click.BadParameter(str(error), param_hint=hint) from error
    document = json.dumps(report.data, indent=2, ensure_ascii=False) + "\n"
    found = (
        f"Found {len(report.leads)} lead(s): {', '.join(report.leads)}; the request is recorded "
        "on each."
        if report.leads
        else "Nothing is held under that phone number or address; the answer says so."
    )
    if output is None:
        click.echo(document, nl=False)
        click.echo(found, err=True)
        return
    page = output.with_suffix(".html")
    for path in (output, page):
        if path.exists():
            raise click.ClickException(f"{path} already exists; choose another file.")
    for path, text in ((output, document), (page, access_html(report))):
        _write_private(path, text)
    click.echo(f"Wrote {output} and {page}. {found}")


def _write_private(path: Path, text: str) -> None:
    """A new file only its owner can read: the person's data never lands in a shared one."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as error:
        raise click.ClickException(f"{path} already exists; choose another file.") from error
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


@click.group("retention", cls=AppGroup)
def retention_group() -> None:
    """Keeping personal data no longer than needed."""


@retention_group.command("purge")
@click.option("--dry-run", is_flag=True, help="Show what would be purged; change nothing.")
@with_appcontext
def purge_command(dry_run: bool) -> None:
    """Anonymise lost and spam leads untouched for RETENTION_DAYS; empty old sent emails."""
    from crm.leads.retention import purge_expired

    for line in purge_expired(dry_run=dry_run).lines():
        click.echo(line)


def _admin(address: str) -> StaffUser:
    user = staff_by_email(address)
    if user is None or not can_erase(user):
        raise click.BadParameter("not an active administrator account.", param_hint="--by")
    return user


def _operator() -> str:
    """Who ran the command, as the operating system knows them (through sudo too)."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    sudo = os.environ.get("SUDO_USER")
    return f"{login} (sudo by {sudo})" if sudo and sudo != login else login


@leads_group.command("escalate")
@with_appcontext
def escalate_command() -> None:
    """Email a branch's managers about each new lead nobody has answered within the response
    target (in opening hours). Run it every few minutes: a lead is escalated only once."""
    from flask import current_app

    from crm.leads.escalation import escalate_late_leads
    from crm.platform.database import utcnow

    escalated = escalate_late_leads(utcnow(), current_app.config["RESPONSE_TARGET_MINUTES"])
    click.echo(f"Late leads escalated: {len(escalated)}.")
    if escalated:
        click.echo("The emails go out with the next `crm outbox send`.")


@click.group("followups", cls=AppGroup)
def followups_group() -> None:
    """Follow-up reminders."""


@followups_group.command("remind")
@with_appcontext
def remind_command() -> None:
    """Email each staff member their follow-ups due today and overdue (once a day each)."""
    from crm.leads.digest import queue_followup_digests

    outcome = queue_followup_digests()
    click.echo(
        f"Follow-up reminders queued: {outcome.queued}; "
        f"already sent today: {outcome.already_sent}; "
        f"staff with nothing due: {outcome.nothing_due}."
    )
    if outcome.queued:
        click.echo("They go out with the next `crm outbox send`.")
