"""Running an export: record it, stream it, and record how it ended."""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import joinedload

from crm.clinic.branches import branch_zone
from crm.leads.export.filters import ExportRefused, export_filename, resolve
from crm.leads.export.rows import lead_rows
from crm.leads.export.shaping import Columns, Shape, batch_shaper
from crm.leads.export.writers import csv_chunks, xlsx_chunks, xlsx_rows
from crm.leads.filters import LeadFilters
from crm.models import ExportFormat, ExportRecord, ExportStatus, Role, StaffUser
from crm.platform.database import utcnow, write_transaction
from crm.platform.extensions import db
from crm.policy import sees_all_branches

CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass
class LeadExport:
    """An export that has been recorded and is ready to stream. ``chunks()`` runs it once."""

    record_id: int
    filename: str
    format: ExportFormat
    query: Select[Any]
    shape: Shape
    batch_rows: int
    row_count: int = field(default=0, init=False)

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]

    def chunks(self) -> Generator[bytes, None, None]:
        """The file's bytes. The export record is completed after the last chunk, or marked
        interrupted (the reader went away) or failed, with the rows produced until then."""
        batches = self._batches()
        try:
            if self.format == ExportFormat.CSV:
                yield from csv_chunks(batches)
            else:
                yield from xlsx_chunks(xlsx_rows(batches))
        except GeneratorExit:
            batches.close()
            self._finish(ExportStatus.INTERRUPTED)
            raise
        except BaseException:
            batches.close()
            db.session.rollback()
            self._finish(ExportStatus.FAILED)
            raise
        self._finish(ExportStatus.COMPLETED)

    def _batches(self) -> Iterator[Columns]:
        # Executed on the session's connection as plain Core: rows are tuples, never entities.
        connection = db.session.connection()
        partitions: Iterator[Sequence[Any]]
        if connection.dialect.supports_server_side_cursors:
            # yield_per streams from a server-side cursor (PostgreSQL).
            result = connection.execute(
                self.query, execution_options={"yield_per": self.batch_rows}
            )
            partitions = result.partitions()
        else:
            # SQLite reads step by step whatever the options, and nothing reads ahead of a
            # plain execution: its cursor's own tuples save building a Row for every row
            # (a few per cent of a large export's time).
            result = connection.execute(self.query)
            partitions = iter(partial(result.cursor.fetchmany, self.batch_rows), [])
        try:
            shape = self.shape
            for partition in partitions:
                if partition:
                    columns = shape(partition)
                    self.row_count += len(partition)
                    yield columns
        finally:
            result.close()

    def _finish(self, status: ExportStatus) -> None:
        with write_transaction() as session:
            session.execute(
                update(ExportRecord)
                .where(ExportRecord.id == self.record_id)
                .values(status=status.value, row_count=self.row_count, finished_at=utcnow())
            )


def start_export(
    actor: StaffUser | None,
    filters: LeadFilters,
    file_format: str,
    *,
    ran_by: str | None = None,
    batch_rows: int = 200,
    now: datetime | None = None,
) -> LeadExport:
    """Check and record an export; the rows are read when its ``chunks()`` are.

    ``actor`` is the staff member exporting, limited to their branch scope. ``None`` is the
    system itself (the command line): every branch, and ``ran_by`` must say who ran it.
    """
    try:
        chosen = ExportFormat(file_format)
    except ValueError:
        raise ExportRefused("Choose CSV or XLSX.") from None
    if actor is None and not ran_by:
        raise ValueError("an export by the system must say who ran it (ran_by)")
    # The system is not a person: a transient stand-in with the administrators' scope, never
    # added to the session, so ``visible_leads`` stays the one scoping rule for every export.
    exporter = actor if actor is not None else StaffUser(role=Role.ADMIN, branch_id=None)
    now = now or utcnow()
    scope = resolve(exporter, filters, now)
    zone = branch_zone(scope.branch)
    filename = export_filename(scope.branch, filters, now.astimezone(zone).date(), chosen.value)
    shape = batch_shaper(scope.branches, _staff_names(), as_text=chosen == ExportFormat.CSV)
    with write_transaction() as session:
        record = ExportRecord(
            staff_id=actor.id if actor is not None else None,
            ran_by=ran_by or exporter.email,
            branch_id=scope.branch.id if scope.branch else None,
            filters=_described(filters),
            format=chosen.value,
            status=ExportStatus.STARTED,
            row_count=0,
            started_at=now,
        )
        session.add(record)
        session.flush()
        record_id = record.id
    return LeadExport(
        record_id=record_id,
        filename=filename,
        format=chosen,
        query=lead_rows(scope.query, now),
        shape=shape,
        batch_rows=batch_rows,
    )


def _described(filters: LeadFilters) -> dict[str, str]:
    """The filters for the record, the assignee by email: ids mean nothing to a reader."""
    described = filters.described()
    if filters.assignee.isdigit():
        person = db.session.get(StaffUser, int(filters.assignee))
        described["assignee"] = person.email if person is not None else filters.assignee
    return described


def _staff_names() -> dict[int, str]:
    return {
        person_id: name
        for person_id, name in db.session.execute(select(StaffUser.id, StaffUser.name))
    }


def visible_export_records(
    user: StaffUser, *, before: int | None = None, limit: int = 50
) -> tuple[list[ExportRecord], int | None]:
    """A page of export records, newest first, and the cursor of the next older page (None on
    the last page). Administrators see every export; a manager sees their own branch's."""
    query = select(ExportRecord).options(
        joinedload(ExportRecord.branch), joinedload(ExportRecord.staff)
    )
    if not sees_all_branches(user):
        query = query.where(ExportRecord.branch_id == user.branch_id)
    if before is not None:
        query = query.where(ExportRecord.id < before)
    records = list(db.session.scalars(query.order_by(ExportRecord.id.desc()).limit(limit + 1)))
    # One row more than a page tells whether an older page exists without a second query.
    older = records[limit - 1].id if len(records) > limit else None
    return records[:limit], older
