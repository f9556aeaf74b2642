"""Exports as staff and operators get them: through the Exports page or ``crm export``."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from openpyxl import load_workbook
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from crm.database import utcnow
from crm.extensions import db
from crm.leads.capture import Submission, capture_lead
from crm.models import ExportRecord
from tests.helpers import form_fields

_serial = iter(range(100_000, 999_999))


def capture(
    app: Flask,
    branch: str,
    *,
    name: str = "Test Person",
    phone: str | None = None,
    email: str | None = None,
    interest: str | None = "back_pain",
    message: str | None = "Please call me.",
    source_page: str | None = "/",
    utm: dict[str, str] | None = None,
    at: datetime | None = None,
) -> int:
    """One reach-out submission, stored by the intake exactly as the website stores it."""
    serial = next(_serial)
    with app.app_context():
        result = capture_lead(
            Submission(
                name=name,
                phone=phone or f"+9197{serial:08d}",
                email=email,
                branch_slug=branch,
                interest=interest,
                message=message,
                submission_token=f"export-test-{serial}-xxxxxxxx",
                consent_version="2026-11-01",
                received_at=at or utcnow(),
                source_page=source_page,
                utm=utm or {},
            )
        )
        return result.lead_id


def export_form(client: FlaskClient) -> dict[str, str]:
    """The export form as the page renders it (CSRF token and default choices)."""
    page = client.get("/staff/exports")
    assert page.status_code == 200, page.status_code
    return form_fields(page.get_data(as_text=True), ("action", "/staff/exports"))


def download(client: FlaskClient, **fields: str) -> TestResponse:
    """Fill the Exports page's form as a person would and press Download."""
    data = export_form(client)
    data.update(fields)
    return client.post("/staff/exports", data=data)


def forged_download(client: FlaskClient, pairs: list[tuple[str, str]]) -> TestResponse:
    """A hand-made POST: any fields, repeated ones included, with a valid CSRF token."""
    token = export_form(client)["csrf_token"]
    return client.post("/staff/exports", data=MultiDict([("csrf_token", token), *pairs]))


def cli_export(runner: FlaskCliRunner, *args: str) -> bytes:
    result = runner.invoke(args=["export", *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def csv_table(data: bytes) -> list[list[str]]:
    """Header and rows, read the way a program reads the file: csv module, utf-8-sig."""
    assert data.startswith(b"\xef\xbb\xbf"), "CSV exports start with a UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def csv_records(data: bytes) -> list[dict[str, str]]:
    header, *rows = csv_table(data)
    return [dict(zip(header, row, strict=True)) for row in rows]


def xlsx_sheet(data: bytes) -> Any:
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Leads"]
    return workbook["Leads"]


def xlsx_records(data: bytes) -> list[dict[str, Any]]:
    rows = list(xlsx_sheet(data).iter_rows(values_only=True))
    header, *body = rows
    return [dict(zip(header, row, strict=True)) for row in body]


def export_records(app: Flask) -> list[ExportRecord]:
    with app.app_context():
        records = list(db.session.scalars(select(ExportRecord).order_by(ExportRecord.id)))
        db.session.expunge_all()
        return records
