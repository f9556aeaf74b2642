"""``crm export``: the staff page's export, from the command line, for any branch or all.

The command line acts for the clinic as a whole (no branch limit), so the export record names
the operating-system account and host that ran it instead of a staff member.
"""

from __future__ import annotations

import getpass
import os
import socket
import sys
import tempfile
from collections.abc import Generator
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import click
from flask import current_app
from flask.cli import with_appcontext

from crm.leads.export import ExportRefused, LeadExport, assignee_by_email, start_export
from crm.leads.filters import ALL_BRANCHES, ANY, OPEN, UNASSIGNED, LeadFilters
from crm.models import LeadStatus
from crm.platform.i18n import LANGUAGES

DAY = click.DateTime(formats=["%Y-%m-%d"])


def command_line_identity() -> str:
    """Who is at the keyboard, as far as the system can tell: OS account (and sudo's caller)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid {os.getuid()}"
    caller = os.environ.get("SUDO_USER")
    if caller and caller != user:
        user = f"{user} (sudo by {caller})"
    return f"command line: {user}@{socket.gethostname()}"


@click.command("export")
@click.option(
    "--branch",
    required=True,
    metavar="SLUG",
    help=f"Branch slug, or '{ALL_BRANCHES}' for every branch.",
)
@click.option(
    "--status",
    type=click.Choice([OPEN, ANY, *(status.value for status in LeadStatus)]),
    help="Only leads in this status ('open': new, contacted or appointment booked; "
    f"'{ANY}': every status, spam included). Default: every status but spam, as in the inbox.",
)
@click.option(
    "--since", type=DAY, metavar="YYYY-MM-DD", help="Created on or after this day (branch time)."
)
@click.option(
    "--until", type=DAY, metavar="YYYY-MM-DD", help="Created on or before this day (branch time)."
)
@click.option(
    "--assignee",
    default="",
    metavar="EMAIL",
    help=f"A staff member's email, or '{UNASSIGNED}' for unassigned leads.",
)
@click.option("--source", default="", help="Lead source as on the dashboard, e.g. google, direct.")
@click.option(
    "--language",
    type=click.Choice(list(LANGUAGES)),
    help="Only leads whose latest enquiry is in this language.",
)
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["csv", "xlsx"]),
    help="Default: from the --output name's extension, else csv.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="File to write (readable only by you). Default: standard output.",
)
@with_appcontext
def export_command(
    branch: str,
    status: str | None,
    since: datetime | None,
    until: datetime | None,
    assignee: str,
    source: str,
    language: str | None,
    file_format: str | None,
    output: Path | None,
) -> None:
    """Export leads as CSV or XLSX, like the staff Exports page; recorded like it too."""
    if file_format is None:
        file_format = "xlsx" if output and output.suffix.lower() == ".xlsx" else "csv"
    if output is None and file_format == "xlsx" and sys.stdout.isatty():
        raise click.UsageError("XLSX is binary: pass --output FILE or redirect standard output.")
    try:
        filters = LeadFilters(
            branch=branch.strip().lower(),
            status=status or "",
            since=since.date() if since else None,
            until=until.date() if until else None,
            assignee=assignee_by_email(assignee.strip().lower()),
            source=source.strip().lower(),
            language=language or "",
        )
        export = start_export(
            None,
            filters,
            file_format,
            ran_by=command_line_identity(),
            batch_rows=current_app.config["EXPORT_BATCH_ROWS"],
        )
    except ExportRefused as refusal:
        raise click.ClickException(str(refusal)) from refusal
    if output is None:
        _write(export.chunks(), sys.stdout.buffer)
        where = "standard output"
    else:
        _write_file(export, output)
        where = str(output)
    click.echo(
        f"Exported {export.row_count} leads to {where} (export record {export.record_id}).",
        err=True,
    )


def _write(chunks: Generator[bytes, None, None], stream: BinaryIO) -> None:
    # Closed explicitly when writing fails (a full disk, a closed pipe): the export record
    # then says the export was interrupted, and how far it got.
    with closing(chunks):
        for chunk in chunks:
            stream.write(chunk)
        stream.flush()


def _write_file(export: LeadExport, output: Path) -> None:
    """Written beside the target and renamed into place: a failed export leaves no half file.

    The file holds personal data, so it is created readable by its owner only.
    """
    directory = output.resolve().parent
    descriptor, draft = tempfile.mkstemp(prefix=f".{output.name}.", dir=directory)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            _write(export.chunks(), stream)
            os.fsync(stream.fileno())
        os.replace(draft, output)
    except BaseException:
        Path(draft).unlink(missing_ok=True)
        raise
