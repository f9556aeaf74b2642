from __future__ import annotations

from datetime import date

from sqlalchemy import Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.platform.extensions import db

PATH_MAX = 200


class PageViewDay(db.Model):
    """How many times one public page was viewed on one day (the clinic's day, India time).

    Nothing about who viewed it: no cookie, address, user agent or referrer is kept.
    """

    __tablename__ = "page_view_day"
    __table_args__ = (UniqueConstraint("day", "path", name="uq_page_view_day_day_path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    path: Mapped[str] = mapped_column(String(PATH_MAX))
    views: Mapped[int] = mapped_column(default=0)
