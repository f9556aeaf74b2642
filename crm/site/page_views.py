"""First-party page-view counts: daily totals per public page, nothing about the visitor.

No cookie is set or read, no address, user agent or referrer is stored; a request from a bot
(by its user agent) is not counted at all. Views are added up in memory and written as one
batch of per-(day, page) totals at most every PAGE_VIEW_FLUSH_SECONDS, after a response has been
sent, so a page view never waits for the database and never takes SQLite's write lock from
someone sending the form. What a crash can lose: the views of the last flush interval of that
worker process (a clean shutdown writes them).
"""

from __future__ import annotations

import atexit
import re
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable
from datetime import date

from flask import Flask, Response, current_app, request
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crm.clinic.branches import DEFAULT_ZONE
from crm.models import PageViewDay
from crm.models.page_view import PATH_MAX
from crm.platform.database import utcnow, write_transaction

# Crawlers, link-preview fetchers, monitors and headless tools name themselves in the user agent.
BOT = re.compile(
    r"bot|crawl|spider|slurp|scrape|fetch|preview|monitor|check|lighthouse|headless|"
    r"facebookexternalhit|whatsapp|telegram|curl|wget|python|go-http|java/|httpclient|axios|"
    r"node-fetch|okhttp|pingdom|uptime",
    re.IGNORECASE,
)
EXTENSION_KEY = "page_views"


def is_bot(user_agent: str | None) -> bool:
    # A browser always sends one; a request without is a script.
    return not user_agent or bool(BOT.search(user_agent))


class PageViewBuffer:
    """Counts held in memory between flushes; one per app in each worker process."""

    def __init__(self, interval_seconds: float, clock: Callable[[], float] = time.monotonic):
        self.interval = interval_seconds
        self.clock = clock
        self.counts: Counter[tuple[date, str]] = Counter()
        self.lock = threading.Lock()
        self.last_flush = clock()

    def add(self, day: date, path: str) -> None:
        with self.lock:
            self.counts[(day, path[:PATH_MAX])] += 1

    def due(self) -> bool:
        return bool(self.counts) and self.clock() - self.last_flush >= self.interval

    def take(self) -> Counter[tuple[date, str]]:
        with self.lock:
            taken, self.counts = self.counts, Counter()
            self.last_flush = self.clock()
        return taken

    def put_back(self, counts: Counter[tuple[date, str]]) -> None:
        with self.lock:
            self.counts.update(counts)


# Apps with a buffer, for the flush at a clean exit; weak, so an app can still be freed.
_APPS: weakref.WeakSet[Flask] = weakref.WeakSet()


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = PageViewBuffer(float(app.config["PAGE_VIEW_FLUSH_SECONDS"]))
    _APPS.add(app)


@atexit.register
def _flush_at_exit() -> None:
    for app in list(_APPS):
        if app.extensions[EXTENSION_KEY].counts:
            _flush_in_context(app)


def count_view(response: Response) -> Response:
    """Called after each public page; counts a person's successful GET of an HTML page."""
    if (
        request.method != "GET"
        or response.status_code != 200
        or response.mimetype != "text/html"
        or is_bot(request.user_agent.string)
    ):
        return response
    buffer: PageViewBuffer = current_app.extensions[EXTENSION_KEY]
    buffer.add(_today(), request.path)
    if buffer.due():
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        # After the response has gone: the visitor does not wait for the write.
        response.call_on_close(lambda: _flush_in_context(app))
    return response


def flush(app: Flask) -> int:
    """Write the buffered counts as one transaction of per-(day, page) upserts."""
    buffer: PageViewBuffer = app.extensions[EXTENSION_KEY]
    counts = buffer.take()
    if not counts:
        return 0
    try:
        with write_transaction() as session:
            dialect = session.get_bind().dialect.name
            insert = postgres_insert if dialect == "postgresql" else sqlite_insert
            for (day, path), views in sorted(counts.items()):
                statement = insert(PageViewDay).values(day=day, path=path, views=views)
                session.execute(
                    statement.on_conflict_do_update(
                        index_elements=["day", "path"],
                        set_={"views": PageViewDay.views + statement.excluded.views},
                    )
                )
    except Exception:
        # Busy or down: keep the counts for the next try rather than lose them.
        buffer.put_back(counts)
        raise
    return sum(counts.values())


def _flush_in_context(app: Flask) -> None:
    with app.app_context():
        try:
            flush(app)
        except Exception:  # a count is never worth an error for a visitor
            app.logger.warning("page views not written this time; kept for the next flush")


def _today() -> date:
    return utcnow().astimezone(DEFAULT_ZONE).date()
