"""``crm db backup`` and ``crm db restore``, added to Flask-Migrate's ``db`` group."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from crm.backup.files import BackupError


@click.command("backup")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the backup to this new file instead of a time-named one in CRM_BACKUP_DIR.",
)
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    help="Keep the newest N backups of the folder, removing older ones [default: BACKUP_KEEP].",
)
@with_appcontext
def backup_command(output: Path | None, keep: int | None) -> None:
    """Back the database up while the site runs: checked, compressed, private."""
    from crm.backup.run import take_backup

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        report = take_backup(app, output=output, keep=keep or app.config["BACKUP_KEEP"])
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    for line in report.lines():
        click.echo(line)


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds leads.")
@with_appcontext
def restore_command(file: Path, force: bool) -> None:
    """Restore a backup into this (empty) database; then run `crm db upgrade`."""
    from crm.backup.run import restore_backup

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        report = restore_backup(app, file, force=force)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    for line in report.lines():
        click.echo(line)
