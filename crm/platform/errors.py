"""Error pages in the site's design, and JSON errors for callers that asked for JSON."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, jsonify, render_template
from flask.globals import request_ctx
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from crm.platform.database import is_transient
from crm.platform.extensions import db
from crm.platform.http import wants_json
from crm.platform.i18n import lazy_gettext as _l

MESSAGES = {
    400: (_l("Bad request"), _l("We could not read that request. Please go back and try again.")),
    403: (_l("Not allowed"), _l("Your account does not have access to this page.")),
    404: (_l("Page not found"), _l("We could not find that page. It may have moved.")),
    405: (_l("Not allowed"), _l("That address does not accept this kind of request.")),
    413: (
        _l("Too large"),
        _l("What was sent is larger than we accept. Please shorten it and send it again."),
    ),
    422: (_l("Please check the form"), _l("Some of what was sent could not be accepted.")),
    429: (
        _l("Too many attempts"),
        _l("There have been too many attempts from here. Please wait a little and try again."),
    ),
    500: (
        _l("Something went wrong"),
        _l("Something went wrong on our side. Please try again in a moment."),
    ),
    503: (
        _l("Busy right now"),
        _l("We are very busy at the moment. Please try again in a few seconds."),
    ),
}


def error_response(code: int, message: str | None = None) -> ResponseReturnValue:
    title, default_message = MESSAGES.get(code, MESSAGES[500])
    text = str(message or default_message)  # in the page's language
    if wants_json():
        return jsonify(ok=False, message=text), code
    return render_template("error.html", code=code, title=str(title), message=text), code


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> ResponseReturnValue:
        if isinstance(error, SecurityError) and request_ctx.url_adapter is None:
            # An untrusted Host header: Flask built no URL adapter from it, and the page's
            # links (paths only) are built against the site's own address instead.
            site = urlsplit(app.config["SITE_URL"])
            request_ctx.url_adapter = app.url_map.bind(site.netloc, url_scheme=site.scheme)
        code = error.code or 500
        response = error_response(code)
        if code == 405 and error.get_response().headers.get("Allow"):
            body, status = response  # type: ignore[misc]
            return body, status, {"Allow": error.get_response().headers["Allow"]}
        return response

    @app.errorhandler(OperationalError)
    def _database_unavailable(error: OperationalError) -> ResponseReturnValue:
        db.session.rollback()
        if not is_transient(error):
            # A damaged database, not a busy one: a fault to log and look into.
            app.log_exception((type(error), error, error.__traceback__))
            return error_response(500)
        # Locked past the timeout, or unreachable: the transaction rolled back whole, so the
        # honest answer is "try again", not a 500.
        body, status = error_response(503)  # type: ignore[misc]
        return body, status, {"Retry-After": "5"}

    @app.errorhandler(InternalServerError)
    def _server_error(_error: InternalServerError) -> ResponseReturnValue:
        return error_response(500)
