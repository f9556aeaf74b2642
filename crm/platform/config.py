"""Configuration: defaults, then ``CRM_*`` environment variables, then explicit overrides.

Every key below can be set from the environment as ``CRM_<KEY>``; values are parsed as JSON
when they look like JSON (``CRM_MAIL_PORT=587`` is an int, ``CRM_RATELIMIT_ENABLED=false`` a bool).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

DEFAULTS: dict[str, Any] = {
    # "development" or "production"; production refuses to start without CRM_SECRET_KEY.
    "ENV": "development",
    "SECRET_KEY": None,
    "CLINIC_NAME": "Physiotattva",
    # Absolute base of links in emails (there is no request to build them from in the worker).
    "SITE_URL": "http://127.0.0.1:5000",
    # Host names requests may carry besides SITE_URL's own (JSON list; ".example.org" takes
    # every subdomain). Any other Host header is a 400: redirects and links are built from it.
    # Outside production, localhost and 127.0.0.1 are accepted too.
    "TRUSTED_HOSTS": [],
    "PRIVACY_CONTACT_EMAIL": "privacy@physiotattva.example",
    # Database: None means SQLite in the instance folder.
    "SQLALCHEMY_DATABASE_URI": None,
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    # How long a write waits for the database's lock before the request gives up with a 503
    # (SQLite's busy timeout; PostgreSQL's lock_timeout).
    "DATABASE_LOCK_TIMEOUT_MS": 5000,
    # Requests: the reach-out form is a few kilobytes; nothing we accept is larger than this.
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "MAX_FORM_MEMORY_SIZE": 64 * 1024,
    "MAX_FORM_PARTS": 100,
    # CSRF tokens outlive a long read of an article; an expired one keeps the visitor's input.
    "WTF_CSRF_TIME_LIMIT": 12 * 3600,
    "WTF_CSRF_SSL_STRICT": True,
    # The version of the consent text shown next to the checkbox; stored on every enquiry.
    "CONSENT_VERSION": "2026-11-01",
    # Mail (Flask-Mail reads MAIL_*); with no MAIL_SERVER, emails wait in the outbox.
    "MAIL_SERVER": None,
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USE_SSL": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_DEFAULT_SENDER": "Physiotattva <no-reply@physiotattva.example>",
    # Seconds any one SMTP operation may wait: a server that stops answering frees the worker.
    "MAIL_TIMEOUT": 30,
    # Only the outbox worker talks to SMTP; tests point MAIL_SERVER at their own server instead
    # of relying on Flask-Mail's habit of silently dropping mail whenever TESTING is on.
    "MAIL_SUPPRESS_SEND": False,
    # Outbox worker: a failed send is retried after base * 2^(attempt-1) seconds (capped),
    # then marked failed after the last attempt (about a day with these values).
    "OUTBOX_BATCH_SIZE": 20,
    "OUTBOX_MAX_ATTEMPTS": 14,
    "OUTBOX_RETRY_BASE_SECONDS": 60,
    "OUTBOX_RETRY_MAX_SECONDS": 4 * 3600,
    # A row left in "sending" this long (its worker died) is claimed again: a possible
    # duplicate, never a loss. Keep it well above MAIL_TIMEOUT.
    "OUTBOX_LEASE_SECONDS": 300,
    # How often `crm outbox send --loop` looks for due mail.
    "OUTBOX_POLL_SECONDS": 5,
    # The dashboard warns about mail pending longer than this, or failed within the window.
    "OUTBOX_WARN_PENDING_MINUTES": 15,
    "OUTBOX_WARN_FAILED_DAYS": 7,
    # Rate limits (Flask-Limiter reads RATELIMIT_*).
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": True,
    # Rate limits of the public form and the sign-in (Flask-Limiter syntax, ";" between limits).
    # Generous per address: many mobile users in India share one address behind carrier NAT.
    "RATELIMIT_INTAKE_PER_ADDRESS": "20 per minute;300 per day",
    "RATELIMIT_INTAKE_PER_PHONE": "5 per hour;10 per day",
    # Counting failed sign-ins only: someone who signs in right is never slowed down. One
    # address guessing at one account is stopped by the (account, address) limit, which
    # touches no one else; the per-account limit is for guessers spread over many addresses,
    # and even then the owner still gets in from an address they signed in from before.
    "RATELIMIT_LOGIN_PER_ADDRESS": "30 per 15 minutes;100 per day",
    "RATELIMIT_LOGIN_PER_ACCOUNT_ADDRESS": "10 per 15 minutes",
    "RATELIMIT_LOGIN_PER_ACCOUNT": "50 per 15 minutes;300 per day",
    # The account holder is emailed (once per window) when failures for it pass this.
    "SIGN_IN_ALERT_AFTER": "10 per 15 minutes",
    # Known sign-in addresses kept per person (keyed hashes, most recent first).
    "SIGN_IN_ADDRESSES_KEPT": 10,
    # Spam defence.
    "FORM_MIN_FILL_SECONDS": 3,
    "MESSAGE_MAX_LINKS": 2,
    # How many reverse proxies in front of the app may set X-Forwarded-*.
    "TRUSTED_PROXIES": 0,
    # /healthz shows its figures (database, outbox backlog) to callers on this machine and to
    # monitors sending "Authorization: Bearer <token>"; everyone else sees only up or down.
    "HEALTH_TOKEN": None,
    # Staff sessions.
    "SESSION_IDLE_MINUTES": 60,
    "SESSION_ABSOLUTE_HOURS": 12,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # Staff workflow.
    "RESPONSE_TARGET_MINUTES": 120,
    "INBOX_PAGE_SIZE": 50,
    # Page views are added up in memory and written in one batch at most this often per worker:
    # a crash loses at most this many seconds of counts.
    "PAGE_VIEW_FLUSH_SECONDS": 60,
    # Exports: rows fetched and written per batch. Memory is a few batches whatever the total;
    # a batch small enough to stay in the CPU's cache exported a million rows fastest
    # (500: a third quicker than 2000; 200: a tenth quicker than 500; bench/export_bench.py).
    "EXPORT_BATCH_ROWS": 200,
    # Export records per page on /staff/exports.
    "EXPORT_RECORDS_PAGE_SIZE": 50,
    # Backups (`crm db backup`): None means "backups" in the instance folder. The newest is
    # kept with the BACKUP_KEEP - 1 before it; older ones are removed after each backup.
    "BACKUP_DIR": None,
    "BACKUP_KEEP": 14,
    # PostgreSQL: the folder holding pg_dump and pg_restore of the server's major version
    # (e.g. /usr/lib/postgresql/15/bin); None means whichever the PATH finds.
    "BACKUP_PG_BIN_DIR": None,
    # Privacy.
    "RETENTION_DAYS": 180,
    "OUTBOX_SENT_RETENTION_DAYS": 30,
}


class ConfigError(RuntimeError):
    """The configuration cannot run safely; the message says what to set."""


def load_config(app: Flask, overrides: Mapping[str, Any] | None = None) -> None:
    """Fill ``app.config`` from defaults, the ``CRM_`` environment, then ``overrides``."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("CRM")
    if overrides:
        app.config.from_mapping(overrides)

    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)

    if app.config["SQLALCHEMY_DATABASE_URI"] is None:
        database = Path(app.instance_path) / "crm.sqlite3"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{database}"

    if app.config["ENV"] == "production":
        if not app.config["SECRET_KEY"]:
            raise ConfigError(
                "CRM_SECRET_KEY must be set when CRM_ENV=production "
                '(for example: python -c "import secrets; print(secrets.token_hex(32))").'
            )
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config.setdefault("PREFERRED_URL_SCHEME", "https")
    elif not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _development_secret(Path(app.instance_path))


