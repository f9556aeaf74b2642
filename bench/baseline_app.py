"""The floor for the intake benchmark: Flask, one route, one row inserted with SQLAlchemy.

    gunicorn -c python:crm.platform.gunicorn_conf --workers 2 'baseline_app:create_app()'

with ``BASELINE_DATABASE`` naming a SQLite file (or ``BASELINE_DATABASE_URL`` a PostgreSQL
database) whose table ``create_schema`` made. A SQLite connection gets the same pragmas as the
real app's (WAL, synchronous=NORMAL, busy timeout), so the ratio between the two measures the
app's own work, not different durability settings.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, request
from sqlalchemy import DateTime, Engine, String, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

BUSY_TIMEOUT_MS = 5000


class Base(DeclarativeBase):
    pass


class Submission(Base):
    __tablename__ = "submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime)


def engine_for(database: Path | str) -> Engine:
    """A SQLite file's engine, or the engine of a database URL."""
    if isinstance(database, str):
        return create_engine(database)
    engine = create_engine(f"sqlite:///{database}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    return engine


def create_schema(database: Path | str) -> None:
    engine = engine_for(database)
    Base.metadata.create_all(engine)
    engine.dispose()


def create_app() -> Flask:
    url = os.environ.get("BASELINE_DATABASE_URL")
    engine = engine_for(url or Path(os.environ["BASELINE_DATABASE"]))
    app = Flask(__name__)

    @app.post("/leads")
    def submit() -> tuple[dict[str, object], int]:
        with Session(engine) as session, session.begin():
            session.add(
                Submission(
                    name=request.form.get("name", ""),
                    phone=request.form.get("phone", ""),
                    created_at=datetime.now(UTC),
                )
            )
        return {"ok": True}, 201

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
