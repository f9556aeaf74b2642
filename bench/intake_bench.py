"""Intake throughput: the real ``POST /leads`` against a one-route baseline, both under gunicorn.

    .venv/bin/python bench/intake_bench.py [--seconds 10] [--connections 8] [--postgres]

Each app runs under gunicorn with the production settings (``crm.platform.gunicorn_conf``,
access log included) and two sync workers, on a fresh SQLite database in WAL mode in a
temporary folder, with rate limits off. With ``--postgres`` (or ``CRM_TEST_POSTGRES=1``) the
same follows with four workers each, on databases of a throwaway PostgreSQL cluster started
as the tests start one (``--only-postgres`` skips SQLite). For each app:

1. closed loop with more connections than workers: the maximum rate, and latency at it;
2. open loop at half that rate: p50 and p99 latency, counted from when each request was due.

Submissions are valid and honest: each connection first opens the contact page, as a browser
does, and sends back that form's CSRF token (with its session cookie), submission token and
signed ``shown_at``; the run starts only once the minimum fill time (3 s by default) has
passed, so no submission is filtered as too fast. Every request carries a new phone number
and address, so each creates a lead (the heavier path). The baseline receives the same body.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

from baseline_app import create_schema
from benchkit import PROJECT, emit, note, percentile
from loadgen import LoadResult, run_load
from sqlalchemy import create_engine, text

BENCH = "intake"
WORKERS = 2  # on SQLite; PostgreSQL, which lets writers overlap, is served by 4
POSTGRES_WORKERS = 4
BIN = Path(sys.executable).parent
MIN_FILL_SECONDS = 3.0  # the app's default FORM_MIN_FILL_SECONDS, left as it is
VISITOR = {
    "name": "Ravi Kumar",
    "branch": "bengaluru",
    "interest": "back_pain",
    "message": "Lower back pain for two weeks.",
    "consent": "y",
}


class _HiddenInputs(HTMLParser):
    """The hidden inputs of the page's reach-out form, as a browser would send them back."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form" and "data-reach-out" in attributes and not self.fields:
            self.inside = True
        elif self.inside and tag == "input" and attributes.get("type") == "hidden":
            self.fields[attributes.get("name") or ""] = attributes.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


@dataclass
class Visitor:
    cookie: str = ""
    hidden: dict[str, str] = field(default_factory=dict)


@dataclass
class Submissions:
    """Picklable request maker for the load generator: a new person on every request."""

    visitors: list[Visitor]
    phase: int

    def __call__(self, index: int, number: int) -> tuple[str, bytes, dict[str, str]]:
        visitor = self.visitors[index]
        # +91 9PCCNNNNNN: a valid Indian mobile, unique per phase, connection and request.
        phone = f"+919{self.phase}{index:02d}{number % 1_000_000:06d}"
        body = urlencode(
            {
                **visitor.hidden,
                **VISITOR,
                "phone": phone,
                "email": f"p{phone[1:]}@example.com",
                "submission_token": uuid.uuid4().hex,
            }
        ).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        if visitor.cookie:
            headers["Cookie"] = visitor.cookie
        return "/leads", body, headers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port: int, path: str) -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


@contextmanager
def gunicorn(app: str, cwd: Path, env: dict[str, str], workers: int) -> Iterator[int]:
    """The same command line for both apps: production settings, ``workers`` sync workers."""
    port = free_port()
    command = [
        str(BIN / "gunicorn"),
        "-c",
        "python:crm.platform.gunicorn_conf",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        app,
    ]
    env = {**env, "PYTHONPATH": str(PROJECT)}
    server = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"gunicorn for {app} exited with {server.returncode}")
            try:
                if get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.2)
        yield port
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def open_pages(port: int, count: int) -> list[Visitor]:
    visitors = []
    for _ in range(count):
        status, headers, html = get(port, "/contact")
        if status != 200:
            raise RuntimeError(f"/contact answered {status}")
        parser = _HiddenInputs()
        parser.feed(html)
        visitors.append(Visitor(headers["Set-Cookie"].split(";", 1)[0], parser.fields))
    return visitors


def measure(app: str, port: int, visitors: list[Visitor], args: argparse.Namespace) -> float:
    """Warm up, find the maximum rate, then hold half of it. Returns the maximum rate."""
    load = {"connections": args.connections, "processes": args.processes}
    run_load(port, Submissions(visitors, 0), seconds=2, **load)
    peak = run_load(port, Submissions(visitors, 1), seconds=args.seconds, **load)
    report(app, "max", peak, args)
    half = run_load(
        port, Submissions(visitors, 2), seconds=args.seconds, rate=peak.rate / 2, **load
    )
    report(app, "half", half, args)
    return peak.rate


