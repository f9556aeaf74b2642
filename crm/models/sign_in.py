from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.platform.database import UTCDateTime, utcnow
from crm.platform.extensions import db


class StaffSignInAddress(db.Model):
    """An address someone signed in from, as a keyed hash
    (``crm.platform.network.hash_client_address``).

    A right password from one of these gets in even while strangers have used up the account's
    sign-in limit: a guesser cannot lock the owner out of their usual places. Only the most
    recent few per person are kept (``SIGN_IN_ADDRESSES_KEPT``).
    """

    __tablename__ = "staff_sign_in_address"
    __table_args__ = (UniqueConstraint("user_id", "address_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"))
    address_hash: Mapped[str] = mapped_column(String(64))
    last_signed_in_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<StaffSignInAddress {self.id} user={self.user_id}>"
