from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.platform.database import UTCDateTime, utcnow
from crm.platform.extensions import db

if TYPE_CHECKING:
    from crm.models.staff import StaffUser


class StaffSession(db.Model):
    """One signed-in browser. The cookie holds a random token; we keep only its hash.

    Server-side rows let a logout end that session for good (a copied cookie stops working),
    let deactivation end every session of a person, and enforce idle and absolute lifetimes.
    """

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[StaffUser] = relationship()

    def __repr__(self) -> str:
        return f"<StaffSession {self.id} user={self.user_id}>"
