"""Signing in and out."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from crm import limits
from crm.accounts.auth import SignInRefused, authenticate, end_session, start_session
from crm.platform.extensions import limiter
from crm.platform.http import is_own_path
from crm.platform.network import client_address, hash_client_address
from crm.staff import bp
from crm.staff.forms import LoginForm


def _next_path() -> str | None:
    """Where to go after signing in: only a staff page of this site."""
    target = request.args.get("next")
    if is_own_path(target) and target.startswith("/staff/") and "/staff/logout" not in target:
        return target
    return None


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    limits.login_per_address,
    key_func=limits.address_key,
    methods=["POST"],
    deduct_when=limits.failed_sign_in,
    scope="login-address",
)
@limiter.limit(
    limits.login_per_account_address,
    key_func=limits.account_address_key,
    methods=["POST"],
    deduct_when=limits.failed_sign_in,
    scope="login-account-address",
)
@limiter.limit(
    limits.login_per_account,
    key_func=limits.account_key,
    methods=["POST"],
    deduct_when=limits.failed_sign_in,
    exempt_when=limits.known_sign_in_address,
    scope="login-account",
)
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(_next_path() or url_for("staff.dashboard"))
    form = LoginForm()
    if not form.validate_on_submit():
        status = 422 if form.errors else 200
        return render_template("staff/login.html", form=form, next=_next_path()), status
    try:
        user = authenticate(form.email.data, form.password.data)
    except SignInRefused as refusal:
        form.form_errors.append(str(refusal))
        return render_template("staff/login.html", form=form, next=_next_path()), 401
    token = start_session(user, address_hash=hash_client_address(client_address()))
    # A new session: nothing from before sign-in (a planted cookie included) carries over.
    session.clear()
    user.session_token = token
    login_user(user)
    return redirect(_next_path() or url_for("staff.dashboard"), code=303)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    end_session(current_user.session_token)
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("staff.login"), code=303)
