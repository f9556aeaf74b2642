"""Who is signed in: Flask-Login's loader for staff accounts."""

from __future__ import annotations

from flask_login import LoginManager

from crm.extensions import db
from crm.models import StaffUser


def init_login(login_manager: LoginManager) -> None:
    login_manager.login_view = None

    @login_manager.user_loader
    def _load_user(user_id: str) -> StaffUser | None:
        if not user_id.isdigit():
            return None
        user = db.session.get(StaffUser, int(user_id))
        return user if user is not None and user.active else None
