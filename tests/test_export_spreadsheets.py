"""Exports as a spreadsheet shows them: the files made by the real entry points (the staff
download, ``crm export``) opened by LibreOffice Calc, saved again by it, and read back cell by
cell with openpyxl; and the XLSX printed to PDF, its pages counted.

Calc's number detection is what turns a phone number such as +919845011001 into the number
919845011001 (Excel does the same). Skipped without LibreOffice, failed where the run
requires its clients (CI).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from crm.leads.export import HEADER
from crm.models import Lead
from crm.platform.extensions import db
from tests.export_helpers import capture, cli_export, download
from tests.libreoffice import convert, csv_import, pdf_pages, soffice_path
from tests.staff_helpers import enter_as, make_staff

pytestmark = pytest.mark.client

LONG_MESSAGE = ("Pain in the lower back after long drives, worse in the morning. " * 40)[:2000]

# (name, phone as stored, phone as the sheet shows it, message)
PEOPLE = [
    ("अनन्या शर्मा", "+919845011001", "+91 98450 11001", "Knee pain"),  # Devanagari
    ("అనన్య రెడ్డి", "+919845011002", "+91 98450 11002", "మోకాలి నొప్పి"),  # Telugu
    ("ಅನನ್ಯ ಗೌಡ", "+919845011003", "+91 98450 11003", "ಬೆನ್ನು ನೋವು"),  # Kannada
    ("+Ravi Kumar", "+919845011004", "+91 98450 11004", "Shoulder"),
    ("-Asha Menon", "+919845011005", "+91 98450 11005", "-2+3"),
    ("@Home Physio", "+919845011006", "+91 98450 11006", "@SUM(1+1)"),
    ("=Joseph D'Souza", "+919845011007", "+91 98450 11007", '=HYPERLINK("http://x.example")'),
    ("Landline Person", "+914023456789", "+91 40 2345 6789", "Call the office"),
    ("Visiting From London", "+447911123456", "+44 7911 123456", "Visiting in December"),
    ("Long Message", "+919845011010", "+91 98450 11010", LONG_MESSAGE),
    ("Meera Nair", "+919845011011", "+91 98450 11011", "Neck"),
]
# Calc's import as a person in India gets it, with the two options that make it read a CSV the
# way Excel does switched on: dates detected, formulas run. The most eager reading is the one
# that would turn a phone into a number or a name into a formula. (With "Detect special
# numbers" off, Calc's own default, dates stay text: only plain numbers are converted.)
EXCEL_LIKE_CSV = csv_import(language=0x4009, special_numbers=True, formulas=True)  # en-IN
CREATED = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 11:00 in Hyderabad
FOLLOW_UP = datetime(2026, 12, 1, 4, 30, tzinfo=UTC)  # 10:00 in Hyderabad
# What a spreadsheet shows: the branch's wall-clock time, with no time zone.
CREATED_THERE = datetime.fromisoformat("2026-11-01 11:00")
FOLLOW_UP_THERE = datetime.fromisoformat("2026-12-01 10:00")


@pytest.fixture
def profile(tmp_path):
    return tmp_path / "soffice-profile"


@pytest.fixture
def exports(app, tmp_path):
    """The CSV as a manager downloads it and the XLSX as ``crm export`` writes it."""
    soffice_path()  # skip (or fail) before any work when LibreOffice is missing
    for name, phone, _, message in PEOPLE:
        lead_id = capture(app, "hyderabad", name=name, phone=phone, message=message, at=CREATED)
        with app.app_context():
            db.session.get(Lead, lead_id).next_follow_up_at = FOLLOW_UP
            db.session.commit()
    manager = enter_as(app.test_client(), app, make_staff(app, "manager", "hyderabad"))
    csv_file = tmp_path / "leads-csv.csv"
    csv_file.write_bytes(download(manager, format="csv").data)
    xlsx_file = tmp_path / "leads-xlsx.xlsx"
    cli_export(app.test_cli_runner(), "--branch", "hyderabad", "--output", str(xlsx_file))
    return csv_file, xlsx_file


def read_back(path):
    """Every row of the sheet LibreOffice saved, as {column title: cell}."""
    sheet = load_workbook(path).worksheets[0]
    header, *rows = sheet.iter_rows()
    titles = [cell.value for cell in header]
    assert tuple(titles) == HEADER
    return [dict(zip(titles, row, strict=True)) for row in rows]


def check_as_a_person_typed_it(rows):
    assert [row["Name"].value for row in rows[:3]] == [name for name, *_ in PEOPLE[:3]]
    for row, (_, _, shown, _) in zip(rows, PEOPLE, strict=True):
        phone = row["Phone"]
        assert (phone.data_type, phone.value) == ("s", shown)
        for title in ("Created (branch time)", "Next follow-up (branch time)"):
            assert row[title].is_date, (title, row[title].value)
        assert row["Created (branch time)"].value == CREATED_THERE
        assert row["Next follow-up (branch time)"].value == FOLLOW_UP_THERE
        assert row["Enquiries"].value == 1
        # Shaped a column at a time: counts come back as numbers, references as text.
        assert (row["Appointments attended"].value, row["No-shows"].value) == (0, 0)
        assert row["Reference"].data_type == "s"
        assert re.fullmatch(r"L-\d{6}", row["Reference"].value), row["Reference"].value
        for cell in row.values():
            assert cell.data_type != "f", (cell.coordinate, cell.value)
    assert rows[9]["Latest message"].value == LONG_MESSAGE


def test_csv_opens_in_calc_with_phones_as_text_and_dates_as_dates(exports, tmp_path, profile):
    csv_file, _ = exports
    (opened,) = convert([csv_file], "xlsx", tmp_path / "from-csv", profile, EXCEL_LIKE_CSV)
    rows = read_back(opened)
    assert len(rows) == len(PEOPLE)
    check_as_a_person_typed_it(rows)
    # In a CSV the apostrophe is what keeps a name from running as a formula.
    assert [row["Name"].value for row in rows[3:7]] == ["'" + name for name, *_ in PEOPLE[3:7]]


def test_xlsx_opens_in_calc_with_text_exactly_as_typed(exports, tmp_path, profile):
    _, xlsx_file = exports
    (opened,) = convert([xlsx_file], "xlsx", tmp_path / "from-xlsx", profile)
    rows = read_back(opened)
    assert len(rows) == len(PEOPLE)
    # A string cell is never a formula: exactly what the person typed, no apostrophe.
    assert [row["Name"].value for row in rows] == [name for name, *_ in PEOPLE]
    assert [row["Latest message"].value for row in rows] == [message for *_, message in PEOPLE]
    check_as_a_person_typed_it(rows)


def test_xlsx_prints_landscape_one_page_wide(exports, tmp_path, profile):
    _, xlsx_file = exports
    (printed,) = convert([xlsx_file], "pdf", tmp_path / "printed", profile)
    pages = pdf_pages(printed)
    # Every column on one page across: eleven rows, even with one 2,000-character message
    # wrapped in its cell, fit on a page or two (not 30 pages of cut-off columns).
    assert 1 <= len(pages) <= 2, len(pages)
    assert all(width > height for width, height in pages), pages
