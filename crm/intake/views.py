"""POST /leads: parse the reach-out form, capture the lead, answer as the caller expects."""

from __future__ import annotations

import sys

from flask import (
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    request,
)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, generate_csrf
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from crm import limits
from crm.clinic.branches import branch_choices
from crm.intake import bp
from crm.intake.forms import FAILURE_MESSAGE, SUCCESS_MESSAGE, ReachOutForm
from crm.intake.landing import landing_referrer
from crm.intake.render import form_page_again, reach_out_form
from crm.intake.spam import fill_reason
from crm.leads.capture import UTM_FIELDS, Submission, UnknownBranch, capture_lead
from crm.platform.database import is_transient, utcnow
from crm.platform.extensions import db, limiter
from crm.platform.http import is_own_path, wants_json
from crm.platform.i18n import N_, current_language, gettext, path_in_language
from crm.platform.network import client_address, hash_client_address

FLASH_CATEGORY = "reach-out"
EXPIRED_MESSAGE = N_("This form had expired, so nothing was sent yet. Please press Send again.")
TOO_MANY_MESSAGE = N_(
    "We have received several messages from here in a short time. "
    "Please wait a little before sending again, or call the clinic."
)
BUSY_MESSAGE = N_("We are very busy this moment and nothing was saved. Please press Send again.")
FAULT_MESSAGE = N_(
    "Nothing was saved because of a fault on our side. "
    "Please try again in a little while, or call the clinic."
)


@bp.app_context_processor
def _inject_form() -> dict[str, object]:
    return {
        "reach_out_form": reach_out_form,
        "reach_out_success": gettext(SUCCESS_MESSAGE),
        "reach_out_failure": gettext(FAILURE_MESSAGE),
    }


@bp.post("/leads")
@limiter.limit(limits.intake_per_address, key_func=limits.address_key, scope="intake-address")
@limiter.limit(limits.intake_per_phone, key_func=limits.phone_key, scope="intake-phone")
def submit() -> ResponseReturnValue:
    form = ReachOutForm(branches=branch_choices())
    if form.website.data:
        # A bot filled the honeypot: answer as usual, store nothing.
        return _accepted(form)
    if not form.validate():
        return _rejected(form)
    try:
        capture_lead(_submission(form))
    except UnknownBranch:
        form.branch.errors = [
            gettext("That clinic is not taking enquiries. Please choose another.")
        ]
        return _rejected(form)
    except SQLAlchemyError as error:
        # Nothing was stored: the transaction rolled back whole. Keep what was typed.
        db.session.rollback()
        if is_transient(error):
            # Busy or out of reach for a moment: sending again will work.
            return _unavailable(form)
        # A fault to look into, logged as Flask logs any unhandled exception; the visitor
        # still gets the form back, not a bare error page.
        current_app.log_exception(sys.exc_info())
        return _failed(form)
    return _accepted(form)


@bp.errorhandler(429)
def _too_many(error: HTTPException) -> ResponseReturnValue:
    headers = dict(getattr(error, "headers", None) or {})
    return _refused(ReachOutForm(branches=branch_choices()), TOO_MANY_MESSAGE, 429, headers)


def _unavailable(form: ReachOutForm) -> ResponseReturnValue:
    return _refused(form, BUSY_MESSAGE, 503, {"Retry-After": "5"})


def _failed(form: ReachOutForm) -> ResponseReturnValue:
    return _refused(form, FAULT_MESSAGE, 500)


@bp.errorhandler(CSRFError)
def _expired(_error: CSRFError) -> ResponseReturnValue:
    """A missing or stale CSRF token: nothing is stored, and the visitor keeps what they typed."""
    form = ReachOutForm(branches=branch_choices())
    return _refused(form, EXPIRED_MESSAGE, 400, json_extra={"csrf_token": generate_csrf()})


def _refused(
    form: ReachOutForm,
    message: str,
    status: int,
    headers: dict[str, str] | None = None,
    json_extra: dict[str, str] | None = None,
) -> ResponseReturnValue:
    """Nothing was stored, for a reason that is not the visitor's input: say why, keep the form."""
    message = gettext(message)
    if wants_json():
        body = jsonify(ok=False, message=message, errors={}, **(json_extra or {}))
        return body, status, headers or {}
    g.reach_out_notice = message
    response = make_response(_render_form_page(form, status))
    response.headers.update(headers or {})
    return response


def _submission(form: ReachOutForm) -> Submission:
    source_page = form.source_page.data if is_own_path(form.source_page.data) else None
    return Submission(
        name=form.name.data,
        phone=form.phone.data,
        email=form.email.data or None,
        branch_slug=form.branch.data,
        interest=form.interest.data or None,
        message=form.message.data or None,
        submission_token=form.submission_token.data,
        consent_version=current_app.config["CONSENT_VERSION"],
        received_at=utcnow(),
        source_page=source_page,
        referrer=landing_referrer(),
        utm={name: getattr(form, name).data or None for name in UTM_FIELDS},
        user_agent=(request.user_agent.string or "")[:300] or None,
        client_address_hash=hash_client_address(client_address()),
        filtered_reason=fill_reason(form.shown_at.data),
        # The page's language: the form on /te/ pages posts to /te/leads, its consent in Telugu.
        language=current_language(),
    )


def _accepted(form: ReachOutForm) -> ResponseReturnValue:
    if wants_json():
        return jsonify(ok=True, message=gettext(SUCCESS_MESSAGE)), 201
    flash(gettext(SUCCESS_MESSAGE), FLASH_CATEGORY)
    target = form.source_page.data if is_own_path(form.source_page.data) else "/"
    # The page's path carries no language prefix: the thank-you is shown in the form's language.
    return redirect(f"{path_in_language(current_language(), target)}#reach-out", code=303)


def _rejected(form: ReachOutForm) -> ResponseReturnValue:
    if wants_json():
        return jsonify(ok=False, message=gettext(FAILURE_MESSAGE), errors=form.field_errors()), 422
    return _render_form_page(form, 422)


def _render_form_page(form: ReachOutForm, status: int) -> ResponseReturnValue:
    """The page the form was sent from, again, with the visitor's input and the reasons."""
    return form_page_again(form), status
