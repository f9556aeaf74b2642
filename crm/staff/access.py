"""Who may see what: sign-in required everywhere under /staff, a policy answer for some pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from crm import policy
from crm.models import StaffUser
from crm.platform.errors import MESSAGES, error_response
from crm.platform.extensions import login_manager
from crm.platform.http import wants_json
from crm.staff import bp

PUBLIC_ENDPOINTS = frozenset({"staff.login"})


@bp.before_request
def _require_sign_in() -> ResponseReturnValue | None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@login_manager.unauthorized_handler
def _unauthorized() -> ResponseReturnValue:
    if wants_json():
        return jsonify(ok=False, message="Please sign in."), 401
    # Only a GET is worth returning to; a half-done POST is not replayed after sign-in.
    next_path = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("staff.login", next=next_path))


def allowed(
    rule: Callable[[StaffUser], bool],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """403 for signed-in staff to whom ``rule`` (a ``crm.policy`` question) answers no."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not rule(current_user):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


@bp.app_context_processor
def _policy() -> dict[str, Any]:
    # Templates ask the same questions as the views and operations: ``policy.can_export(...)``.
    return {"policy": policy}


@bp.errorhandler(403)
def _refused(_error: Exception) -> ResponseReturnValue:
    """A page someone's role does not reach: said inside the staff layout, with its menu, not
    on the public site's error page."""
    if wants_json() or not current_user.is_authenticated:
        return error_response(403)
    title, message = MESSAGES[403]
    return render_template("staff/error.html", code=403, title=title, message=message), 403