def report(app: str, load: str, result: LoadResult, args: argparse.Namespace) -> None:
    failed = sum(count for status, count in result.statuses.items() if status != 201)
    case = {"app": app, "load": load, **run_case(args)}
    emit(BENCH, "requests_per_second", result.rate, "req/s", **case)
    if result.latencies_ms:
        emit(BENCH, "latency_p50", statistics.median(result.latencies_ms), "ms", **case)
        emit(BENCH, "latency_p99", percentile(result.latencies_ms, 0.99), "ms", **case)
    emit(BENCH, "failed_requests", failed, "requests", **case)
    note(f"  {app:<8} {load:<4} {result.rate:7.1f} req/s  answers {result.statuses}")


def run_case(args: argparse.Namespace) -> dict[str, object]:
    return {"workers": args.workers, "database": args.database}


def run_full(workdir: Path, args: argparse.Namespace, url: str | None = None) -> float:
    """The app on ``url`` (PostgreSQL), or on a new SQLite file in ``workdir``."""
    database = workdir / "crm.sqlite3"
    env = {key: value for key, value in os.environ.items() if not key.startswith("CRM_")}
    env |= {
        "CRM_SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{database}",
        "CRM_INSTANCE_PATH": str(workdir / "instance"),
        "CRM_SECRET_KEY": "bench",
        "CRM_RATELIMIT_ENABLED": "false",
        # This checkout's code, even when the installed package points at another.
        "PYTHONPATH": str(PROJECT),
    }
    for command in (["db", "upgrade"], ["seed"]):
        subprocess.run(
            [str(BIN / "crm"), *command], env=env, check=True, capture_output=True, cwd=PROJECT
        )
    with gunicorn("wsgi:app", PROJECT, env, args.workers) as port:
        visitors = open_pages(port, args.connections)
        # Counted from the last page opened: a slow start must not make its form too fast.
        time.sleep(MIN_FILL_SECONDS + 0.1)
        peak = measure("full", port, visitors, args)
    filtered = filtered_count(url, database)
    if filtered:
        raise SystemExit(f"{filtered} submissions were filtered as automated; the run is void")
    return peak


def filtered_count(url: str | None, database: Path) -> int:
    query = "SELECT count(*) FROM enquiry WHERE filtered_reason IS NOT NULL"
    if url is None:
        with sqlite3.connect(database) as connection:
            return connection.execute(query).fetchone()[0]
    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.execute(text(query)).scalar_one()
    engine.dispose()
    return count


def run_baseline(workdir: Path, args: argparse.Namespace, url: str | None = None) -> float:
    database = workdir / "baseline.sqlite3"
    create_schema(url or database)
    env = {**os.environ, "BASELINE_DATABASE": str(database)}
    if url:
        env["BASELINE_DATABASE_URL"] = url
    with gunicorn("baseline_app:create_app()", PROJECT / "bench", env, args.workers) as port:
        visitors = [Visitor() for _ in range(args.connections)]
        return measure("baseline", port, visitors, args)


@contextmanager
def postgres_databases() -> Iterator[tuple[str, str]]:
    """A throwaway PostgreSQL cluster on loopback, as the tests start, with a database for
    each app; stopped and removed afterwards."""
    sys.path.insert(0, str(PROJECT))
    from tests.pgcluster import PostgresCluster

    cluster = PostgresCluster()
    cluster.start()
    try:
        admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for name in ("crm_bench", "baseline_bench"):
                connection.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        yield cluster.url("crm_bench"), cluster.url("baseline_bench")
    finally:
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=None)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument(
        "--postgres",
        action="store_true",
        default=os.environ.get("CRM_TEST_POSTGRES") == "1",
        help="after SQLite, both apps on a throwaway PostgreSQL with 4 workers "
        "(the default when CRM_TEST_POSTGRES=1)",
    )
    parser.add_argument("--only-postgres", action="store_true", help="PostgreSQL alone")
    args = parser.parse_args()
    runs = [] if args.only_postgres else ["sqlite"]
    if args.postgres or args.only_postgres:
        runs.append("postgresql")
    connections = args.connections
    for database in runs:
        args.database = database
        args.workers = POSTGRES_WORKERS if database == "postgresql" else WORKERS
        # More connections than workers, so no worker waits for a request.
        args.connections = connections or 4 * args.workers
        note(f"intake on {database}, {args.workers} workers, {args.connections} connections")
        with tempfile.TemporaryDirectory(prefix="intake-bench-") as folder:
            workdir = Path(folder)
            if database == "postgresql":
                with postgres_databases() as (full_url, baseline_url):
                    full = run_full(workdir, args, full_url)
                    baseline = run_baseline(workdir, args, baseline_url)
            else:
                full = run_full(workdir, args)
                baseline = run_baseline(workdir, args)
        emit(BENCH, "full_to_baseline_ratio", full / baseline, "x", load="max", **run_case(args))


if __name__ == "__main__":
    main()
