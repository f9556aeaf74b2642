"""The reach-out form answers in the visitor's language, with and without JavaScript.

The expected words come from the Telugu catalogue (crm/translations/te), never from this file:
a form sent from a /te/ page must carry exactly what the translator wrote for each message.
"""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from markupsafe import escape

from crm.intake.forms import FAILURE_MESSAGE, MESSAGE_MAX, SUCCESS_MESSAGE
from tests.catalogues import compile_catalogues, translation
from tests.helpers import VALID_FIELDS, form_notice, reach_out_fields

BAD = {"name": "", "phone": "12", "email": "not-an-email"}


@pytest.fixture(autouse=True, scope="module")
def _compiled() -> None:
    compile_catalogues()


def filled(client: FlaskClient, page: str, **fields: str) -> dict[str, str]:
    data = reach_out_fields(client, page)
    data.update(VALID_FIELDS)
    data.update(fields)
    data.pop("consent")  # not ticked
    return data


def english_reasons(client: FlaskClient) -> dict[str, list[str]]:
    """What the English form says about the same input: the catalogue's msgids."""
    response = client.post(
        "/leads", data=filled(client, "/contact", **BAD), headers={"Accept": "application/json"}
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == {"name", "phone", "email", "consent"}
    return errors


def test_a_refused_form_without_javascript_says_why_in_telugu(client: FlaskClient) -> None:
    reasons = english_reasons(client)
    response = client.post("/te/leads", data=filled(client, "/te/contact", **BAD))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<html lang="te-IN">' in html and 'action="/te/leads#reach-out"' in html
    assert form_notice(html) == ("error", str(escape(translation("te", FAILURE_MESSAGE))))
    for field, messages in reasons.items():
        slot = re.search(rf'data-error-for="{field}">(.*?)</p>', html, re.S)
        assert slot, field
        expected = " ".join(str(escape(translation("te", message))) for message in messages)
        assert slot.group(1) == expected, field


def test_a_refused_form_with_javascript_gets_telugu_reasons(client: FlaskClient) -> None:
    reasons = english_reasons(client)
    response = client.post(
        "/te/leads",
        data=filled(client, "/te/contact", **BAD),
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 422
    body = response.get_json()
    assert body["message"] == translation("te", FAILURE_MESSAGE)
    assert body["errors"] == {
        field: [translation("te", message) for message in messages]
        for field, messages in reasons.items()
    }


def test_a_message_with_a_number_in_it_is_filled_in_after_translation(
    client: FlaskClient,
) -> None:
    data = filled(client, "/te/contact", message="x" * (MESSAGE_MAX + 1), consent="y")
    data["consent"] = "y"
    response = client.post("/te/leads", data=data, headers={"Accept": "application/json"})
    assert response.status_code == 422
    words = translation("te", "Please keep your message under %(max)d characters.")
    assert response.get_json()["errors"] == {"message": [words % {"max": MESSAGE_MAX}]}


def test_the_thank_you_is_in_telugu_on_the_telugu_page(client: FlaskClient) -> None:
    data = filled(client, "/te/branches/hyderabad", consent="y")
    data["consent"] = "y"
    response = client.post("/te/leads", data=data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/te/branches/hyderabad#reach-out")
    html = client.get("/te/branches/hyderabad").get_data(as_text=True)
    assert form_notice(html) == ("success", str(escape(translation("te", SUCCESS_MESSAGE))))
    assert 'href="/te/branches/hyderabad?again=1#reach-out"' in html

    again = filled(client, "/te/contact", phone="98450 54321")
    again["consent"] = "y"
    answer = client.post("/te/leads", data=again, headers={"Accept": "application/json"})
    assert answer.status_code == 201
    assert answer.get_json()["message"] == translation("te", SUCCESS_MESSAGE)


def test_the_script_gets_its_words_from_the_page(client: FlaskClient) -> None:
    html = client.get("/te/contact").get_data(as_text=True)
    for attribute, msgid in (
        ("data-failure", FAILURE_MESSAGE),
        ("data-sending", "Sending…"),
        (
            "data-offline",
            "Please check your connection and try again; what you typed is still here.",
        ),
    ):
        assert f'{attribute}="{escape(translation("te", msgid))}"' in html
