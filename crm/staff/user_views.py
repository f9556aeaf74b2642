"""Staff accounts, for administrators: add, change role or branch, deactivate, reset password."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from crm.accounts import staff as accounts
from crm.clinic.branches import branch_choices
from crm.policy import can_manage_staff
from crm.staff import bp
from crm.staff.access import allowed
from crm.staff.forms import EmptyForm, NewStaffForm, PasswordResetForm, StaffAccountForm, choices


def _with_branches(form: StaffAccountForm) -> StaffAccountForm:
    form.branch.choices = choices(branch_choices(), "No branch (admins only)")
    return form


def _render_list(new_form: NewStaffForm | None = None, status: int = 200) -> ResponseReturnValue:
    people = accounts.staff_accounts()
    new_form = new_form or _with_branches(NewStaffForm(formdata=None))
    return render_template(
        "staff/users.html", people=people, new_form=new_form, button=EmptyForm()
    ), status


@bp.get("/users")
@allowed(can_manage_staff)
def users() -> ResponseReturnValue:
    return _render_list()


@bp.post("/users")
@allowed(can_manage_staff)
def user_create() -> ResponseReturnValue:
    form = _with_branches(NewStaffForm())
    if not form.validate():
        return _render_list(form, 422)
    try:
        person = accounts.create_staff_user(
            email=form.email.data,
            name=form.name.data,
            role=form.role.data,
            branch_slug=form.branch.data or None,
            password=form.password.data,
        )
    except accounts.AccountError as refusal:
        flash(str(refusal), "error")
        return _render_list(form, 422)
    flash(f"Account created for {person.email}.", "success")
    return redirect(url_for("staff.users"), code=303)


def _render_person(
    person_id: int,
    form: StaffAccountForm | None = None,
    password_form: PasswordResetForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    try:
        person = accounts.staff_account(person_id)
    except accounts.AccountNotFound:
        abort(404)
    form = form or _with_branches(
        StaffAccountForm(
            formdata=None,
            name=person.name,
            role=person.role,
            branch=person.branch.slug if person.branch else "",
        )
    )
    return render_template(
        "staff/user.html",
        person=person,
        form=form,
        password_form=password_form or PasswordResetForm(formdata=None),
        button=EmptyForm(),
    ), status


@bp.get("/users/<int:person_id>")
@allowed(can_manage_staff)
def user_detail(person_id: int) -> ResponseReturnValue:
    return _render_person(person_id)


def _account_action(person_id: int, action, done: str, **forms) -> ResponseReturnValue:  # type: ignore[no-untyped-def]
    try:
        action()
    except accounts.AccountNotFound:
        abort(404)
    except accounts.AccountError as refusal:
        flash(str(refusal), "error")
        return _render_person(person_id, status=422, **forms)
    flash(done, "success")
    return redirect(url_for("staff.user_detail", person_id=person_id), code=303)


@bp.post("/users/<int:person_id>")
@allowed(can_manage_staff)
def user_update(person_id: int) -> ResponseReturnValue:
    form = _with_branches(StaffAccountForm())
    if not form.validate():
        return _render_person(person_id, form=form, status=422)
    return _account_action(
        person_id,
        lambda: accounts.update_staff_user(
            current_user,
            person_id,
            name=form.name.data,
            role=form.role.data,
            branch_slug=form.branch.data or None,
        ),
        "Account updated.",
        form=form,
    )


@bp.post("/users/<int:person_id>/deactivate")
@allowed(can_manage_staff)
def user_deactivate(person_id: int) -> ResponseReturnValue:
    return _account_action(
        person_id,
        lambda: accounts.set_staff_active(current_user, person_id, False),
        "Account deactivated; any open sessions have ended.",
    )


@bp.post("/users/<int:person_id>/activate")
@allowed(can_manage_staff)
def user_activate(person_id: int) -> ResponseReturnValue:
    return _account_action(
        person_id,
        lambda: accounts.set_staff_active(current_user, person_id, True),
        "Account reactivated.",
    )


@bp.post("/users/<int:person_id>/password")
@allowed(can_manage_staff)
def user_password(person_id: int) -> ResponseReturnValue:
    form = PasswordResetForm()
    if not form.validate():
        return _render_person(person_id, password_form=form, status=422)
    return _account_action(
        person_id,
        lambda: accounts.reset_staff_password(current_user, person_id, form.password.data),
        "Password changed; the person must sign in again.",
        password_form=form,
    )
