"""Load for the load and fault tests: gunicorn serving the real app, and visitors on loopback.

Every number here bounds a test that is already broken (so it ends); none is asserted on.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from tests.helpers import VALID_FIELDS, form_fields
from tests.smtp import free_port

PROJECT = Path(__file__).resolve().parent.parent
GUARD_SECONDS = 600


@dataclass
class Gunicorn:
    """``gunicorn -w N wsgi:app`` from the project folder, as production runs it."""

    database_url: str
    instance: Path
    workers: int = 4
    extra: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
        env.update(
            {
                "CRM_SQLALCHEMY_DATABASE_URI": self.database_url,
                "CRM_INSTANCE_PATH": str(self.instance),
                "CRM_SECRET_KEY": "test-secret-key",
                "CRM_SITE_URL": "http://clinic.test",
                "CRM_RATELIMIT_ENABLED": "false",
                "CRM_FORM_MIN_FILL_SECONDS": "0",
            }
        )
        env.update(self.extra)
        return env

    def __enter__(self) -> Gunicorn:
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.process = subprocess.Popen(
            [
                gunicorn,
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "60",
                "--log-level",
                "warning",
                "wsgi:app",
            ],
            cwd=PROJECT,
            env=self.env(),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                status, _headers, _body = request(self.base, "GET", "/healthz")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /healthz")

    def __exit__(self, *_exc: object) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def request(
    base: str,
    method: str,
    path: str,
    body: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], str]:
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


@dataclass
class Visitor:
    """One browser: opens the contact page once, then sends the form many times."""

    base: str
    cookie: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    answers: Counter = field(default_factory=Counter)
    retried: int = 0

    def open_page(self) -> None:
        status, headers, html = request(self.base, "GET", "/contact")
        assert status == 200
        self.cookie = headers["Set-Cookie"].split(";", 1)[0]
        self.fields = form_fields(html)

    def send(self, phone: str, *, retries_on_503: int = 50) -> str:
        """Send one enquiry; on a 503 send the very same form again, as a person would."""
        token = uuid.uuid4().hex
        data = {
            **self.fields,
            **VALID_FIELDS,
            "phone": phone,
            "submission_token": token,
            "email": f"{token[:12]}@example.com",
        }
        body = urlencode(data)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "Cookie": self.cookie,
        }
        for _attempt in range(retries_on_503 + 1):
            status, _headers, _body = request(self.base, "POST", "/leads", body, headers)
            self.answers[status] += 1
            if status != 503:
                break
            self.retried += 1
            time.sleep(0.2)
        return token


def phones(count: int, start: int = 0) -> list[str]:
    return [f"+9198{start + index:08d}" for index in range(count)]


def load(base: str, total: int, clients: int, *, start: int = 0) -> tuple[Counter, list[str], int]:
    """``total`` enquiries from ``clients`` visitors at once; returns answers, tokens, retries."""
    numbers = phones(total, start)
    visitors = [Visitor(base) for _ in range(clients)]
    for visitor in visitors:
        visitor.open_page()

    def run(index: int) -> list[str]:
        visitor = visitors[index]
        return [visitor.send(phone) for phone in numbers[index::clients]]

    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [pool.submit(run, index) for index in range(clients)]
        tokens = [token for future in futures for token in future.result(timeout=GUARD_SECONDS)]
    answers: Counter = Counter()
    for visitor in visitors:
        answers.update(visitor.answers)
    return answers, tokens, sum(visitor.retried for visitor in visitors)
