from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.platform.database import UTCDateTime, utcnow
from crm.platform.extensions import db

if TYPE_CHECKING:
    from crm.models.branch import Branch


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    AGENT = "agent"


class StaffUser(UserMixin, db.Model):
    """Someone who signs in to the CRM. Admins belong to no branch; everyone else to one."""

    __tablename__ = "staff_user"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'manager', 'agent')", name="role_known"),
        CheckConstraint("role = 'admin' OR branch_id IS NOT NULL", name="branch_unless_admin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    branch: Mapped[Branch | None] = relationship()

    # Set when loaded for a request: the token of the session it signed in with (not a column).
    session_token = None

    def get_id(self) -> str:
        """Flask-Login stores this in the cookie: the session's token, never the user id."""
        if not self.session_token:
            raise RuntimeError("sign staff in through crm.accounts.auth.start_session")
        return self.session_token

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def __repr__(self) -> str:
        return f"<StaffUser {self.id} {self.role}>"
