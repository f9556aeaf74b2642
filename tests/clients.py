"""External clients the suite drives for real (Chromium, LibreOffice): where to find them, and
what a test does when one is missing.

Locally a missing client skips the test with the reason. A run that must not skip (CI sets
``CRM_REQUIRE_CLIENTS=1``; ``CRM_REQUIRE_BROWSER=1``, its older name, still counts) fails it
instead, so a machine without the client can never pass those tests silently.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import NoReturn

import pytest

REQUIRE_SETTINGS = ("CRM_REQUIRE_CLIENTS", "CRM_REQUIRE_BROWSER")


def required_by(environ: Mapping[str, str] = os.environ) -> str | None:
    """The setting that forbids skipping a test for want of a client, if one is set."""
    return next((name for name in REQUIRE_SETTINGS if environ.get(name) == "1"), None)


def missing_client(reason: str, environ: Mapping[str, str] = os.environ) -> NoReturn:
    """Skip the test with ``reason``, or fail it when the run requires every client."""
    setting = required_by(environ)
    if setting:
        pytest.fail(f"{reason} {setting}=1 forbids skipping.", pytrace=False)
    pytest.skip(reason)


def find_client(
    configured: str,
    default_paths: Sequence[str],
    missing: str,
    environ: Mapping[str, str] = os.environ,
) -> str:
    """The client's executable: the path in the ``configured`` environment variable, else the
    first of ``default_paths`` that exists; otherwise the test skips or fails with ``missing``."""
    for candidate in (environ.get(configured), *default_paths):
        if candidate and os.path.exists(candidate):
            return candidate
    missing_client(missing, environ)
