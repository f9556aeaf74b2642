"""Helpers that use the site the way a browser would: read the form off a page, send it back."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

VALID_FIELDS = {
    "name": "Ravi Kumar",
    "phone": "98450 12345",
    "email": "ravi@example.com",
    "branch": "bengaluru",
    "interest": "back_pain",
    "message": "Lower back pain for two weeks.",
    "consent": "y",
}


class _FormParser(HTMLParser):
    """Collects the inputs of the reach-out form (or of the form with a given id/action)."""

    def __init__(self, selector: tuple[str, str]) -> None:
        super().__init__(convert_charrefs=True)
        self.selector = selector
        self.inside = False
        self.found = False
        self.fields: dict[str, str] = {}
        self.select_name: str | None = None
        self.select_state = "empty"
        self.textarea_name: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        key, value = self.selector
        if (
            tag == "form"
            and not self.found
            and key in attributes
            and (value == "" or attributes[key] == value)
        ):
            self.inside = True
            self.found = True
            return
        if not self.inside:
            return
        if tag == "input" and attributes.get("name"):
            kind = attributes.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attributes:
                return
            self.fields[attributes["name"]] = attributes.get("value", "")
        elif tag == "select":
            self.select_name = attributes.get("name")
            self.select_state = "empty"
        elif tag == "option" and self.select_name:
            # A browser sends the selected option, or the first one when none is selected.
            if "selected" in attributes:
                self.fields[self.select_name] = attributes.get("value", "")
                self.select_state = "selected"
            elif self.select_state == "empty":
                self.fields[self.select_name] = attributes.get("value", "")
                self.select_state = "first"
        elif tag == "textarea":
            self.textarea_name = attributes.get("name")
            self.fields[self.textarea_name or ""] = ""

    def handle_data(self, data: str) -> None:
        if self.inside and self.textarea_name:
            if not self.fields[self.textarea_name]:
                # A browser drops the line break that opens a textarea's content.
                data = (
                    data.removeprefix("\r\n")
                    if data.startswith("\r\n")
                    else data.removeprefix("\n")
                )
            self.fields[self.textarea_name] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "select":
            self.select_name = None
        elif tag == "textarea":
            self.textarea_name = None


def form_fields(html: str, selector: tuple[str, str] = ("data-reach-out", "")) -> dict[str, str]:
    """The named inputs of a form on the page, as a browser would send them."""
    parser = _FormParser(selector)
    parser.feed(html)
    if not parser.found:
        raise AssertionError(f"no form matching {selector} on the page")
    return parser.fields


def form_notice(html: str) -> tuple[str, str] | None:
    """The reach-out form's status line as ("success" | "error", text), or None when silent."""
    found = re.search(
        r'data-form-status[^>]*>\s*<p class="notice notice--(success|error)">([^<]*)</p>', html
    )
    return (found.group(1), found.group(2)) if found else None


def reach_out_fields(client: FlaskClient, page: str = "/") -> dict[str, str]:
    response = client.get(page)
    assert response.status_code == 200, (page, response.status_code)
    return form_fields(response.get_data(as_text=True))


def submit_reach_out(
    client: FlaskClient,
    page: str = "/",
    *,
    json: bool = False,
    omit: tuple[str, ...] = (),
    **fields: Any,
) -> TestResponse:
    """Load ``page``, fill its reach-out form with valid data overridden by ``fields``, send it."""
    data = reach_out_fields(client, page)
    data.update(VALID_FIELDS)
    data.update({name: value for name, value in fields.items()})
    for name in omit:
        data.pop(name, None)
    headers = {"Accept": "application/json"} if json else {}
    return client.post("/leads", data=data, headers=headers)