LOOPBACK_HOSTS = ("localhost", "127.0.0.1")


def trusted_hosts(config: Mapping[str, Any]) -> list[str]:
    """SITE_URL's host, the configured others, and loopback outside production.

    Flask checks every request's Host header against the list (a 400 otherwise), so a forged
    Host can never end up in a redirect or a link that a shared cache keeps.
    """
    site_host = urlsplit(str(config["SITE_URL"])).hostname
    if not site_host:
        raise ConfigError(f"CRM_SITE_URL must be an absolute URL, not {config['SITE_URL']!r}.")
    extra = config["TRUSTED_HOSTS"] or []
    if isinstance(extra, str) or not all(isinstance(host, str) and host for host in extra):
        raise ConfigError(
            'CRM_TRUSTED_HOSTS must be a JSON list of host names, e.g. ["www.example.org"].'
        )
    hosts = [site_host, *(host.strip().lower() for host in extra)]
    if config["ENV"] != "production":
        hosts.extend(LOOPBACK_HOSTS)
    return list(dict.fromkeys(hosts))


def _development_secret(instance: Path) -> str:
    """Generate a secret once per instance folder so sessions survive restarts in development."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        # Written aside, then linked into place: a worker starting alongside never reads half a key.
        draft = instance / f".secret_key.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()
