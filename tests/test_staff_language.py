"""Staff see the language each person prefers: on the lead page, in the inbox (a column and a
filter) and in exports; with the consent words in the language they were given in. Staff pages
themselves stay in English."""

from __future__ import annotations

import html
import re

import pytest

from crm.clinic.consent import find_consent
from tests.export_helpers import cli_export, csv_records, download, xlsx_records
from tests.staff_helpers import csrf_token, enter_as, make_lead, make_staff

TELUGU_CONSENT = find_consent("2026-11-01", "te").label


@pytest.fixture
def people(app):
    manager = make_staff(app, "manager", "hyderabad", name="Hema Manager")
    admin = make_staff(app, "admin", None, name="Ada Admin")
    return {
        "manager": enter_as(app.test_client(), app, manager),
        "admin": enter_as(app.test_client(), app, admin),
    }


@pytest.fixture
def leads(app):
    """Ravi wrote in English, then in Telugu; Asha in Hindi; Meena only in English."""
    ravi = make_lead(app, "hyderabad", name="Ravi Kumar", phone="+919845011111")
    again = make_lead(app, "hyderabad", name="Ravi Kumar", phone="+919845011111", language="te")
    assert again == ravi
    return {
        "ravi": ravi,
        "asha": make_lead(app, "hyderabad", name="Asha Rao", phone="+919845022222", language="hi"),
        "meena": make_lead(app, "hyderabad", name="Meena Iyer", phone="+919845033333"),
    }


def inbox_languages(client, **query: str) -> dict[int, str]:
    page = client.get("/staff/leads", query_string=query).get_data(as_text=True)
    rows = re.findall(r'<tr data-lead="(\d+)">.*?data-language="(\w+)">(\w+)</td>', page, re.S)
    return {int(lead_id): f"{code}:{name}" for lead_id, code, name in rows}


def test_the_lead_page_says_which_language_the_person_prefers(people, leads):
    page = people["manager"].get(f"/staff/leads/{leads['ravi']}").get_data(as_text=True)
    assert '<html lang="en' in page  # the page itself is English
    assert '<span data-language="te">prefers Telugu</span>' in page
    # Each enquiry says its own language, and the consent words in it.
    assert re.findall(r'<dd data-language="(\w+)">', page) == ["te", "en"]
    assert "version 2026-11-01 in Telugu" in page
    quoted = f'<q lang="te-IN" data-consent-text>{html.escape(TELUGU_CONSENT)}</q>'
    assert quoted in page
    hindi = people["manager"].get(f"/staff/leads/{leads['asha']}").get_data(as_text=True)
    assert '<span data-language="hi">prefers Hindi</span>' in hindi


def test_the_inbox_has_a_language_column_and_filter(people, leads):
    manager = people["manager"]
    assert inbox_languages(manager) == {
        leads["ravi"]: "te:Telugu",
        leads["asha"]: "hi:Hindi",
        leads["meena"]: "en:English",
    }
    assert '<th scope="col">Language</th>' in manager.get("/staff/leads").get_data(as_text=True)
    assert inbox_languages(manager, language="te") == {leads["ravi"]: "te:Telugu"}
    assert inbox_languages(manager, language="en") == {leads["meena"]: "en:English"}
    page = manager.get("/staff/leads", query_string={"language": "te"}).get_data(as_text=True)
    assert '<option selected value="te">Telugu</option>' in page
    assert "1 lead matches" in page

    # A language the inbox does not offer is named and left out, never fatal.
    forged = manager.get("/staff/leads", query_string={"language": "xx"}).get_data(as_text=True)
    assert "Prefers (Unknown language.)" in forged
    assert len(inbox_languages(manager, language="xx")) == 3


def test_exports_have_a_language_column_and_the_same_filter(app, people, leads, runner):
    manager = people["manager"]
    by_name = {row["Name"]: row["Language"] for row in csv_records(download(manager).data)}
    assert by_name == {"Ravi Kumar": "Telugu", "Asha Rao": "Hindi", "Meena Iyer": "English"}
    cells = xlsx_records(download(manager, format="xlsx").data)
    assert {row["Name"]: row["Language"] for row in cells} == by_name

    hindi = csv_records(download(manager, language="hi").data)
    assert [row["Name"] for row in hindi] == ["Asha Rao"]
    # "Export this view" carries the inbox's language filter to the export form.
    inbox = manager.get("/staff/leads", query_string={"language": "hi"}).get_data(as_text=True)
    assert 'href="/staff/exports?language=hi"' in inbox

    telugu = csv_records(cli_export(runner, "--branch", "hyderabad", "--language", "te"))
    assert [(row["Name"], row["Language"]) for row in telugu] == [("Ravi Kumar", "Telugu")]
    refused = runner.invoke(args=["export", "--branch", "hyderabad", "--language", "xx"])
    assert refused.exit_code == 2


def test_the_persons_copy_has_the_consent_words_in_their_language(people, leads):
    admin = people["admin"]
    url = f"/staff/leads/{leads['ravi']}/access"
    data = admin.post(url, data={"csrf_token": csrf_token(admin), "format": "json"}).get_json()
    [lead] = data["leads"]
    given = [
        (enquiry["language"], enquiry["consent_version"], enquiry["consent_text"])
        for enquiry in lead["enquiries"]
    ]
    english = find_consent("2026-11-01", "en").label
    assert given == [("en", "2026-11-01", english), ("te", "2026-11-01", TELUGU_CONSENT)]

    page = admin.post(url, data={"csrf_token": csrf_token(admin), "format": "html"})
    text = page.get_data(as_text=True)
    assert f'<dd lang="te-IN" data-consent-text>“{html.escape(TELUGU_CONSENT)}”</dd>' in text
