"""Messages rendered from ``templates/email/<name>.txt`` and ``.html`` pairs.

What each message says belongs to the part that sends it (``crm.leads.notifications`` for a
lead's emails, ``crm.leads.digest`` for the follow-up digest, ``crm.accounts.sign_in_guard`` for the
sign-in alert); this module only renders, at once or, for a kind a part registered with
``on_compose``, when the worker sends it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, render_template
from flask_babel import get_locale
from sqlalchemy.orm import Session

from crm.platform.i18n import DEFAULT_LANGUAGE, LANGUAGES


@dataclass(frozen=True)
class Message:
    subject: str
    text_body: str
    html_body: str


def render_message(template: str, subject: str, **context: Any) -> Message:
    context.setdefault("clinic_name", current_app.config["CLINIC_NAME"])
    context.setdefault("site_url", current_app.config["SITE_URL"].rstrip("/"))
    # The language it is written in (a patient's email is rendered in theirs, ``force_locale``),
    # not the language of whichever page or command sends it.
    locale = get_locale()
    code = locale.language if locale is not None else DEFAULT_LANGUAGE
    context.setdefault("html_lang", LANGUAGES.get(code, LANGUAGES[DEFAULT_LANGUAGE]).html_lang)
    # The HTML part's <title>: mail programs and screen readers announce it.
    context["subject"] = subject
    return Message(
        subject=subject,
        text_body=render_template(f"email/{template}.txt", **context),
        html_body=render_template(f"email/{template}.html", **context),
    )


# --- Composed when sent ---------------------------------------------------------------------

_COMPOSERS = "crm.mail.composers"

# ``composer(session, lead_id, compose)``: the message for a row queued with ``compose`` set.
Composer = Callable[[Session, "int | None", dict[str, Any]], Message]


def on_compose(app: Flask, kind: str, composer: Composer) -> None:
    """Have this app's worker render emails of ``kind`` queued to be composed when sent.

    Rendering then happens outside the transaction that queued the email (an enquiry's, which
    holds the write lock), from rows that do not change once written.
    """
    app.extensions.setdefault(_COMPOSERS, {})[kind] = composer


def compose_now(
    session: Session, kind: str, lead_id: int | None, compose: dict[str, Any]
) -> Message:
    """The message for a row queued to be composed when sent."""
    composer = current_app.extensions.get(_COMPOSERS, {}).get(kind)
    if composer is None:
        raise LookupError(f"nothing composes {kind} emails in this app")
    return composer(session, lead_id, compose)
