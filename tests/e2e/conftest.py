"""A real Chromium (Debian's, never a downloaded build) driven by Playwright, and where the
screenshots of each journey's last step go.

Without Chromium the browser tests are skipped with the reason; where the run requires its
clients (``CRM_REQUIRE_CLIENTS=1``, as CI sets it, or ``CRM_REQUIRE_BROWSER=1``) they fail
instead, so a machine without a browser can never pass them silently (see tests/clients.py).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from tests.clients import find_client

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
PHONE_VIEWPORT = {"width": 390, "height": 844}
REPO_ROOT = Path(__file__).resolve().parents[2]

MISSING_CHROMIUM = (
    "Browser tests need Chromium: install it (apt-get install chromium) "
    "or set CRM_TEST_CHROMIUM to a Chromium binary."
)


def chromium_path(
    environ: Mapping[str, str] = os.environ, default_paths: Sequence[str] = CHROMIUM_PATHS
) -> str:
    """The Chromium to drive; skips the test when there is none, or fails it when the run
    requires its clients."""
    return find_client("CRM_TEST_CHROMIUM", default_paths, MISSING_CHROMIUM, environ)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def artifacts_dir() -> Path:
    configured = os.environ.get("CRM_TEST_ARTIFACTS")
    folder = Path(configured) if configured else REPO_ROOT / "test-artifacts" / "e2e"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[..., Path]:
    """Saves a full-page PNG named after the test, for a person to look at after the run."""

    def save(page, suffix: str = "") -> Path:  # type: ignore[no-untyped-def]
        name = re.sub(r"[^\w.-]+", "-", request.node.name).strip("-")
        target = artifacts_dir() / f"{name}{'-' + suffix if suffix else ''}.png"
        page.screenshot(path=str(target), full_page=True)
        return target

    return save
