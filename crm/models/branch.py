from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm.platform.database import UTCDateTime, utcnow
from crm.platform.extensions import db

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# The clinic is in India: the zone of a branch that names none, and of reports across branches.
DEFAULT_TIME_ZONE = "Asia/Kolkata"


class Branch(db.Model):
    """A clinic location. Branches are data: adding a city needs no code."""

    __tablename__ = "branch"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    city: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(Text)
    phone: Mapped[str] = mapped_column(String(20))
    notification_email: Mapped[str] = mapped_column(String(254))
    time_zone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIME_ZONE)
    # {"mon": [["09:00", "20:00"]], ..., "sun": []}: local times, several spans a day allowed.
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Where the clinic is, for maps apps and search engines; how to find it and where to park.
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    landmarks: Mapped[str | None] = mapped_column(Text)
    parking: Mapped[str | None] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    # New leads go to the branch's active agents in turn (crm.leads.auto_assign); the last one
    # given a lead that way is where the turn continues. Only a place in the turn, not a link:
    # a foreign key would make staff_user -> branch a second path every join has to name.
    auto_assign: Mapped[bool] = mapped_column(default=False, server_default="0")
    last_auto_assignee_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Branch {self.slug}>"
