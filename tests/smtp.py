"""Real SMTP servers for the mail tests: aiosmtpd on a free loopback port, and misbehaving ones.

``SMTPServer`` records every message it accepts (envelope and raw bytes). The handlers below
make it refuse a recipient, hang after the message, or hold the first message until a second
connection is delivering at the same time. ``SilentServer`` accepts connections and never says
a word. ``crm_process`` runs the real ``crm`` command in its own process against a database.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from flask.testing import FlaskCliRunner

HOST = "127.0.0.1"
SENDER = "Clinic <no-reply@clinic.test>"
# Generous limits that only end a test that is already broken; nothing asserts on time.
GUARD_SECONDS = 60


def free_port() -> int:
    """A loopback port nothing listens on (connecting to it is refused until a server binds)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    peer: Any
    # MAIL FROM parameters, e.g. BODY=8BITMIME.
    mail_options: list[str] = field(default_factory=list)

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    def part(self, subtype: str) -> str:
        found = self.message.get_body(preferencelist=(subtype,))
        assert found is not None, f"no text/{subtype} part"
        # On the wire every line ends in CRLF, and a text part always ends with a line break
        # (the email package adds one); compare text the way it was written.
        return found.get_content().replace("\r\n", "\n").removesuffix("\n")


class RecordingHandler:
    """Accepts everything and remembers it."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.lock = threading.Lock()

    def record(self, session: Any, envelope: Any) -> Received:
        received = Received(
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            data=envelope.original_content,
            peer=session.peer,
            mail_options=list(envelope.mail_options),
        )
        with self.lock:
            self.messages.append(received)
        return received

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.record(session, envelope)
        return "250 2.0.0 Message accepted for delivery"


class RefusingRecipient(RecordingHandler):
    """Refuses one recipient for good (550), as a server does for a mailbox that does not exist."""

    def __init__(self, refused: str) -> None:
        super().__init__()
        self.refused = refused

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address == self.refused:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"


class HangAfterData(RecordingHandler):
    """Takes the whole message, then never answers: the worker is left waiting mid-send."""

    def __init__(self) -> None:
        super().__init__()
        self.received = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.record(session, envelope)
        self.received.set()
        await asyncio.sleep(3600)  # cancelled when the server stops
        return "451 never reached"


class AfterEach(RecordingHandler):
    """Calls ``action`` (from the server's thread) once each message has been recorded."""

    def __init__(self, action: Callable[[Received], None]) -> None:
        super().__init__()
        self.action = action

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.action(self.record(session, envelope))
        return "250 2.0.0 Message accepted for delivery"


class RequireOverlap(RecordingHandler):
    """Holds the first message until another connection is in the middle of delivering too.

    Only two workers running at once can get past that; from then on everything flows. The
    wait has a guard, after which ``overlapped`` stays False and the test says so.
    """

    def __init__(self) -> None:
        super().__init__()
        self.delivering: set[int] = set()
        self.overlapped = False
        self._together: asyncio.Event | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.record(session, envelope)
        if self._together is None:
            self._together = asyncio.Event()
        self.delivering.add(id(session))
        if len(self.delivering) >= 2:
            self.overlapped = True
            self._together.set()
        if not self.overlapped:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._together.wait(), GUARD_SECONDS)
        self.delivering.discard(id(session))
        return "250 2.0.0 Message accepted for delivery"


class SMTPServer:
    """aiosmtpd in a thread on a loopback port (a free one unless ``port`` is given).

    With aiosmtpd's own limits, as a strict server has them: a line of the message longer than
    998 octets is answered ``500 Line too long``.
    """

    def __init__(self, handler: RecordingHandler | None = None, port: int | None = None) -> None:
        self.handler = handler or RecordingHandler()
        self.port = port or free_port()
        self.controller = Controller(self.handler, hostname=HOST, port=self.port)

    @property
    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.messages)

    def start(self) -> SMTPServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> SMTPServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class SilentServer:
    """Accepts TCP connections and then says nothing at all, not even a greeting."""

    def __init__(self, port: int = 0) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((HOST, port))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                connection, _address = self.listener.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def __enter__(self) -> SilentServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        # shutdown() wakes the accept() blocked in the other thread; close() alone does not.
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for connection in self.accepted:
            connection.close()
        self.thread.join(GUARD_SECONDS)


@dataclass
class MailSettings:
    """How a separate ``crm`` process reaches the test's database and SMTP server."""

    database_url: str
    instance: Path
    port: int
    extra: dict[str, str] = field(default_factory=dict)

    def env(self, **overrides: object) -> dict[str, str]:
        env = {name: value for name, value in os.environ.items() if not name.startswith("CRM_")}
        env.update(
            {
                "CRM_SQLALCHEMY_DATABASE_URI": self.database_url,
                "CRM_INSTANCE_PATH": str(self.instance),
                "CRM_SECRET_KEY": "test-secret-key",
                "CRM_SITE_URL": "http://clinic.test",
                "CRM_MAIL_SERVER": HOST,
                "CRM_MAIL_PORT": str(self.port),
                "CRM_MAIL_DEFAULT_SENDER": SENDER,
                "CRM_MAIL_TIMEOUT": "2",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra)
        env.update({f"CRM_{name}": str(value) for name, value in overrides.items()})
        return env


def crm_executable() -> str:
    """The ``crm`` console script installed next to the running interpreter."""
    script = Path(sys.executable).with_name("crm")
    assert script.exists(), f"{script} is missing; run `make install`"
    return str(script)


def crm_process(settings: MailSettings, *args: str, **overrides: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [crm_executable(), *args],
        env=settings.env(**overrides),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_crm(settings: MailSettings, *args: str, **overrides: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [crm_executable(), *args],
        env=settings.env(**overrides),
        capture_output=True,
        text=True,
        timeout=GUARD_SECONDS,
        check=False,
    )


def deliver(runner: FlaskCliRunner, server: SMTPServer) -> list[Received]:
    """Run the outbox worker once (``crm outbox send``) and answer what the server received."""
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    return server.messages
