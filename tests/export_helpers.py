"""Exports as staff and operators get them: through the Exports page or ``crm export``."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from openpyxl import load_workbook
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from crm.models import ExportRecord
from crm.platform.extensions import db
from tests.helpers import form_fields
from tests.staff_helpers import make_lead


def capture(app: Flask, branch: str, **fields: Any) -> int:
    """One reach-out submission, stored by the intake exactly as the website stores it."""
    return make_lead(app, branch, **fields)


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
